// Picks each new virtual user's starting variable bag: one value per config variable and one row per payload.
import type { Script } from "./script-types.ts";

/** Returns a function to call once per virtual user; sequence payloads advance a cursor shared by all users. */
export function createVuVariablePicker(script: Pick<Script, "variables" | "payloads">, random: () => number = Math.random): () => Record<string, unknown> {
  const cursors = script.payloads.map(() => 0);
  const variables = Object.entries(script.variables);
  const pickIndex = (length: number) => Math.min(length - 1, Math.floor(random() * length));
  return () => {
    const bag: Record<string, unknown> = {};
    for (const [name, values] of variables) bag[name] = values[pickIndex(values.length)];
    script.payloads.forEach((payload, payloadIndex) => {
      let rowIndex: number;
      if (payload.order === "sequence") {
        const cursor = cursors[payloadIndex] ?? 0;
        rowIndex = cursor % payload.rows.length;
        cursors[payloadIndex] = cursor + 1;
      } else {
        rowIndex = pickIndex(payload.rows.length);
      }
      const row = payload.rows[rowIndex] ?? [];
      payload.fields.forEach((field, column) => {
        bag[field] = row[column];
      });
    });
    return bag;
  };
}
