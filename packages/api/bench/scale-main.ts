// `pnpm bench:scale [--smoke] [--products N] [--orders N] [--carts N] [--calls N] [--keep]`: each procedure's cost per
// call on the demo data and with a year of data, in one run (scale.ts), written to docs/BENCHMARKS.md ("A year of data").
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gitCommit, spliceSection } from "@checkout/bench-support";
import { readCommandLine, UsageError } from "../src/cli/help.ts";
import { runScaleBench } from "./scale.ts";
import { renderScaleSection, renderScaleTable, SCALE_NOTES, SECTION } from "./scale-report.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const docPath = path.join(repoRoot, "docs", "BENCHMARKS.md");

const HELP = `Usage: pnpm bench:scale [options]

Measures every shopper procedure, placeOrder, the reconciler, the admin order list and admin.invariants per call on the
demo catalogue, loads a year of data into the same database (set-based SQL), measures again, and writes the ratios and
the plans' scans to docs/BENCHMARKS.md ("A year of data", below the notes marker).

  --smoke          200 products, 2,000 orders, 2,000 carts, 5 calls; prints the table, writes nothing
  --products N     products to add (default 10000)
  --orders N       orders to load (default 1000000)
  --carts N        abandoned carts to load (default 1000000)
  --calls N        timed calls per procedure and phase (default 30)
  --keep           keep the database afterwards
  -h, --help       this text

SCALE_DATABASE_URL: a superuser's URL on the server to use (default postgres://postgres@127.0.0.1:5432/postgres);
the run creates its own database there and drops it at the end.`;

export async function main(argv: string[]): Promise<number> {
  const values = readCommandLine(
    { name: "bench:scale", help: HELP, options: { smoke: "flag", products: "value", orders: "value", carts: "value", calls: "value", keep: "flag" } },
    argv,
  );
  const smoke = values.smoke === true || process.env.BENCH_SMOKE === "1" || process.env.BENCH_SMOKE === "true";
  const number = (text: string | undefined, fallback: number, name: string) => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} takes a whole number above 0, not "${text}"`);
    return value;
  };
  const size = {
    products: number(values.products, smoke ? 200 : 10_000, "products"),
    orders: number(values.orders, smoke ? 2000 : 1_000_000, "orders"),
    abandonedCarts: number(values.carts, smoke ? 2000 : 1_000_000, "carts"),
  };
  const calls = number(values.calls, smoke ? 5 : 30, "calls");
  const adminUrl = process.env.SCALE_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const report = await runScaleBench({ adminUrl, size, calls, keepDatabase: values.keep === true, progress: (line) => console.log(`[scale] ${line}`) });
  console.log(renderScaleTable(report));
  if (smoke) {
    console.log("[scale] smoke run: docs/BENCHMARKS.md left as it is");
    return 0;
  }
  const section = renderScaleSection({ report, date: new Date().toISOString().slice(0, 10), commit: gitCommit(repoRoot) ?? "unknown", notes: SCALE_NOTES });
  const existing = await readFile(docPath, "utf8").catch(() => null);
  await writeFile(docPath, spliceSection(existing, section, SECTION, "end"));
  console.log(`[scale] wrote ${path.relative(repoRoot, docPath)}`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(`bench:scale: ${error.message} (see --help)`);
        process.exit(2);
      }
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    },
  );
}
