// The "A year of data" section of docs/BENCHMARKS.md: demo against a year per procedure, wall time and PostgreSQL's
// buffers, and the scans each call's plan used with a year of data. Kept below the notes marker, between its own markers.
import { sectionMarkers } from "@checkout/bench-support";
import { largeSeqScans, type ScaleReport } from "./scale.ts";

export const SECTION = sectionMarkers("scale-bench");

const ratio = (year: number, demo: number) => (demo > 0 ? `${(year / demo).toFixed(2)}×` : "–");
const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));
const count = (value: number) => value.toLocaleString("en-US");

/** The index and scan names of a plan, shortened for a table cell: "product_listing_idx, variant_product_idx, …". */
function scansCell(scans: string[]): string {
  const names = scans.map((scan) => {
    const index = /^(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (\S+)/.exec(scan)?.[1];
    if (index) return index;
    const seq = /^Seq Scan on (\S+)/.exec(scan)?.[1];
    return seq ? `**Seq Scan ${seq}**` : null;
  });
  return [...new Set(names.filter((name): name is string => name !== null))].join(", ") || "–";
}

export function renderScaleTable(report: ScaleReport): string {
  const header = [
    "| procedure | call | demo ms | year ms | ratio | demo rows read | year rows read | ratio | demo buffers | year buffers | ratio | statements | indexes and scans (year) |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  const rows = report.procedures.map(
    (p) =>
      `| \`${p.name}\` | ${p.what || "–"} | ${ms(p.demo.medianMs)} | ${ms(p.year.medianMs)} | ${ratio(p.year.medianMs, p.demo.medianMs)} | ${count(p.demo.plan.rowsRead)} | ${count(p.year.plan.rowsRead)} | ${ratio(p.year.plan.rowsRead, p.demo.plan.rowsRead)} | ${count(p.demo.plan.buffers)} | ${count(p.year.plan.buffers)} | ${ratio(p.year.plan.buffers, p.demo.plan.buffers)} | ${p.year.plan.statements} | ${scansCell(p.year.plan.scans)} |`,
  );
  return [...header, ...rows].join("\n");
}

export function renderScaleSection(input: { report: ScaleReport; date: string; commit: string; notes: string }): string {
  const { report } = input;
  const seqScans = report.procedures.flatMap((p) => largeSeqScans(p.year.plan).map((scan) => `${p.name} (${p.what || "–"}): ${scan}`));
  return `${SECTION.start}
## A year of data

Written by \`pnpm bench:scale\` (\`packages/api/bench/scale.ts\`) on ${input.date} at commit ${input.commit}; PostgreSQL
${report.serverVersion} (this machine's system server, a fresh database), 2 cores shared with other programs. The core
functions behind each procedure are called in-process (no HTTP, no catalogue cache: what the database does is what grows
with data), ${report.calls} timed calls each after warm-up (\`admin.invariants\`: 3), first on the demo catalogue, then on the same
database after loading a year (in ${report.loadSeconds.toFixed(0)} s, set-based SQL): ${count(report.size.products)} more products
(3 variants, 2 prices and stock each), ${count(report.size.orders)} orders with their carts, quotes, lines, payments and
audit rows (sealed into the hash chain by the database's own trigger), and ${count(report.size.abandonedCarts)} abandoned carts
with 2 lines each; then VACUUM ANALYZE. Rows: ${Object.entries(report.rows)
    .map(([table, n]) => `${table} ${count(n)}`)
    .join(", ")}.

PostgreSQL's own cost of one call, from \`auto_explain\` (ANALYZE, BUFFERS) on the connection, over every statement the
call ran (the audit seal's nested statements included), neither depending on the machine's load as the wall-time median
does: "rows read" is what the plans' scans read (rows returned or filtered out, times loops: a scan of a whole table
shows as that table's size), "buffers" the shared buffers hit or read. Rows read is the flatness test: a call that reads
the same rows with a year of data is flat. Buffers grow a little with any index lookup, since a B-tree of a million rows
is three levels deep where the demo's tables are one page that a sequential scan reads at once.

${renderScaleTable(report)}

Sequential scans of a large table in a year-of-data plan: ${seqScans.length === 0 ? "none." : `\n\n${seqScans.map((line) => `- ${line}`).join("\n")}`}

${input.notes.trim()}

Reproduce: \`pnpm bench:scale\` (a full run loads about 8 GB and takes about ${Math.max(1, Math.round(report.loadSeconds / 60) + 3)} minutes; \`--smoke\` loads
200 products, 2,000 orders and 2,000 carts and writes nothing). Options: \`--products\`, \`--orders\`, \`--carts\`, \`--calls\`,
\`--keep\` (keep the database), \`SCALE_DATABASE_URL\` (a superuser's URL; default the system server at 127.0.0.1:5432).
This script replaces only what is between its own comment markers.
${SECTION.end}`;
}

/** What the numbers say, kept with the script so a re-run keeps it (written from the run recorded in the doc). */
export const SCALE_NOTES = `Notes are written after a full run.`;
