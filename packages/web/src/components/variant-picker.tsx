// Labelled radio groups, one per product option (colour, size, grind); sold-out choices are disabled.
import type { Variant } from "@checkout/core/schemas";
import { isValueAvailable, optionLabel, type OptionGroup, type Selection } from "../lib/variants.ts";

interface VariantPickerProps {
  productId: string;
  variants: readonly Variant[];
  groups: readonly OptionGroup[];
  selection: Selection;
  onSelect: (group: string, value: string) => void;
}

export function VariantPicker({ productId, variants, groups, selection, onSelect }: VariantPickerProps) {
  return (
    <>
      {groups.map((group) => (
        <fieldset key={group.name} className="option-group">
          <legend className="option-group__legend">
            {optionLabel(group.name)}
            {selection[group.name] && <span className="muted">: {selection[group.name]}</span>}
          </legend>
          <div className="option-group__choices">
            {group.values.map((value) => {
              const id = `${productId}-${group.name}-${value}`.replace(/[^A-Za-z0-9_-]/g, "-");
              const isAvailable = isValueAvailable(variants, groups, selection, group.name, value);
              return (
                <div key={value} className="choice">
                  <input
                    type="radio"
                    id={id}
                    name={group.name}
                    value={value}
                    checked={selection[group.name] === value}
                    disabled={!isAvailable}
                    onChange={() => onSelect(group.name, value)}
                    data-testid={`option-${group.name}`}
                  />
                  <label htmlFor={id} className="choice__label">
                    {value}
                    {!isAvailable && <span className="choice__note"> (sold out)</span>}
                  </label>
                </div>
              );
            })}
          </div>
        </fieldset>
      ))}
    </>
  );
}
