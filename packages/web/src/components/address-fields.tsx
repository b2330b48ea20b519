// Contact and shipping-address inputs, laid out as the chosen country writes an address (a German form asks the
// postcode before the city and has no region; a US one asks City, State, ZIP code). A field is checked when the shopper
// leaves it, by the same rules the API applies, and its message uses the field's own label. A US form asks the ZIP code
// before the city and state and fills them in from it (the API's address lookup); the address line offers completions.
import { type ComponentType, useEffect, useRef, useState } from "react";
import { isWholeZip, lookUpLocality, type AddressSuggestion } from "../checkout/address-lookup.ts";
import type { AddressLineSuggestionsProps } from "./address-line-field.tsx";
import { addressFormats, type CountryAddressFormat, countryCodes, isCountryCode, localityFieldsOf, US_STATE_NAMES, US_STATES } from "../lib/schemas.ts";
import { validateForm, type FieldErrors, type FieldName, type FormValues } from "../checkout/address-form.ts";
import { FormField } from "./form-field.tsx";

interface AddressFieldsProps {
  values: FormValues;
  /** Errors from submitting the form or from the API; they win over what is found on leaving a field. */
  errors: FieldErrors;
  disabled: boolean;
  onChange: (name: FieldName, value: string) => void;
}

/**
 * The errors to show: the form's own, else, for each field the shopper has left holding something (or typed in and
 * emptied, or that an error was shown for), what the rules say of its value now, so a message appears on leaving a
 * field and goes as soon as the value is fixed. Passing through an empty field says nothing until the form is sent.
 */
function useFieldChecks(values: FormValues, errors: FieldErrors) {
  const [left, setLeft] = useState<ReadonlySet<FieldName>>(() => new Set());
  const [edited, setEdited] = useState<ReadonlySet<FieldName>>(() => new Set());
  useEffect(() => {
    const flagged = (Object.keys(errors) as FieldName[]).filter((name) => errors[name]);
    if (flagged.some((name) => !left.has(name))) setLeft((current) => new Set([...current, ...flagged]));
  }, [errors, left]);
  const result = left.size > 0 ? validateForm(values) : null;
  const errorOf = (name: FieldName): string | undefined => errors[name] ?? (left.has(name) && result && !result.ok ? result.errors[name] : undefined);
  const onBlur = (name: FieldName) => () => {
    if (left.has(name) || (values[name].trim() === "" && !edited.has(name))) return;
    setLeft((current) => new Set([...current, name]));
  };
  const onEdit = (name: FieldName) => {
    if (!edited.has(name)) setEdited((current) => new Set([...current, name]));
  };
  const forget = (names: readonly FieldName[]) => {
    setLeft((current) => new Set([...current].filter((name) => !names.includes(name))));
    setEdited((current) => new Set([...current].filter((name) => !names.includes(name))));
  };
  return { errorOf, onBlur, onEdit, forget };
}

export function ContactFields({ values, errors, disabled, onChange }: AddressFieldsProps) {
  const checks = useFieldChecks(values, errors);
  return (
    <FormField id="email" label="Email" error={checks.errorOf("email")} hint="For your receipt and delivery updates.">
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
          onChange={(event) => {
            checks.onEdit("email");
            onChange("email", event.target.value);
          }}
          onBlur={checks.onBlur("email")}
        />
      )}
    </FormField>
  );
}

const localityAutoComplete = { city: "shipping address-level2", region: "shipping address-level1", postalCode: "shipping postal-code" } as const;

/** Countries whose form asks the postcode first, because the lookup fills in the city and region from it. */
const POSTCODE_FIRST: ReadonlySet<string> = new Set(["US"]);
const LOCALITY_DELAY_MS = 150;

/**
 * The city and state the lookup filled in: it may fill a field that is empty or still holds what it filled itself (a
 * corrected ZIP code corrects them), never one the shopper typed. Says what it filled in, for screen readers.
 */
function useLocalityFill(values: FormValues, onChange: (name: FieldName, value: string) => void) {
  const latest = useRef(values);
  latest.current = values;
  const filled = useRef<{ city?: string; region?: string }>({});
  const [announcement, setAnnouncement] = useState("");

  function fill(parts: { city?: string; region?: string | null }, said: string) {
    const now = latest.current;
    let changed = false;
    for (const name of ["city", "region"] as const) {
      const value = parts[name];
      if (!value || now[name] === value) continue;
      if (now[name].trim() !== "" && now[name] !== filled.current[name]) continue;
      onChange(name, value);
      filled.current[name] = value;
      changed = true;
    }
    if (changed) setAnnouncement(said);
  }

  const { country, postalCode } = values;
  // biome-ignore lint/correctness/useExhaustiveDependencies: asked again only when the ZIP code or country changes
  useEffect(() => {
    if (!isWholeZip(country, postalCode) || !isCountryCode(country)) return;
    const timer = window.setTimeout(() => {
      void lookUpLocality(country, postalCode).then((locality) => {
        const now = latest.current;
        if (!locality || now.country !== country || now.postalCode !== postalCode) return;
        fill(locality, `City and state filled in from the ZIP code: ${locality.city}, ${locality.region ?? ""}.`);
      });
    }, LOCALITY_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [country, postalCode]);

  /** A completion the shopper chose: its place replaces what the lookup filled in (and fills what is empty). */
  function choose(suggestion: AddressSuggestion) {
    onChange("line1", suggestion.line1);
    if (suggestion.postalCode) onChange("postalCode", suggestion.postalCode);
    for (const name of ["city", "region"] as const) {
      const value = suggestion[name];
      if (value) {
        onChange(name, value);
        filled.current[name] = value;
      }
    }
  }

  return { announcement, choose };
}

export function AddressFields({ values, errors, disabled, onChange }: AddressFieldsProps) {
  const checks = useFieldChecks(values, errors);
  const lookup = useLocalityFill(values, onChange);
  const line1 = useRef<HTMLInputElement>(null);
  // The address line's completions load when a shopper whose country the lookup knows first comes to the field.
  const [Suggestions, setSuggestions] = useState<ComponentType<AddressLineSuggestionsProps> | null>(null);
  const loadSuggestions = () => {
    if (Suggestions || !POSTCODE_FIRST.has(values.country)) return;
    void import("./address-line-field.tsx").then(
      (module) => setSuggestions(() => module.AddressLineSuggestions),
      () => {},
    );
  };
  const countryCode = isCountryCode(values.country) ? values.country : "US";
  const format: CountryAddressFormat = addressFormats[countryCode];
  const input = (name: FieldName, autoComplete: string, extra: { required?: boolean; type?: string; inputMode?: "tel" | "text" | "numeric" } = {}) => ({
    name,
    type: extra.type ?? "text",
    autoComplete,
    inputMode: extra.inputMode,
    required: extra.required ?? true,
    disabled,
    value: values[name],
    onChange: (event: { target: { value: string } }) => {
      checks.onEdit(name);
      onChange(name, event.target.value);
    },
    onBlur: checks.onBlur(name),
  });

  function onCountryChange(next: string) {
    if (next === values.country) return;
    onChange("country", next);
    // A state, county or province belongs to its country; and the locality fields mean something else now.
    if (values.region !== "") onChange("region", "");
    recheckPostalCode();
    checks.forget(["city", "region", "postalCode"]);
  }

  /**
   * A ZIP code is checked against the state (and a postcode against the country): when either changes, the postcode is
   * handed back unchanged so the form drops an error it holds for the old combination, and it is checked afresh here.
   */
  function recheckPostalCode() {
    onChange("postalCode", values.postalCode);
  }

  function onStateChange(next: string) {
    checks.onEdit("region");
    onChange("region", next);
    recheckPostalCode();
  }

  const localityOrder = localityFieldsOf(countryCode);
  const orderedLocality = POSTCODE_FIRST.has(countryCode)
    ? [...localityOrder.filter((name) => name === "postalCode"), ...localityOrder.filter((name) => name !== "postalCode")]
    : localityOrder;
  const locality = orderedLocality.map((name) => {
    if (name === "city") {
      return (
        <FormField key="city" id="city" label={format.city.label} error={checks.errorOf("city")}>
          {(aria) => <input {...aria} {...input("city", localityAutoComplete.city)} />}
        </FormField>
      );
    }
    if (name === "region") {
      const region = format.region;
      if (!region) return null;
      return (
        <FormField key="region" id="region" label={region.label} optional={!region.required} error={checks.errorOf("region")}>
          {(aria) =>
            region.isUsState ? (
              <select
                {...aria}
                name="region"
                autoComplete={localityAutoComplete.region}
                required
                disabled={disabled}
                value={values.region.toUpperCase()}
                onChange={(event) => onStateChange(event.target.value)}
                onBlur={checks.onBlur("region")}
              >
                <option value="">Choose a state</option>
                {US_STATES.map((state) => (
                  <option key={state} value={state}>
                    {US_STATE_NAMES[state]}
                  </option>
                ))}
              </select>
            ) : (
              <input {...aria} {...input("region", localityAutoComplete.region, { required: region.required })} />
            )
          }
        </FormField>
      );
    }
    // Digits-only postcodes get the number pad; a US ZIP+4 and a British postcode need more than digits.
    const digitsOnly = /^\d+$/.test(format.example);
    return (
      <FormField
        key="postalCode"
        id="postalCode"
        label={format.postalCode.label}
        optional={!format.postalCode.required}
        error={checks.errorOf("postalCode")}
        hint={`For example ${format.example}`}
      >
        {(aria) => (
          <input
            {...aria}
            {...input("postalCode", localityAutoComplete.postalCode, { required: format.postalCode.required, inputMode: digitsOnly ? "numeric" : "text" })}
            autoCapitalize="characters"
          />
        )}
      </FormField>
    );
  });

  return (
    <div className="field-grid">
      <FormField id="name" label="Full name" error={checks.errorOf("name")} className="field-grid__full">
        {(aria) => <input {...aria} {...input("name", "shipping name")} />}
      </FormField>
      <FormField id="country" label="Country" error={checks.errorOf("country")} className="field-grid__full">
        {(aria) => (
          <select {...aria} name="country" autoComplete="shipping country" disabled={disabled} value={values.country} onChange={(event) => onCountryChange(event.target.value)}>
            {countryCodes.map((code) => (
              <option key={code} value={code}>
                {addressFormats[code].name}
              </option>
            ))}
          </select>
        )}
      </FormField>
      <FormField
        id="line1"
        label="Address line 1"
        error={checks.errorOf("line1")}
        className="field-grid__full"
        hint={POSTCODE_FIRST.has(countryCode) ? "The street, then a comma and the city or ZIP code to choose the rest." : undefined}
      >
        {(aria) => (
          <div className="combobox">
            <input {...aria} {...input("line1", "shipping address-line1")} ref={line1} onFocus={loadSuggestions} />
            {Suggestions && <Suggestions inputRef={line1} text={values.line1} country={countryCode} onChoose={lookup.choose} />}
          </div>
        )}
      </FormField>
      <FormField id="line2" label="Address line 2" optional error={checks.errorOf("line2")} className="field-grid__full">
        {(aria) => <input {...aria} {...input("line2", "shipping address-line2", { required: false })} />}
      </FormField>
      {locality}
      <p className="visually-hidden" role="status" aria-live="polite">
        {lookup.announcement}
      </p>
      <FormField id="phone" label="Phone" optional error={checks.errorOf("phone")} hint="Only used if the courier needs to reach you.">
        {(aria) => <input {...aria} {...input("phone", "shipping tel", { required: false, type: "tel", inputMode: "tel" })} />}
      </FormField>
    </div>
  );
}
