// What a shopper is told about a declined card: a short category in our words, never the processor's own text. Codes
// that would help someone testing stolen cards (stolen, lost, fraudulent, pick-up, do-not-honour …) all read as a
// plain decline; only the ones a real cardholder can act on are named.

export interface DeclineReason {
  /** The category the API returns as details.code. */
  code: "card_declined" | "insufficient_funds" | "expired_card" | "incorrect_cvc" | "incorrect_number";
  message: string;
}

const named: Record<string, DeclineReason> = {
  insufficient_funds: { code: "insufficient_funds", message: "Your card has insufficient funds." },
  expired_card: { code: "expired_card", message: "Your card has expired." },
  incorrect_cvc: { code: "incorrect_cvc", message: "Your card's security code is incorrect." },
  invalid_cvc: { code: "incorrect_cvc", message: "Your card's security code is incorrect." },
  incorrect_number: { code: "incorrect_number", message: "Your card number is incorrect." },
  invalid_number: { code: "incorrect_number", message: "Your card number is incorrect." },
};

const generic: DeclineReason = { code: "card_declined", message: "Your card was declined." };

/** The category for a processor's decline code; anything not named is a plain "declined". */
export function forShopper(processorCode: string): DeclineReason {
  return Object.hasOwn(named, processorCode) ? named[processorCode]! : generic;
}
