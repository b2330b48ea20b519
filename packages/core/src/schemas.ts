// Zod schemas and types shared by the API (input validation) and the web app (form validation).
// Browser-safe: imports nothing but zod and the pure money helpers.
import { z } from "zod";
import { currencies, type Currency } from "./money.ts";
import {
  addressFormats,
  type CountryAddressFormat,
  type CountryCode,
  countryCodes,
  defaultCountryFor,
  formatAddressLines,
  isCountryCode,
  localityFieldsOf,
} from "./address-format.ts";
import { isUsState, isZipInState, statesOfZip, US_STATE_NAMES, US_STATES, type UsState } from "./us-states.ts";

export { currencies, type Currency };

export const CurrencySchema = z.enum(currencies, { message: "Currency must be one of USD, EUR" });

/** Server-generated identifiers are UUIDs; anything else cannot name a cart, line, quote or order. */
export const IdSchema = z.uuid({ message: "Expected an id as issued by this service (a UUID)" });

export const SkuSchema = z
  .string()
  .min(1, "Choose a product variant (SKU)")
  .max(64, "A SKU is at most 64 characters")
  .regex(/^[A-Z0-9][A-Z0-9-]*$/, "A SKU uses capital letters, digits and dashes");

export const ProductIdSchema = z
  .string()
  .min(1, "Name a product")
  .max(64, "A product id is at most 64 characters")
  .regex(/^[a-z0-9][a-z0-9-]*$/, "A product id uses lower-case letters, digits and dashes");

export const MAX_LINE_QUANTITY = 99;
export const MAX_CART_LINES = 50;

export const QuantitySchema = z
  .number({ message: "Quantity must be a number" })
  .int("Quantity must be a whole number")
  .min(1, "Quantity must be at least 1")
  .max(MAX_LINE_QUANTITY, `Quantity can be at most ${MAX_LINE_QUANTITY} per line`);

export const EmailSchema = z
  .string()
  .trim()
  .max(254, "An email address is at most 254 characters")
  .pipe(z.email({ message: "Enter a valid email address, like name@example.com" }));

/** Every country the shop ships to, with its address format (fields, labels, postcode pattern, print layout). */
export const countries = addressFormats;
export { addressFormats, countryCodes, defaultCountryFor, formatAddressLines, isCountryCode, localityFieldsOf, type CountryAddressFormat, type CountryCode };
export const CountrySchema = z.enum(countryCodes, {
  message: `We ship to ${countryCodes.join(", ")}; choose one of them`,
});

export { isZipInState, statesOfZip, US_STATE_NAMES, US_STATES, type UsState };

/**
 * Text a person types on one line: no control characters (NUL, escape sequences, line breaks) and no
 * half of a surrogate pair. PostgreSQL stores neither NUL nor, in jsonb, a lone surrogate: refused here,
 * they are a 400 naming the field instead of a 500 from the database.
 */
export const SINGLE_LINE_TEXT = /^[^\p{Cc}\p{Cs}]*$/u;
/** Text over several lines (a reason): line breaks and tabs are fine; NUL and half a surrogate pair are not, for the same reason. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is the one control character PostgreSQL cannot store, so this pattern must name it
export const STORABLE_TEXT = /^[^\u0000\p{Cs}]*$/u;
const unreadable = (label: string) => `${label} contains a character we cannot take (a control character or half of an emoji)`;

/** A required line of text; `missing` says what to do when it is empty ("Enter your full name"). */
const text = (label: string, max: number, missing: string) =>
  z.string({ message: missing }).trim().min(1, missing).max(max, `${label} is at most ${max} characters`).regex(SINGLE_LINE_TEXT, unreadable(label));

/** A line of text whose label and whether it is required depend on the country (checked in AddressSchema's refinement). */
const countryText = (label: string, max: number, missing: string) =>
  z.string({ message: missing }).trim().max(max, `${label} is at most ${max} characters`).regex(SINGLE_LINE_TEXT, unreadable(label));

const optionalText = (label: string, max: number) => z.string().trim().max(max, `${label} is at most ${max} characters`).regex(SINGLE_LINE_TEXT, unreadable(label)).optional();

/** "ZIP code", "town or city": a field's label as a sentence says it (an initialism keeps its capitals). */
const inSentence = (label: string) => (/^[A-Z]{2}/.test(label) ? label : label.toLowerCase());
const aLabel = (label: string) => `a ${inSentence(label)}`;

export const AddressSchema = z
  .strictObject({
    name: text("Full name", 100, "Enter your full name"),
    line1: text("Address line 1", 120, "Enter address line 1, usually the building and street"),
    line2: optionalText("Address line 2", 120),
    city: countryText("City", 80, "Enter a city"),
    region: optionalText("State, county or province", 80),
    postalCode: countryText("Postcode or ZIP code", 16, "Enter a postcode or ZIP code"),
    country: CountrySchema,
    phone: z
      .string()
      .trim()
      .max(32, "Phone is at most 32 characters")
      .regex(/^[+0-9 ()-]*$/, "A phone number uses digits, spaces, +, ( ) and -")
      .optional(),
  })
  .superRefine((address, ctx) => {
    if (!isCountryCode(address.country)) return;
    const format = addressFormats[address.country] as CountryAddressFormat;
    // Each message uses the label the form shows for the field in this country ("Enter a ZIP code", "Enter a postcode").
    if (format.city.required && address.city === "") {
      ctx.addIssue({ code: "custom", path: ["city"], message: `Enter ${aLabel(format.city.label)}` });
    }
    const postalCode = address.postalCode;
    if (postalCode === "") {
      if (format.postalCode.required) ctx.addIssue({ code: "custom", path: ["postalCode"], message: `Enter ${aLabel(format.postalCode.label)}` });
    } else if (!format.postcode.test(postalCode)) {
      ctx.addIssue({
        code: "custom",
        path: ["postalCode"],
        message: `Enter a valid ${format.name} ${inSentence(format.postalCode.label)}, for example ${format.example}`,
      });
    }
    if (format.region?.isUsState) {
      const region = address.region?.toUpperCase() ?? "";
      if (region === "") {
        ctx.addIssue({ code: "custom", path: ["region"], message: "Choose a state" });
      } else if (!isUsState(region)) {
        ctx.addIssue({ code: "custom", path: ["region"], message: "Choose a state: its two-letter code, for example CA" });
      } else if (format.postcode.test(postalCode) && !isZipInState(postalCode, region)) {
        // The ZIP code's first three digits name the state it is in: Texas with 94105 would go to San Francisco.
        const state = US_STATE_NAMES[region];
        const owners = statesOfZip(postalCode).map((code) => US_STATE_NAMES[code]);
        ctx.addIssue({
          code: "custom",
          path: ["postalCode"],
          message:
            owners.length > 0 ? `Enter a ZIP code for ${state}: ${postalCode} is in ${owners.join(" or ")}` : `Enter a ZIP code for ${state}: ${postalCode} is not in ${state}`,
        });
      }
    } else if (format.region?.required && (address.region ?? "") === "") {
      ctx.addIssue({ code: "custom", path: ["region"], message: `Enter ${aLabel(format.region.label)}` });
    }
  });
export type Address = z.infer<typeof AddressSchema>;

/** Normalises what the shopper typed into the form the service stores (upper-case postcode and state). */
export function normaliseAddress(address: Address): Address {
  return {
    ...address,
    postalCode: address.postalCode.toUpperCase(),
    region: address.region ? address.region.toUpperCase() : undefined,
    line2: address.line2 || undefined,
    phone: address.phone || undefined,
  };
}

export const ShippingOptionIdSchema = z.enum(["standard", "express"], {
  message: "Choose a shipping option: standard or express",
});
export type ShippingOptionId = z.infer<typeof ShippingOptionIdSchema>;

/** Payment tokens are issued by the payment provider; our service never sees a card number. */
export const PaymentTokenSchema = z
  .string()
  .min(1, "A payment token is required")
  .max(128, "A payment token is at most 128 characters")
  .regex(/^tok_[A-Za-z0-9_]+$/, "Expected a payment token from the card field (tok_…)");

// ---- Procedure inputs (strict: unknown fields such as a client-supplied price are rejected) ----

/** How many products a catalogue page holds: the default, and the most a caller may ask for. */
export const CATALOG_PAGE_LIMIT = { default: 24, max: 100 } as const;
/** Search text length: three characters is the shortest a trigram index can narrow down; 64 is more than a product name. */
export const CATALOG_SEARCH_LENGTH = { min: 3, max: 64 } as const;

export const CategorySchema = z
  .string({ message: "Enter a category" })
  .min(1, "Enter a category")
  .max(64, "A category is at most 64 characters")
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} &'-]*$/u, "A category uses letters, digits, spaces, &, ' and -");
export const CatalogSearchSchema = z
  .string({ message: "Enter something to search for" })
  .trim()
  .min(CATALOG_SEARCH_LENGTH.min, `Search for at least ${CATALOG_SEARCH_LENGTH.min} characters`)
  .max(CATALOG_SEARCH_LENGTH.max, `Search for at most ${CATALOG_SEARCH_LENGTH.max} characters`);
/** The opaque `nextCursor` of an earlier page (base64url); its content is checked by the catalogue, not here. */
export const CatalogCursorSchema = z
  .string({ message: "Expected the nextCursor of an earlier page" })
  .min(1, "Expected the nextCursor of an earlier page")
  .max(256, "Expected the nextCursor of an earlier page")
  .regex(/^[A-Za-z0-9_-]+$/, "Expected the nextCursor of an earlier page");

export const CatalogListInput = z
  .strictObject({
    currency: CurrencySchema.default("USD"),
    category: CategorySchema.optional(),
    q: CatalogSearchSchema.optional(),
    cursor: CatalogCursorSchema.optional(),
    limit: z
      .int({ message: "A page size is a whole number" })
      .min(1, "A page holds at least 1 product")
      .max(CATALOG_PAGE_LIMIT.max, `A page holds at most ${CATALOG_PAGE_LIMIT.max} products`)
      .default(CATALOG_PAGE_LIMIT.default),
  })
  .prefault({});
export type CatalogListInput = z.output<typeof CatalogListInput>;
/** The category list takes nothing; strict, so a stray field is a typed 400 like anywhere else. */
export const CatalogCategoriesInput = z.strictObject({}).prefault({});
export const CatalogGetInput = z.strictObject({ productId: ProductIdSchema, currency: CurrencySchema.default("USD") });
/** address.locality: the city and state of a postcode the shopper typed (the form fills them in). */
export const AddressLocalityInput = z.strictObject({
  country: CountrySchema,
  postalCode: z.string().trim().min(1, "Enter a postcode or ZIP code").max(16, "A postcode or ZIP code is at most 16 characters"),
});
export const ADDRESS_SUGGESTION_LIMIT = { default: 5, max: 8 } as const;
/** address.suggest: completions of the address line as typed ("350 Mission St, San Fr"). */
export const AddressSuggestInput = z.strictObject({
  country: CountrySchema,
  text: z.string().trim().min(3, "Type at least 3 characters of the address").max(200, "An address line is at most 200 characters"),
  limit: z
    .int({ message: "A suggestion count is a whole number" })
    .min(1, "Ask for at least 1 suggestion")
    .max(ADDRESS_SUGGESTION_LIMIT.max, `Ask for at most ${ADDRESS_SUGGESTION_LIMIT.max} suggestions`)
    .default(ADDRESS_SUGGESTION_LIMIT.default),
});
export const CartCreateInput = z.strictObject({ currency: CurrencySchema.default("USD") }).default({ currency: "USD" });
export const CartIdInput = z.strictObject({ cartId: IdSchema });
export const CartAddLineInput = z.strictObject({ cartId: IdSchema, sku: SkuSchema, quantity: QuantitySchema });
export const CartUpdateLineInput = z.strictObject({ cartId: IdSchema, lineId: IdSchema, quantity: QuantitySchema });
export const CartRemoveLineInput = z.strictObject({ cartId: IdSchema, lineId: IdSchema });
/**
 * Moves an open cart to another currency. A line not sold in that currency is removed only when `removeUnavailable`
 * says so; otherwise the change is refused and those lines are named, so the shopper decides first.
 */
export const CartSetCurrencyInput = z.strictObject({
  cartId: IdSchema,
  currency: CurrencySchema,
  removeUnavailable: z.boolean({ message: "removeUnavailable is true or false" }).default(false),
});
export const SetContactInput = z.strictObject({ cartId: IdSchema, email: EmailSchema });
export const SetShippingAddressInput = z.strictObject({ cartId: IdSchema, address: AddressSchema });
export const SetShippingOptionInput = z.strictObject({ cartId: IdSchema, optionId: ShippingOptionIdSchema });
export const PlaceOrderInput = z.strictObject({ cartId: IdSchema, quoteId: IdSchema, paymentToken: PaymentTokenSchema });
export const OrderGetInput = z.strictObject({ orderId: IdSchema });
export const ConfirmPaymentInput = z.strictObject({ orderId: IdSchema });

/** Promo codes are case-insensitive: what the shopper types is trimmed and upper-cased. */
export const PromoCodeSchema = z
  .string({ message: "Enter a promo code" })
  .trim()
  .min(1, "Enter a promo code")
  .max(32, "A promo code is at most 32 characters")
  .regex(/^[A-Za-z0-9_-]+$/, "A promo code uses letters, digits, dashes and underscores")
  .transform((code) => code.toUpperCase());
export const ApplyPromoCodeInput = z.strictObject({ cartId: IdSchema, code: PromoCodeSchema });
export const RemovePromoCodeInput = z.strictObject({ cartId: IdSchema });

// ---- Domain shapes returned to callers ----

export interface Variant {
  sku: string;
  name: string;
  options: Record<string, string>;
  price: number;
  currency: Currency;
  inStock: boolean;
  available: number;
  /**
   * The most units of this variant one order may take now: the shop's cap per item and its share of the stock left
   * (MAX_UNITS_PER_SKU, MAX_STOCK_SHARE_PERCENT), at least 1. A cart that holds other items may be allowed fewer.
   */
  maxPerOrder: number;
  /** This variant's picture: its own (a colour) when it has one, else the product's. */
  image: string;
}

export interface Product {
  id: string;
  name: string;
  description: string;
  category: string;
  image: string;
  currency: Currency;
  /** Lowest variant price, for listings. */
  priceFrom: number;
  variants: Variant[];
}

/** One page of the catalogue in its listing order; `nextCursor` asks for the page after it, null on the last page. */
export interface CatalogPage {
  products: Product[];
  nextCursor: string | null;
}

export interface CartLine {
  id: string;
  sku: string;
  productId: string;
  productName: string;
  variantName: string;
  image: string;
  unitPrice: number;
  quantity: number;
  lineTotal: number;
  available: number;
  /** The most units this line may hold now: the cap per item, the stock share and what the cart's cap leaves beside its other lines. */
  maxQuantity: number;
}

export interface Cart {
  id: string;
  currency: Currency;
  status: "open" | "completed";
  lines: CartLine[];
  itemCount: number;
  subtotal: number;
  email: string | null;
  shippingAddress: Address | null;
  shippingOptionId: ShippingOptionId | null;
  /** The promo code the shopper applied (upper-case); validated again at quote and order time. */
  promoCode: string | null;
}

/** A line taken out of a cart because its product is not sold in the cart's new currency. */
export interface RemovedCartLine {
  sku: string;
  productName: string;
  variantName: string;
  quantity: number;
}

/** The cart in its new currency, and what could not come along. */
export interface CartCurrencyChange {
  cart: Cart;
  /** Lines removed because they are not sold in the new currency. */
  removed: RemovedCartLine[];
  /** The promo code taken off because it only works in the old currency, or null. */
  removedPromoCode: string | null;
}

export interface ShippingOption {
  id: ShippingOptionId;
  name: string;
  description: string;
  price: number;
  currency: Currency;
}

export interface Totals {
  currency: Currency;
  /** Goods before any discount. */
  subtotal: number;
  /** Promotion discount on goods (never shipping); at most the subtotal. */
  discount: number;
  promoCode: string | null;
  shipping: number;
  tax: number;
  /** Prices include tax (EUR): tax is the part of the total that is tax, not added on top. */
  taxInclusive: boolean;
  total: number;
}

export interface QuoteLine {
  sku: string;
  productName: string;
  variantName: string;
  unitPrice: number;
  quantity: number;
  lineTotal: number;
  /** This line's share of the order discount (largest remainder); the shares sum to the discount. */
  discount: number;
  tax: number;
}

export interface Quote extends Totals {
  id: string;
  cartId: string;
  expiresAt: string;
  lines: QuoteLine[];
  shippingOption: ShippingOption;
  taxRateBasisPoints: number;
}

/** Every status an order can have (order/order-state.ts moves between them; the database's CHECK is generated from this list). */
export const orderStatuses = ["pending_payment", "payment_failed", "authorised", "captured", "fulfilled", "cancelled", "partially_refunded", "refunded"] as const;

export type OrderStatus = (typeof orderStatuses)[number];

/** Every status a payment can have (payment/payment-state.ts moves between them; the database's CHECK is generated from this list). */
export const paymentStatuses = ["requires_action", "authorised", "declined", "captured", "voided", "refunded"] as const;

export type PaymentStatus = (typeof paymentStatuses)[number];

/** A refund is pending from the moment its id is stored (before the provider is called) until the answer is recorded. */
export const refundStatuses = ["pending", "succeeded", "failed"] as const;

export type RefundStatus = (typeof refundStatuses)[number];

export interface OrderLine {
  sku: string;
  productName: string;
  variantName: string;
  unitPrice: number;
  quantity: number;
  lineTotal: number;
  /** This line's share of the order discount (largest remainder); the shares sum to the discount. */
  discount: number;
  tax: number;
  /** The picture of the variant bought (its colour), as the catalogue has it now; "" once it left the catalogue. */
  image: string;
}

export interface Payment {
  id: string;
  status: PaymentStatus;
  amount: number;
  currency: Currency;
  cardBrand: string | null;
  cardLast4: string | null;
  declineCode: string | null;
  /** While status is requires_action: the provider's 3-D Secure page the shopper completes (frame it with ?origin=). */
  nextActionUrl: string | null;
}

export interface Order extends Totals {
  id: string;
  number: string;
  status: OrderStatus;
  email: string;
  shippingAddress: Address;
  shippingOption: ShippingOption;
  lines: OrderLine[];
  payment: Payment | null;
  placedAt: string;
}
