// Money as integer minor units plus an ISO currency code; allocation by largest remainder.

export const currencies = ["USD", "EUR"] as const;
export type Currency = (typeof currencies)[number];

export interface Money {
  amount: number;
  currency: Currency;
}

/** Minor units per major unit; both supported currencies use cents. */
const minorUnitDigits: Record<Currency, number> = { USD: 2, EUR: 2 };

const formatters = new Map<string, Intl.NumberFormat>();

export function format(money: Money, locale = "en-US"): string {
  const key = `${locale}:${money.currency}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat(locale, { style: "currency", currency: money.currency });
    formatters.set(key, formatter);
  }
  return formatter.format(money.amount / 10 ** minorUnitDigits[money.currency]);
}

export function assertMinorUnits(amount: number): void {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`Money amounts are integer minor units, got ${amount}`);
}

export function sum(amounts: readonly number[]): number {
  let total = 0;
  for (const amount of amounts) {
    assertMinorUnits(amount);
    total += amount;
  }
  assertMinorUnits(total);
  return total;
}

/**
 * Multiplies an amount by a rate given in basis points (1/100 of a percent) and rounds half up,
 * using integers only so the result is exact and identical on every machine.
 */
export function applyBasisPoints(amount: number, basisPoints: number): number {
  assertMinorUnits(amount);
  if (!Number.isInteger(basisPoints) || basisPoints < 0) throw new RangeError(`Basis points must be a non-negative integer, got ${basisPoints}`);
  const product = amount * basisPoints;
  assertMinorUnits(product);
  const sign = product < 0 ? -1 : 1;
  return sign * Math.floor((Math.abs(product) + 5000) / 10000);
}

/**
 * Splits `total` in proportion to `weights` with the largest-remainder method: every part is an
 * integer and the parts always add up to exactly `total`. Ties go to the earlier weight.
 */
export function allocate(total: number, weights: readonly number[]): number[] {
  assertMinorUnits(total);
  if (weights.length === 0) {
    if (total !== 0) throw new RangeError("Cannot allocate a non-zero amount across no weights");
    return [];
  }
  for (const weight of weights) {
    if (!Number.isSafeInteger(weight) || weight < 0) throw new RangeError(`Weights must be non-negative integers, got ${weight}`);
  }
  const weightSum = sum(weights);
  if (weightSum === 0) {
    // Nothing to be proportional to: spread evenly.
    return allocate(
      total,
      weights.map(() => 1),
    );
  }
  const sign = total < 0 ? -1 : 1;
  const magnitude = Math.abs(total);
  const parts = weights.map((weight) => {
    // BigInt keeps magnitude * weight exact beyond 2^53.
    const exact = BigInt(magnitude) * BigInt(weight);
    const floor = exact / BigInt(weightSum);
    return { floor: Number(floor), remainder: Number(exact - floor * BigInt(weightSum)) };
  });
  let leftover = magnitude - sum(parts.map((part) => part.floor));
  const order = parts.map((part, index) => ({ index, remainder: part.remainder })).sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  const result = parts.map((part) => part.floor);
  for (const { index } of order) {
    if (leftover === 0) break;
    result[index] = (result[index] ?? 0) + 1;
    leftover -= 1;
  }
  return result.map((part) => sign * part);
}
