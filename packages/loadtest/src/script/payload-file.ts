// config.payload: the CSV files a script names, read from disk and checked against the fields it gives them.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { CsvSyntaxError, parseCsv } from "./parse-csv.ts";
import type { Payload } from "./script-types.ts";
import { fail, readBoolean, readList, readMap, readName, readString, requireField, type Context, type Field } from "./yaml-nodes.ts";

export function parsePayload(ctx: Context, item: Field, baseDir: string): Payload {
  const fields = readMap(ctx, item.value, item.path, ["path", "fields", "order", "skipHeader"], {
    delimiter: "only comma-separated files are supported",
    cast: "payload values are always strings",
    loadAll: "loadAll needs a processor to use the rows",
    name: "loadAll needs a processor to use the rows",
  });
  const pathField = requireField(ctx, fields, "path", item.path, item.value);
  const path = resolve(baseDir, readString(ctx, pathField));
  if (!existsSync(path)) fail(ctx, pathField.path, pathField.value, `payload file ${path} does not exist`);
  const names = readList(ctx, requireField(ctx, fields, "fields", item.path, item.value), { isNonEmpty: true }).map((name) => readName(ctx, name, "a field name"));
  const orderField = fields.get("order");
  const order = orderField ? readString(ctx, orderField) : "random";
  if (order !== "random" && order !== "sequence") fail(ctx, orderField?.path ?? item.path, orderField?.value, `expected random or sequence, got "${order}"`);
  const skipHeaderField = fields.get("skipHeader");
  const skipHeader = skipHeaderField ? readBoolean(ctx, skipHeaderField) : false;
  let rows: string[][];
  try {
    rows = parseCsv(readFileSync(path, "utf8"));
  } catch (error) {
    if (error instanceof CsvSyntaxError) fail(ctx, pathField.path, pathField.value, `${path} ${error.message}`);
    throw error;
  }
  if (skipHeader) rows = rows.slice(1);
  if (rows.length === 0) fail(ctx, pathField.path, pathField.value, `payload file ${path} has no rows`);
  const shortRow = rows.findIndex((row) => row.length < names.length);
  if (shortRow !== -1) {
    fail(ctx, pathField.path, pathField.value, `row ${shortRow + 1 + (skipHeader ? 1 : 0)} of ${path} has ${rows[shortRow]?.length} columns but ${names.length} fields are named`);
  }
  return { path, fields: names, order, skipHeader, rows };
}
