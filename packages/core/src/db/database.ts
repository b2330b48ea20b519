// The one Database interface for Kysely, and row types per table (Selectable/Insertable/Updateable).
import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction, Updateable } from "kysely";
import type { Currency } from "../money.ts";
import type { OrderStatus, PaymentStatus, RefundStatus } from "../schemas.ts";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** jsonb comes back parsed; it goes in as a JSON string. */
type Json<T> = ColumnType<T, string, string>;
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;

export interface ProductTable {
  id: string;
  name: string;
  description: string;
  category: string;
  image: string;
  position: number;
  created_at: Generated<Date>;
}

export interface VariantTable {
  sku: string;
  product_id: string;
  name: string;
  options: Json<Record<string, string>>;
  weight_grams: number;
  position: number;
  /** This variant's own picture (a colour); null shows the product's. */
  image: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface PriceTable {
  sku: string;
  currency: string;
  amount: number;
}

export interface InventoryTable {
  sku: string;
  /** Units that can still be sold; a CHECK constraint keeps it at or above zero. */
  available: number;
  /** Units ever put on sale (set from `available` on insert; a restock raises both): available + units held by live orders equals it. */
  stock_received: Generated<number>;
  updated_at: Generated<Date>;
}

export interface CartTable {
  id: string;
  currency: string;
  status: "open" | "completed";
  email: string | null;
  shipping_address: NullableJson<Record<string, unknown>>;
  shipping_option_id: string | null;
  promo_code: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface CartLineTable {
  id: string;
  cart_id: string;
  sku: string;
  quantity: number;
  created_at: Generated<Date>;
}

export interface QuoteTable {
  id: string;
  cart_id: string;
  currency: string;
  subtotal: number;
  shipping: number;
  tax: number;
  discount: Generated<number>;
  total: number;
  /** The full priced cart the shopper confirmed; placeOrder compares against it. */
  snapshot: Json<Record<string, unknown>>;
  expires_at: Timestamp;
  created_at: Generated<Date>;
}

export interface OrderTable {
  id: string;
  number: Generated<string>;
  cart_id: string;
  quote_id: string;
  status: OrderStatus;
  email: string;
  shipping_address: Json<Record<string, unknown>>;
  shipping_option: Json<Record<string, unknown>>;
  currency: Currency;
  subtotal: number;
  shipping: number;
  tax: number;
  discount: Generated<number>;
  total: number;
  promo_code: string | null;
  /** Prices include tax (EUR): tax is the part of the total that is tax, not added on top. */
  tax_inclusive: Generated<boolean>;
  /** A pending order's stock is held until then; the reconciler releases it afterwards. */
  reservation_expires_at: Timestamp | null;
  /** SHA-256 (hex) of the payment token the order was placed with — never the token — so a retry of the same attempt can be recognised. */
  payment_token_hash: string | null;
  /** While set and in the future, one request is calling the provider for this order: retries and the reconciler keep off. */
  authorizing_until: Timestamp | null;
  /** When retention erased the order's email and address (ORDER_PERSONAL_DATA_RETENTION_DAYS); null while they are kept. */
  personal_data_erased_at: Timestamp | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface OrderLineTable {
  id: Generated<string>;
  order_id: string;
  position: number;
  sku: string;
  product_name: string;
  variant_name: string;
  unit_price: number;
  quantity: number;
  line_total: number;
  tax: number;
  discount: Generated<number>;
}

export interface PaymentTable {
  id: string;
  order_id: string;
  provider: string;
  provider_reference: string | null;
  status: PaymentStatus;
  amount: number;
  currency: Currency;
  card_brand: string | null;
  card_last4: string | null;
  decline_code: string | null;
  captured_amount: Generated<number>;
  refunded_amount: Generated<number>;
  /** Where the shopper completes a 3-D Secure challenge while the payment requires action. */
  next_action_url: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** One refund of a captured payment; its id is the provider idempotency key (stored before the provider is called). */
export interface RefundTable {
  id: string;
  order_id: string;
  payment_id: string;
  amount: number;
  status: Generated<RefundStatus>;
  provider_refund_id: string | null;
  /** While in the future, one request is calling the provider for this refund; a claim left by a crash runs out. */
  claimed_until: Timestamp | null;
  reason: string;
  actor: string;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AuditLogTable {
  id: Generated<string>;
  entity: string;
  entity_id: string;
  action: string;
  data: Json<Record<string, unknown>>;
  actor: Generated<string>;
  outcome: Generated<string>;
  origin: ColumnType<Record<string, unknown>, string | undefined, string>;
  /** Place in the hash chain; seq, prev_hash and hash are filled by the database when the writing transaction commits. */
  seq: ColumnType<number | null, never, never>;
  prev_hash: ColumnType<string | null, never, never>;
  hash: ColumnType<string | null, never, never>;
  created_at: Generated<Date>;
}

export interface IdempotencyKeyTable {
  id: Generated<string>;
  /** Keys are scoped: the same key from two carts never collides. */
  scope: string;
  key: string;
  fingerprint: string;
  status: "in_progress" | "completed";
  response_status: number | null;
  response_body: string | null;
  locked_until: Timestamp | null;
  created_at: Generated<Date>;
  expires_at: Timestamp;
}

export interface PromotionTable {
  id: string;
  code: string;
  description: Generated<string>;
  kind: "percentage" | "fixed";
  percent_basis_points: number | null;
  amount: number | null;
  currency: string | null;
  min_subtotal: Generated<number>;
  starts_at: Timestamp | null;
  ends_at: Timestamp | null;
  usage_limit: number | null;
  used_count: Generated<number>;
  per_customer_limit: number | null;
  is_active: Generated<boolean>;
  created_at: Generated<Date>;
}

export interface PromotionRedemptionTable {
  id: Generated<string>;
  promotion_id: string;
  order_id: string;
  email: string;
  amount: number;
  created_at: Generated<Date>;
}

export interface OutboxEventTable {
  id: string;
  type: string;
  aggregate_id: string;
  payload: Json<Record<string, unknown>>;
  created_at: Generated<Date>;
  dispatched_at: Timestamp | null;
}

export interface OutboxDeliveryTable {
  id: Generated<string>;
  event_id: string;
  target: string;
  status: "pending" | "delivered" | "failed";
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  last_error: string | null;
  delivered_at: Timestamp | null;
}

export interface PaymentWebhookEventTable {
  id: string;
  type: string;
  payload: Json<Record<string, unknown>>;
  received_at: Generated<Date>;
  processed_at: Timestamp | null;
}

/** Payment attempts per key (cart, client address, email, card fingerprint): declines in the window, attempts in flight, a lock. */
export interface PaymentVelocityTable {
  scope: "cart" | "address" | "email" | "card";
  /** SHA-256 (hex) of the scope and the key: never the address, email or cart id itself. */
  key_hash: string;
  declines: Generated<number>;
  in_flight: Generated<number>;
  window_ends_at: Timestamp;
  locked_until: Timestamp | null;
  updated_at: Generated<Date>;
}

export interface Database {
  product: ProductTable;
  variant: VariantTable;
  price: PriceTable;
  inventory: InventoryTable;
  cart: CartTable;
  cart_line: CartLineTable;
  quote: QuoteTable;
  order: OrderTable;
  order_line: OrderLineTable;
  payment: PaymentTable;
  refund: RefundTable;
  audit_log: AuditLogTable;
  idempotency_key: IdempotencyKeyTable;
  promotion: PromotionTable;
  promotion_redemption: PromotionRedemptionTable;
  outbox_event: OutboxEventTable;
  outbox_delivery: OutboxDeliveryTable;
  payment_webhook_event: PaymentWebhookEventTable;
  payment_velocity: PaymentVelocityTable;
}

/** A connection or an open transaction: repositories accept either, callers own the unit of work. */
export type Db = Kysely<Database> | Transaction<Database>;

export type ProductRow = Selectable<ProductTable>;
export type NewProduct = Insertable<ProductTable>;
export type VariantRow = Selectable<VariantTable>;
export type NewVariant = Insertable<VariantTable>;
export type PriceRow = Selectable<PriceTable>;
export type InventoryRow = Selectable<InventoryTable>;
export type CartRow = Selectable<CartTable>;
export type NewCart = Insertable<CartTable>;
export type CartUpdate = Updateable<CartTable>;
export type CartLineRow = Selectable<CartLineTable>;
export type QuoteRow = Selectable<QuoteTable>;
export type NewQuote = Insertable<QuoteTable>;
export type OrderRow = Selectable<OrderTable>;
export type NewOrder = Insertable<OrderTable>;
export type OrderLineRow = Selectable<OrderLineTable>;
export type NewOrderLine = Insertable<OrderLineTable>;
export type PaymentRow = Selectable<PaymentTable>;
export type NewPayment = Insertable<PaymentTable>;
export type RefundRow = Selectable<RefundTable>;
export type PromotionRow = Selectable<PromotionTable>;
export type NewPromotion = Insertable<PromotionTable>;
export type NewAuditLog = Insertable<AuditLogTable>;
export type PaymentVelocityRow = Selectable<PaymentVelocityTable>;
