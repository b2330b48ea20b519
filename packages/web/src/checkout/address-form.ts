// The contact-and-address form's values, and their validation with the very schemas the API uses.
import { AddressSchema, EmailSchema, type Address, type Cart, type CountryCode } from "../lib/schemas.ts";

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

export function valuesFromCart(cart: Cart): FormValues {
  const address = cart.shippingAddress;
  return {
    email: cart.email ?? "",
    name: address?.name ?? "",
    line1: address?.line1 ?? "",
    line2: address?.line2 ?? "",
    city: address?.city ?? "",
    region: address?.region ?? "",
    postalCode: address?.postalCode ?? "",
    country: address?.country ?? "US",
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
  const email = EmailSchema.safeParse(values.email);
  const address = AddressSchema.safeParse({
    name: values.name,
    line1: values.line1,
    line2: optional(values.line2),
    city: values.city,
    region: optional(values.region),
    postalCode: values.postalCode,
    country: values.country as CountryCode,
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
