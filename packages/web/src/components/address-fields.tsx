// Contact and shipping-address inputs; the region becomes a state picker when the country is the US.
import { countries, countryCodes, US_STATES } from "../lib/schemas.ts";
import type { FieldErrors, FieldName, FormValues } from "../checkout/address-form.ts";
import { FormField } from "./form-field.tsx";

interface AddressFieldsProps {
  values: FormValues;
  errors: FieldErrors;
  disabled: boolean;
  onChange: (name: FieldName, value: string) => void;
}

export function ContactFields({ values, errors, disabled, onChange }: AddressFieldsProps) {
  return (
    <FormField id="email" label="Email" error={errors.email} hint="For your receipt and delivery updates.">
      {(aria) => (
        <input
          {...aria}
          name="email"
          type="email"
          autoComplete="email"
          inputMode="email"
          required
          disabled={disabled}
          value={values.email}
          onChange={(event) => onChange("email", event.target.value)}
        />
      )}
    </FormField>
  );
}

export function AddressFields({ values, errors, disabled, onChange }: AddressFieldsProps) {
  const country = countries[values.country as keyof typeof countries] ?? countries.US;
  const isUS = values.country === "US";
  const text = (name: FieldName, autoComplete: string, extra: { required?: boolean; type?: string; inputMode?: "tel" | "text" } = {}) => ({
    name,
    type: extra.type ?? "text",
    autoComplete,
    inputMode: extra.inputMode,
    required: extra.required ?? true,
    disabled,
    value: values[name],
    onChange: (event: { target: { value: string } }) => onChange(name, event.target.value),
  });

  return (
    <div className="field-grid">
      <FormField id="name" label="Full name" error={errors.name} className="field-grid__full">
        {(aria) => <input {...aria} {...text("name", "shipping name")} />}
      </FormField>
      <FormField id="country" label="Country" error={errors.country} className="field-grid__full">
        {(aria) => (
          <select {...aria} name="country" autoComplete="shipping country" disabled={disabled} value={values.country} onChange={(event) => onChange("country", event.target.value)}>
            {countryCodes.map((code) => (
              <option key={code} value={code}>
                {countries[code].name}
              </option>
            ))}
          </select>
        )}
      </FormField>
      <FormField id="line1" label="Address line 1" error={errors.line1} className="field-grid__full">
        {(aria) => <input {...aria} {...text("line1", "shipping address-line1")} />}
      </FormField>
      <FormField id="line2" label="Address line 2" optional error={errors.line2} className="field-grid__full">
        {(aria) => <input {...aria} {...text("line2", "shipping address-line2", { required: false })} />}
      </FormField>
      <FormField id="city" label="City" error={errors.city}>
        {(aria) => <input {...aria} {...text("city", "shipping address-level2")} />}
      </FormField>
      <FormField id="region" label={isUS ? "State" : "County / region"} optional={!isUS} error={errors.region}>
        {(aria) =>
          isUS ? (
            <select
              {...aria}
              name="region"
              autoComplete="shipping address-level1"
              required
              disabled={disabled}
              value={values.region.toUpperCase()}
              onChange={(event) => onChange("region", event.target.value)}
            >
              <option value="">Choose a state</option>
              {US_STATES.map((state) => (
                <option key={state} value={state}>
                  {state}
                </option>
              ))}
            </select>
          ) : (
            <input {...aria} {...text("region", "shipping address-level1", { required: false })} />
          )
        }
      </FormField>
      <FormField id="postalCode" label={isUS ? "ZIP code" : "Postcode"} error={errors.postalCode} hint={`For example ${country.example}`}>
        {(aria) => <input {...aria} {...text("postalCode", "shipping postal-code")} />}
      </FormField>
      <FormField id="phone" label="Phone" optional error={errors.phone} hint="Only used if the courier needs to reach you.">
        {(aria) => <input {...aria} {...text("phone", "shipping tel", { required: false, type: "tel", inputMode: "tel" })} />}
      </FormField>
    </div>
  );
}
