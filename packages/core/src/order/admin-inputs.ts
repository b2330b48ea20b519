// What operators send to the order screens, as zod schemas (the API validates with them), and who is acting.
import { z } from "zod";
import { EmailSchema, IdSchema, SINGLE_LINE_TEXT, STORABLE_TEXT, orderStatuses } from "../schemas.ts";

const reason = z
  .string()
  .trim()
  .min(3, "Give a reason of at least 3 characters")
  .max(500, "A reason is at most 500 characters")
  .regex(STORABLE_TEXT, "A reason cannot contain a NUL character or half of a surrogate pair");

export const ListInput = z.strictObject({
  query: z.string().trim().min(1).max(254).regex(SINGLE_LINE_TEXT, "Search for an order number or part of an email address").optional(),
  status: z.enum(orderStatuses).optional(),
  email: EmailSchema.optional(),
  limit: z.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
export const GetInput = z.strictObject({ orderId: IdSchema });
export const CancelInput = z.strictObject({ orderId: IdSchema, reason });
export const RefundInput = z.strictObject({
  orderId: IdSchema,
  amount: z.number().int("amount is in minor units (cents), a whole number").positive("amount must be positive").max(Number.MAX_SAFE_INTEGER),
  reason,
});
export const FulfilInput = z.strictObject({ orderId: IdSchema });

/** Who is acting and from where, for the audit record. */
export interface Acting {
  actor: string;
  origin: { ip?: string; userAgent?: string };
}
