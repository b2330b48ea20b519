// The shopper's words for a quantity the shop cannot take: checked here before anything is sent, and the server's typed
// answers (BAD_INPUT on the quantity, OUT_OF_STOCK, QUANTITY_LIMIT) said the same way, never the schema's own text.
// It imports nothing at run time (the caller reads the error with describeError), so it can be a file of its own.
import type { AppErrorInfo } from "./errors.ts";

/** The most of one item a cart line holds (core's MAX_LINE_QUANTITY, kept here so this file pulls in no schemas). */
export const MAX_OF_ONE_ITEM = 99;

const atMost = (count: number) => `You can buy at most ${count} of one item`;
const onlyLeft = (available: number) => (available === 0 ? "This item is sold out" : `Only ${available} left: enter ${available} or fewer`);

/**
 * What is wrong with a typed quantity of an item with `available` units for sale, of which one order may take
 * `maxPerOrder` (the shop's limits, as the API tells them: a variant's maxPerOrder, a cart line's maxQuantity), or null
 * when it can be asked for.
 */
export function quantityProblem(text: string, available: number, tooFew = "Enter a quantity of at least 1", maxPerOrder = MAX_OF_ONE_ITEM): string | null {
  const quantity = Number(text);
  if (text.trim() === "" || !Number.isInteger(quantity) || quantity < 1) return tooFew;
  if (quantity > MAX_OF_ONE_ITEM) return atMost(MAX_OF_ONE_ITEM);
  if (quantity > available) return onlyLeft(available);
  if (quantity > maxPerOrder) return `${atMost(maxPerOrder)} per order`;
  return null;
}

function numberIn(details: Record<string, unknown>, key: string): number | null {
  const value = details[key];
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The server's answer to a quantity (add to cart, change a line), read by describeError, in the shopper's words. */
export function quantityErrorMessage(info: AppErrorInfo, requested: number): string {
  if (info.code === "BAD_INPUT" && info.issues.some((issue) => /quantity/i.test(issue.path))) {
    return quantityProblem(String(requested), Number.POSITIVE_INFINITY) ?? atMost(MAX_OF_ONE_ITEM);
  }
  if (info.code === "OUT_OF_STOCK") {
    const available = numberIn(info.details, "available");
    if (available !== null) return onlyLeft(available);
  }
  if (info.code === "QUANTITY_LIMIT") {
    const maxAllowed = numberIn(info.details, "maxAllowed");
    const perCart = numberIn(info.details, "maxUnitsPerCart");
    if (maxAllowed !== null && perCart !== null) return `An order holds at most ${perCart} items: you can have ${maxAllowed} of this one`;
    if (maxAllowed !== null && info.details.limit === "stock_share") return `So few are left that one order can take at most ${maxAllowed}`;
    if (maxAllowed !== null) return `${atMost(maxAllowed)} per order`;
  }
  return info.message;
}
