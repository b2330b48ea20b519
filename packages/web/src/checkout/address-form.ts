// The contact-and-address form's values, and their validation with the very schemas the API uses.
import { AddressSchema, addressFormats, defaultCountryFor, EmailSchema, isCountryCode, type Address, type Cart } from "../lib/schemas.ts";
import { shopperLanguages } from "../lib/format.ts";

export const fieldNames = ["email", "name", "line1", "line2", "city", "region", "postalCode", "country", "phone"] as const;
export type FieldName = (typeof fieldNames)[number];
export type FormValues = Record<FieldName, string>;
export type FieldErrors = Partial<Record<FieldName, string>>;

export const emptyValues: FormValues = {
  email: "",
  name: "",
  line1: "",
  line2: "",
  city: "",
  region: "",
  postalCode: "",
  country: "US",
  phone: "",
};

/**
 * The form as the cart has it. Before an address is saved the country is the one the cart's currency and the browser's
 * languages point to (a euro cart in a French browser: France; in any other: Germany; a dollar cart: the United States).
 */
export function valuesFromCart(cart: Cart, languages: readonly string[] = shopperLanguages()): FormValues {
  const address = cart.shippingAddress;
  return {
    email: cart.email ?? "",
    name: address?.name ?? "",
    line1: address?.line1 ?? "",
    line2: address?.line2 ?? "",
    city: address?.city ?? "",
    region: address?.region ?? "",
    postalCode: address?.postalCode ?? "",
    country: address?.country ?? defaultCountryFor(cart.currency, languages),
    phone: address?.phone ?? "",
  };
}

export function isSameValues(a: FormValues, b: FormValues): boolean {
  return fieldNames.every((name) => a[name].trim() === b[name].trim());
}

function isFieldName(name: string): name is FieldName {
  return (fieldNames as readonly string[]).includes(name);
}

/** Maps issue paths ("postalCode", "address.postalCode", "email") to the first message per field. */
export function issuesToFieldErrors(issues: readonly { path: readonly PropertyKey[] | string; message: string }[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const parts = typeof issue.path === "string" ? issue.path.split(".") : issue.path.map(String);
    const field = parts.at(-1) ?? "";
    if (isFieldName(field) && !errors[field]) errors[field] = issue.message;
  }
  return errors;
}

export type ValidationResult = { ok: true; email: string; address: Address } | { ok: false; errors: FieldErrors };

/** Validates the whole form at once, so every problem is shown next to its field in one go. */
export function validateForm(values: FormValues): ValidationResult {
  const optional = (value: string) => (value.trim() === "" ? undefined : value);
  // A field the country has no place for (a county typed before switching to Germany) is not sent.
  const hasRegion = isCountryCode(values.country) && addressFormats[values.country].region !== null;
  const email = EmailSchema.safeParse(values.email);
  const address = AddressSchema.safeParse({
    name: values.name,
    line1: values.line1,
    line2: optional(values.line2),
    city: values.city,
    region: hasRegion ? optional(values.region) : undefined,
    postalCode: values.postalCode,
    country: values.country,
    phone: optional(values.phone),
  });
  const errors: FieldErrors = {
    ...(email.success ? {} : issuesToFieldErrors(email.error.issues)),
    ...(address.success ? {} : issuesToFieldErrors(address.error.issues)),
  };
  if (!email.success && !errors.email) errors.email = email.error.issues[0]?.message ?? "Enter a valid email address";
  if (!email.success || !address.success) return { ok: false, errors };
  return { ok: true, email: email.data, address: address.data };
}

/** One field's problem, by the same rules as the whole form (a ZIP code is checked against the state chosen). */
export function validateField(values: FormValues, name: FieldName): string | undefined {
  const result = validateForm(values);
  return result.ok ? undefined : result.errors[name];
}
