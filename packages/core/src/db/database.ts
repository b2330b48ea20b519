// The one Database interface for Kysely, and row types per table (Selectable/Insertable/Updateable).
import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction, Updateable } from "kysely";

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
  updated_at: Generated<Date>;
}

export interface CartTable {
  id: string;
  currency: string;
  status: "open" | "completed";
  email: string | null;
  shipping_address: NullableJson<Record<string, unknown>>;
  shipping_option_id: string | null;
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
  status: string;
  email: string;
  shipping_address: Json<Record<string, unknown>>;
  shipping_option: Json<Record<string, unknown>>;
  currency: string;
  subtotal: number;
  shipping: number;
  tax: number;
  total: number;
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
}

export interface PaymentTable {
  id: string;
  order_id: string;
  provider: string;
  provider_reference: string | null;
  status: string;
  amount: number;
  currency: string;
  card_brand: string | null;
  card_last4: string | null;
  decline_code: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AuditLogTable {
  id: Generated<string>;
  entity: string;
  entity_id: string;
  action: string;
  data: Json<Record<string, unknown>>;
  created_at: Generated<Date>;
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
  audit_log: AuditLogTable;
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
export type NewAuditLog = Insertable<AuditLogTable>;
