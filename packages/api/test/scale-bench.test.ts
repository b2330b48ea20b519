// The year-of-data benchmark at a small scale: it loads, measures every procedure in both phases and reports their
// plans, and each listed statement has an index that serves it. Never judged on its numbers.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it, inject } from "vitest";
import { largeSeqScans, runScaleBench, type ScaleReport } from "../bench/scale.ts";
import { renderScaleSection } from "../bench/scale-report.ts";
// The admin URL of the server the run shares, as the global setup provides it (its ProvidedContext declaration).
import type {} from "./postgres.global-setup.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

const PROCEDURES = [
  "catalog.list",
  "catalog.categories",
  "catalog.get",
  "cart.create",
  "cart.addLine",
  "cart.get",
  "checkout.setContact",
  "checkout.setShippingAddress",
  "checkout.listShippingOptions",
  "checkout.setShippingOption",
  "checkout.quote",
  "checkout.placeOrder",
  "reconciler",
  "admin.orders.list",
  "admin.invariants",
];

/** The index each listed call's year-of-data plan must use (one of them, where the planner may rightly choose). */
const INDEX_OF: [name: string, what: string, index: string | string[]][] = [
  ["catalog.list", "first page (24)", "product_listing_idx"],
  ["catalog.list", "category Home, first page", "product_category_listing_idx"],
  ["catalog.list", 'search "no. 9999" (one product or none)', "product_search_trgm_idx"],
  ["catalog.categories", "every category", "product_category_listing_idx"],
  ["catalog.get", "one product", "product_pkey"],
  ["cart.get", "one line", "cart_line_cart_sku_key"],
  ["checkout.placeOrder", "authorise and capture", "audit_log_seq_key"],
  ["reconciler", "one pass", "order_status_idx"],
  ["admin.orders.list", "newest 50", "order_created_idx"],
  // A status most orders have is found fastest walking the newest orders; a rare one through its own index.
  ["admin.orders.list", "status cancelled, 50", ["order_status_created_idx", "order_created_idx"]],
  ["admin.orders.list", "one shopper's email", "order_email_created_idx"],
  // Few orders: walking the newest is cheapest; a year's worth: order_number_key and order_email_trgm_idx (BENCHMARKS.md).
  ["admin.orders.list", "search: an order number", ["order_number_key", "order_created_idx"]],
];

let report: ScaleReport;
beforeAll(async () => {
  const lines: string[] = [];
  report = await runScaleBench({
    adminUrl: inject("pgAdminUrl"),
    size: { products: 200, orders: 2000, abandonedCarts: 2000 },
    calls: 3,
    preferIndexes: true,
    progress: (line) => lines.push(line),
  });
  expect(lines.some((line) => line.includes("VACUUM ANALYZE done"))).toBe(true);
}, 300_000);

describe("the year-of-data benchmark, small", () => {
  it("loads the year: products, orders with lines, payments and audit rows, and abandoned carts", () => {
    expect(report.rows.product).toBeGreaterThanOrEqual(200);
    expect(report.rows.order).toBeGreaterThanOrEqual(2000);
    expect(report.rows.order_line).toBeGreaterThanOrEqual(4000);
    expect(report.rows.payment).toBeGreaterThanOrEqual(2000);
    expect(report.rows.audit_log).toBeGreaterThanOrEqual(4000);
    expect(report.rows.cart_line).toBeGreaterThanOrEqual(4000);
  });

  it("measures every procedure in both phases, each call running statements", () => {
    expect([...new Set(report.procedures.map((p) => p.name))].sort()).toEqual([...PROCEDURES].sort());
    for (const p of report.procedures) {
      for (const phase of [p.demo, p.year]) {
        expect(phase.medianMs, `${p.name} ${p.what}`).toBeGreaterThan(0);
        expect(phase.plan.statements, `${p.name} ${p.what}`).toBeGreaterThan(0);
      }
    }
  });

  it("finds an index for every listed statement, and no large table read whole except by the invariant check", () => {
    for (const [name, what, index] of INDEX_OF) {
      const p = report.procedures.find((candidate) => candidate.name === name && candidate.what === what);
      expect(p, `${name} ${what}`).toBeDefined();
      const names = [index].flat();
      const uses = p?.year.plan.scans.some((scan) => names.some((one) => scan.includes(` ${one} `) || scan.endsWith(` ${one}`)));
      expect(uses, `${name} ${what}: ${p?.year.plan.scans}`).toBe(true);
    }
    for (const p of report.procedures.filter((candidate) => candidate.name !== "admin.invariants")) {
      expect(largeSeqScans(p.year.plan), `${p.name} ${p.what}`).toEqual([]);
    }
  });

  it("renders the section between its markers", () => {
    const section = renderScaleSection({ report, date: "2026-12-03", commit: "abc1234", notes: "Notes." });
    expect(section.startsWith("<!-- scale-bench:start -->")).toBe(true);
    expect(section.trimEnd().endsWith("<!-- scale-bench:end -->")).toBe(true);
    for (const name of PROCEDURES) expect(section).toContain(`\`${name}\``);
  });

  it("prints its help for --help and does nothing else", async () => {
    const output = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
      const child = spawn("npx", ["tsx", "packages/api/bench/scale-main.ts", "--help"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
      let text = "";
      child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
      child.once("error", reject);
      // "close", not "exit": the pipes may still hold the last lines when the process exits.
      child.once("close", (code) => resolve({ code, text }));
    });
    expect(output.code).toBe(0);
    expect(output.text).toContain("Usage: pnpm bench:scale");
    expect(output.text).not.toContain("[scale]");
  });
});
