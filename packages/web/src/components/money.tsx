// An amount in minor units, rendered in the cart's currency and the shopper's language ("12,50 €" for a German reader).
import { formatMoney } from "../lib/format.ts";

export function Money({ amount, currency, testId }: { amount: number; currency: string; testId?: string }) {
  return (
    <span className="money" data-testid={testId}>
      {formatMoney(amount, currency)}
    </span>
  );
}
