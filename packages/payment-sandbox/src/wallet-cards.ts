// The sandbox wallet's saved cards: documented test cards (test-cards.ts) the wallet holds for the shopper, one for
// each outcome a shop must handle. The numbers stay in the sandbox; the sheet shows only the brand and last four digits.
import type { CardBrand } from "./test-cards.ts";

export interface WalletCard {
  /** What the sheet sends back when the shopper picks this card. */
  id: string;
  number: string;
  brand: CardBrand;
  label: string;
  /** What the card does, shown under it. */
  note: string;
}

export const WALLET_CARDS: readonly WalletCard[] = [
  { id: "visa-4242", number: "4242424242424242", brand: "visa", label: "Visa ending 4242", note: "Pays" },
  { id: "mastercard-4444", number: "5555555555554444", brand: "mastercard", label: "Mastercard ending 4444", note: "Pays" },
  { id: "visa-0002", number: "4000000000000002", brand: "visa", label: "Visa ending 0002", note: "Declined by the bank" },
  { id: "visa-3184", number: "4000002760003184", brand: "visa", label: "Visa ending 3184", note: "Asks for 3-D Secure" },
];

/** Saved cards never expire: they are checked as valid until the end of three years from now. */
export function walletCardExpiry(now: Date): { expMonth: number; expYear: number } {
  return { expMonth: 12, expYear: now.getUTCFullYear() + 3 };
}

export function findWalletCard(id: unknown): WalletCard | null {
  return typeof id === "string" ? (WALLET_CARDS.find((card) => card.id === id) ?? null) : null;
}
