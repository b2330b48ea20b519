// What the shopper typed at checkout (contact, address, an unapplied promo code), kept per cart for the tab's
// session so a reload or a trip back to the cart loses nothing. Never anything of the card: that stays in its frame.
import { emptyValues, fieldNames, type FormValues } from "./address-form.ts";

const PREFIX = "checkout.draft.";

export interface CheckoutDraft {
  values: FormValues;
  promoCode: string;
}

function keyOf(cartId: string): string {
  return `${PREFIX}${cartId}`;
}

export function readCheckoutDraft(cartId: string): CheckoutDraft | null {
  try {
    const parsed: unknown = JSON.parse(window.sessionStorage.getItem(keyOf(cartId)) ?? "null");
    if (typeof parsed !== "object" || parsed === null) return null;
    const record = parsed as { values?: Record<string, unknown>; promoCode?: unknown };
    const values = { ...emptyValues };
    for (const name of fieldNames) {
      const value = record.values?.[name];
      if (typeof value === "string") values[name] = value.slice(0, 200);
    }
    return { values, promoCode: typeof record.promoCode === "string" ? record.promoCode.slice(0, 32) : "" };
  } catch {
    return null;
  }
}

export function writeCheckoutDraft(cartId: string, draft: CheckoutDraft): void {
  try {
    window.sessionStorage.setItem(keyOf(cartId), JSON.stringify(draft));
  } catch {
    // Without storage a reload loses what was typed; the saved address still comes back with the cart.
  }
}

export function clearCheckoutDraft(cartId: string): void {
  try {
    window.sessionStorage.removeItem(keyOf(cartId));
  } catch {
    // Nothing stored.
  }
}
