// Variant selection: option names and values in catalogue order, which choices are available, and
// which variant a choice lands on.
import type { Variant } from "@checkout/core/schemas";

export interface OptionGroup {
  name: string;
  values: string[];
}

export type Selection = Record<string, string>;

export function optionGroups(variants: readonly Variant[]): OptionGroup[] {
  const groups = new Map<string, string[]>();
  for (const variant of variants) {
    for (const [name, value] of Object.entries(variant.options)) {
      const values = groups.get(name) ?? [];
      if (!values.includes(value)) values.push(value);
      groups.set(name, values);
    }
  }
  // The database stores options as jsonb, which reorders keys; show them in the order shoppers expect.
  const rank = (name: string) => {
    const index = preferredOrder.indexOf(name);
    return index === -1 ? preferredOrder.length : index;
  };
  return [...groups.entries()].map(([name, values]) => ({ name, values })).sort((a, b) => rank(a.name) - rank(b.name));
}

const preferredOrder = ["colour", "size", "grind"];

function matches(variant: Variant, selection: Selection): boolean {
  return Object.entries(selection).every(([name, value]) => variant.options[name] === value);
}

export function findVariant(variants: readonly Variant[], selection: Selection): Variant | undefined {
  return variants.find((variant) => matches(variant, selection));
}

export function initialSelection(variants: readonly Variant[]): Selection {
  const first = variants.find((variant) => variant.inStock) ?? variants[0];
  return first ? { ...first.options } : {};
}

/**
 * A value is available when some in-stock variant has it together with the values chosen in the
 * groups before it, so the first group never locks the shopper out of the others.
 */
export function isValueAvailable(variants: readonly Variant[], groups: readonly OptionGroup[], selection: Selection, group: string, value: string): boolean {
  const index = groups.findIndex((candidate) => candidate.name === group);
  const preceding: Selection = {};
  for (const earlier of groups.slice(0, Math.max(index, 0))) {
    const chosen = selection[earlier.name];
    if (chosen !== undefined) preceding[earlier.name] = chosen;
  }
  return variants.some((variant) => variant.inStock && matches(variant, { ...preceding, [group]: value }));
}

/** Chooses a value, moving the other groups to an in-stock combination when the exact one is not. */
export function selectValue(variants: readonly Variant[], selection: Selection, group: string, value: string): Selection {
  const wanted = { ...selection, [group]: value };
  const exact = findVariant(variants, wanted);
  if (exact?.inStock) return wanted;
  const fallback = variants.find((variant) => variant.inStock && variant.options[group] === value);
  return fallback ? { ...fallback.options } : wanted;
}

export function optionLabel(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
