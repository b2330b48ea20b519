// Test support: the summary's JSON Schema (schema/summary.v1.schema.json) compiled with Ajv's draft 2020-12 dialect,
// so every summary a test builds or writes is checked against the published contract.
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";

export const SUMMARY_SCHEMA_PATH = new URL("../../schema/summary.v1.schema.json", import.meta.url);

/** RFC 3339 date-time, as JSON Schema's "date-time" format means it. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

export function loadSummarySchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(SUMMARY_SCHEMA_PATH, "utf8")) as Record<string, unknown>;
}

/** A validator in Ajv's strict mode (an unknown keyword in the schema is an error), with formats checked. */
export function summaryValidator(): (value: unknown) => string[] {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addFormat("date-time", { type: "string", validate: (text: string) => DATE_TIME.test(text) && !Number.isNaN(Date.parse(text)) });
  const validate = ajv.compile(loadSummarySchema());
  return (value) => (validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`.trim()));
}
