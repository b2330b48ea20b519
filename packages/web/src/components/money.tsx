// An amount in minor units, rendered in the shopper's locale.
import { formatMoney } from "../lib/money.ts";

export function Money({ amount, currency, testId }: { amount: number; currency: string; testId?: string }) {
  return (
    <span className="money" data-testid={testId}>
      {formatMoney(amount, currency)}
    </span>
  );
}
