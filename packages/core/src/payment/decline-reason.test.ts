// The shopper-facing decline categories: named only where a real cardholder can act, plain otherwise.
import { describe, expect, it } from "vitest";
import { forShopper } from "./decline-reason.ts";

describe("forShopper", () => {
  it("names insufficient funds, an expired card, a wrong security code and a wrong number", () => {
    expect(forShopper("insufficient_funds")).toEqual({ code: "insufficient_funds", message: "Your card has insufficient funds." });
    expect(forShopper("expired_card").code).toBe("expired_card");
    expect(forShopper("incorrect_cvc").code).toBe("incorrect_cvc");
    expect(forShopper("invalid_cvc").code).toBe("incorrect_cvc");
    expect(forShopper("incorrect_number").code).toBe("incorrect_number");
  });

  it("reads every code that would help a card tester as a plain decline", () => {
    for (const code of ["card_declined", "stolen_card", "lost_card", "fraudulent", "pickup_card", "do_not_honor", "restricted_card", "unknown", ""]) {
      expect(forShopper(code)).toEqual({ code: "card_declined", message: "Your card was declined." });
    }
  });

  it("is not fooled by codes that name properties of a plain object", () => {
    for (const code of ["constructor", "toString", "__proto__", "hasOwnProperty"]) expect(forShopper(code).code).toBe("card_declined");
  });
});
