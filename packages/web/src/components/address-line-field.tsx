// Completions for address line 1, loaded when the shopper first focuses the field (never with the page): it turns the
// plain input into a combobox (the WAI-ARIA 1.2 pattern, list autocomplete). When the shopper has typed the street and
// the start of the place ("350 Mission St, San Fr") the lookup's completions appear below; the arrows move through
// them, Enter or a click takes one and fills in the city, state and ZIP code it knows. Nothing moves focus; Escape or
// leaving the field closes the list; typing on simply ignores it.
import { useEffect, useRef, useState, type ReactNode, type RefObject } from "react";
import { isSuggestible, suggestAddresses, type AddressSuggestion } from "../checkout/address-lookup.ts";
import type { CountryCode } from "../lib/schemas.ts";

const SUGGEST_DELAY_MS = 250;
const LIST_ID = "line1-suggestions";

export interface AddressLineSuggestionsProps {
  /** The address line's input, rendered by the form; its combobox attributes are set here. */
  inputRef: RefObject<HTMLInputElement | null>;
  text: string;
  country: CountryCode;
  onChoose: (suggestion: AddressSuggestion) => void;
}

function labelOf(suggestion: AddressSuggestion): string {
  const place = [suggestion.city, [suggestion.region, suggestion.postalCode].filter(Boolean).join(" ")].filter(Boolean).join(", ");
  return `${suggestion.line1}, ${place}`;
}

export function AddressLineSuggestions({ inputRef, text, country, onChoose }: AddressLineSuggestionsProps): ReactNode {
  const [suggestions, setSuggestions] = useState<AddressSuggestion[]>([]);
  const [isOpen, setIsOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [announcement, setAnnouncement] = useState("");
  /** The text the list was asked for: a list for older text is dropped, and choosing one does not ask again. */
  const askedFor = useRef("");
  const expanded = isOpen && suggestions.length > 0;

  useEffect(() => {
    if (!isSuggestible(country, text)) {
      setSuggestions([]);
      setIsOpen(false);
      return;
    }
    if (askedFor.current === text) return;
    const timer = window.setTimeout(() => {
      askedFor.current = text;
      void suggestAddresses(country, text).then((found) => {
        if (askedFor.current !== text) return;
        setSuggestions(found);
        setActive(-1);
        setIsOpen(found.length > 0);
        setAnnouncement(
          found.length === 0 ? "" : `${found.length} address ${found.length === 1 ? "suggestion" : "suggestions"}: use the up and down arrows to choose, Enter to fill it in.`,
        );
      });
    }, SUGGEST_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [country, text]);

  function choose(suggestion: AddressSuggestion) {
    askedFor.current = suggestion.line1;
    setIsOpen(false);
    setActive(-1);
    onChoose(suggestion);
    setAnnouncement(`Filled in ${labelOf(suggestion)}.${suggestion.postalCode ? "" : " Add the ZIP code."}`);
  }

  // The input is the form's: its combobox state is written here, and React leaves these attributes alone.
  useEffect(() => {
    const input = inputRef.current;
    if (!input) return;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", LIST_ID);
    input.setAttribute("aria-expanded", String(expanded));
    if (expanded && active >= 0) input.setAttribute("aria-activedescendant", `${LIST_ID}-${active}`);
    else input.removeAttribute("aria-activedescendant");
  }, [inputRef, expanded, active]);

  const keys = useRef<(event: KeyboardEvent) => void>(() => {});
  keys.current = (event) => {
    const count = suggestions.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (count === 0) return;
      event.preventDefault();
      setIsOpen(true);
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((current) => (current === -1 && step === -1 ? count - 1 : (current + step + count) % count));
    } else if (event.key === "Enter" && expanded && active >= 0) {
      // Takes the suggestion instead of sending the form.
      event.preventDefault();
      const chosen = suggestions[active];
      if (chosen) choose(chosen);
    } else if (event.key === "Escape" && expanded) {
      event.preventDefault();
      setIsOpen(false);
      setActive(-1);
    }
  };
  useEffect(() => {
    const input = inputRef.current;
    if (!input) return;
    const onKeyDown = (event: KeyboardEvent) => keys.current(event);
    const onBlur = () => {
      setIsOpen(false);
      setActive(-1);
    };
    input.addEventListener("keydown", onKeyDown);
    input.addEventListener("blur", onBlur);
    return () => {
      input.removeEventListener("keydown", onKeyDown);
      input.removeEventListener("blur", onBlur);
    };
  }, [inputRef]);

  return (
    <>
      <div className="combobox__list" id={LIST_ID} role="listbox" aria-label="Address suggestions" hidden={!expanded}>
        {suggestions.map((suggestion, index) => (
          <div
            key={labelOf(suggestion)}
            id={`${LIST_ID}-${index}`}
            // Reached with the arrows from the input (aria-activedescendant), never by Tab.
            tabIndex={-1}
            role="option"
            aria-selected={index === active}
            className="combobox__option"
            // Taken on mousedown, before the input's blur closes the list.
            onMouseDown={(event) => {
              event.preventDefault();
              choose(suggestion);
            }}
          >
            {labelOf(suggestion)}
          </div>
        ))}
      </div>
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>
    </>
  );
}
