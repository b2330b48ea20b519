// The payment sandbox's documented test cards: which number does what, shown to shoppers as a hint.

export type CardBrand = "visa" | "mastercard" | "amex" | "unknown";

export type DeclineCode = "card_declined" | "insufficient_funds";

export type CardBehaviour =
  | { outcome: "approve" }
  | { outcome: "decline"; code: DeclineCode }
  /** The issuer asks for 3-D Secure: the authorisation waits for the shopper's challenge. */
  | { outcome: "three_d_secure" }
  /** Approved at once, but the answer reaches the caller only after the sandbox's slow-card delay. */
  | { outcome: "approve_slowly" };

export interface TestCard {
  number: string;
  brand: CardBrand;
  behaviour: CardBehaviour;
  description: string;
}

export const DECLINE_MESSAGES: Record<DeclineCode, string> = {
  card_declined: "Your card was declined.",
  insufficient_funds: "Your card has insufficient funds.",
};

export const TEST_CARDS: readonly TestCard[] = [
  { number: "4242424242424242", brand: "visa", behaviour: { outcome: "approve" }, description: "Succeeds" },
  { number: "5555555555554444", brand: "mastercard", behaviour: { outcome: "approve" }, description: "Succeeds" },
  {
    number: "4000000000000002",
    brand: "visa",
    behaviour: { outcome: "decline", code: "card_declined" },
    description: "Declined",
  },
  {
    number: "4000000000009995",
    brand: "visa",
    behaviour: { outcome: "decline", code: "insufficient_funds" },
    description: "Declined for insufficient funds",
  },
  {
    number: "4000002760003184",
    brand: "visa",
    behaviour: { outcome: "three_d_secure" },
    description: "Requires 3-D Secure authentication; the challenge decides",
  },
  {
    number: "4000000000000259",
    brand: "visa",
    behaviour: { outcome: "approve_slowly" },
    description: "Succeeds, but the processor answers too late (the request times out)",
  },
];

/** Any Luhn-valid number that is not a documented test card is approved. */
export function behaviourForCardNumber(digits: string): CardBehaviour {
  return TEST_CARDS.find((card) => card.number === digits)?.behaviour ?? { outcome: "approve" };
}
