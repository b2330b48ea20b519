// axe-core in the page under test: every WCAG 2.x A/AA rule (and axe's best practices), any impact, as a list a failing
// assertion can print. The script is evaluated through the DevTools protocol, so the shop's CSP stays as it ships.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Frame, Page } from "playwright-core";
import { expect } from "vitest";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe on the page (or one of its frames, e.g. the card issuer's) as it is now; returns every violation (nothing filtered by impact). */
export async function axeViolations(page: Page | Frame): Promise<AxeViolation[]> {
  const hasAxe = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe === "object");
  if (!hasAxe) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> };
      }
    ).axe;
    const { violations } = await axe.run(document, {
      resultTypes: ["violations"],
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
    });
    return violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.map(String).join(" ")) }));
  });
}

/** Fails with every violation listed, at any impact. */
export async function expectNoAxeViolations(page: Page | Frame, state: string): Promise<void> {
  const violations = await axeViolations(page);
  expect(violations, `axe on ${state}:\n${violations.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.targets.join(", ")}`).join("\n")}`).toEqual([]);
}
