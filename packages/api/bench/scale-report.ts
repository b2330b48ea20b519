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
${report.serverVersion} (this machine's system server, a fresh database), 2 cores shared with other programs (load average
${report.loadAverage.start.map((n) => n.toFixed(2)).join(", ")} at the start, ${report.loadAverage.end.map((n) => n.toFixed(2)).join(", ")} at the end). The core
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

Reproduce: \`pnpm bench:scale\` (a full run makes a ${(report.databaseBytes / 1e9).toFixed(1)} GB database and takes about ${Math.max(1, Math.round(report.loadSeconds / 60) + 3)} minutes; \`--smoke\` loads
200 products, 2,000 orders and 2,000 carts and writes nothing). Options: \`--products\`, \`--orders\`, \`--carts\`, \`--calls\`,
\`--keep\` (keep the database), \`SCALE_DATABASE_URL\` (a superuser's URL; default the system server at 127.0.0.1:5432).
This script replaces only what is between its own comment markers.
${SECTION.end}`;
}

/** What the numbers say, kept with the script so a re-run keeps it (written from the run recorded in the doc). */
export const SCALE_NOTES = `**What stays flat.** Every shopper call, placeOrder, the reconciler and the admin order list read about the same rows
with a year of data as on the demo data, through the indexes named in the table; no plan reads a large table whole. The
demo's "rows read" is often the larger: its tables are one page each, so the planner reads them whole (a catalogue of
15 products, 50 variants), where a year's plans probe an index for the few rows a call needs. Buffers still grow 1–3×
for those calls: a B-tree over a million rows is three levels deep, so each probe touches three or four pages where the
demo's one-page table cost one. Wall times move more (the ms ratio column) on a machine shared with other benchmarks
(the load average above), and with how much a call returns (below); "rows read" and buffers do not move with the load.

**What was changed to get there.**
- The catalogue pages with a keyset on (position, id) (\`product_listing_idx\`, and \`product_category_listing_idx\` for a
  category): a page 50 products from the end of 10,015 reads what the first page reads. Before, \`catalog.list\` returned
  the whole catalogue: with a year's 10,015 products that would have been every variant row of them in every answer.
- The admin order list sorted every order for each page (a Seq Scan of \`order\` in a 100,000-order trial run). Migration
  2026-12-03T06-30 adds \`order_created_idx\` (created_at, id), \`order_status_created_idx\`, \`order_email_created_idx\`
  (lower(email), created_at, id) and \`order_email_trgm_idx\` for the search's email fragment; each list now reads its
  page and stops.
- A catalogue search is planned with its pattern on each call (sent unnamed, not as a named prepared statement). In the
  first full run the named statement had settled on one generic plan, a walk of the listing order, and the search for
  a term one product matches read all 10,026 products; planned per call it goes through the trigram index
  (\`product_search_trgm_idx\`) and reads a handful of rows.

**What does not stay flat, and why.**
- \`admin.invariants\` reads every order, order line, payment and SKU: it proves that no order anywhere breaks the stock
  and charge invariants, so its cost is the size of the shop by definition (4–6 s for a million orders in the runs here, one
  consistent snapshot). Keeping it flat would mean checking only what changed since the last check, with running totals
  kept at write time: a different, weaker statement, and the database's constraints and the single place that writes
  each transition already hold the rules per order. It is an operator's and the load tester's check, not a shopper's
  call; run it off-peak.
- \`catalog.list\` pages take 2–4 ms with a year against 0.5–1 ms on the demo data while reading 1.3× the rows: the
  demo's 15 products do not fill a 24-product page (50 variant rows against 80, each with its description), and its
  one-page tables are hash-joined where a year's plan probes a three-level B-tree per variant (809 buffers). The cost is
  the page's, not the catalogue's: a page 50 products from the end of 10,015 reads 300 rows, as the first page does. The
  statement itself runs in about 0.4 ms (EXPLAIN ANALYZE, generic plan); the rest is reading 80 rows into products. The
  first page per currency, category and page size, which most shoppers ask for, is served from the catalogue cache.
- A search for a common term reads products in the listing order until the page is full: 5 % of the year's products
  match "merino", so the page reads about 500 products for 25; the cost follows how rare the term is, not the size of
  the catalogue (a rarer term goes through the trigram index instead, as above).
- \`catalog.categories\` reads one index entry per category (a skip scan): 46 categories against the demo's 6, whatever the
  number of products. It is cached with the catalogue.`;
