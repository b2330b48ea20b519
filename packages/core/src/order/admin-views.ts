// How the operators' screens show orders and payments, and the opaque cursor of the order list.
import type { PaymentRow } from "../db/database.ts";
import { AppError } from "../error.ts";
import type { Currency } from "../money.ts";
import { IdSchema, type OrderStatus, type PaymentStatus } from "../schemas.ts";

export interface OrderSummary {
  id: string;
  number: string;
  status: OrderStatus;
  email: string;
  currency: Currency;
  total: number;
  placedAt: string;
}

export interface AdminPayment {
  id: string;
  provider: string;
  providerReference: string | null;
  status: PaymentStatus;
  amount: number;
  currency: Currency;
  capturedAmount: number;
  refundedAmount: number;
  cardBrand: string | null;
  cardLast4: string | null;
  declineCode: string | null;
  createdAt: string;
  updatedAt: string;
}

export function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString("base64url");
}

export function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    if (typeof createdAt === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(createdAt) && IdSchema.safeParse(id).success) {
      return { createdAt, id: id as string };
    }
  } catch {
    // Falls through to the error below.
  }
  throw new AppError("BAD_INPUT", "cursor: pass back the nextCursor of the previous page unchanged");
}

export function rowToAdminPayment(row: PaymentRow): AdminPayment {
  return {
    id: row.id,
    provider: row.provider,
    providerReference: row.provider_reference,
    status: row.status,
    amount: row.amount,
    currency: row.currency,
    capturedAmount: row.captured_amount,
    refundedAmount: row.refunded_amount,
    cardBrand: row.card_brand,
    cardLast4: row.card_last4,
    declineCode: row.decline_code,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
