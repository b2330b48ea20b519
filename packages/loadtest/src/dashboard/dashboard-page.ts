// The live dashboard's page: the report's own page (renderReportPage) with a status line and one served script that
// swaps in each new rendering of the report's content, sent by the server over server-sent events.
import { renderReportPage } from "../report/render-report.ts";
import { escapeHtml } from "../report/svg-charts.ts";

/** Where the run is: no interval yet, intervals arriving, or the final report shown. */
export type DashboardPhase = "waiting" | "running" | "finished";

/** What every event carries, and what a page loaded mid-run starts from: the whole report's content, rendered. */
export interface DashboardState {
  /** Grows with every change; the page skips an event whose version it already shows. */
  version: number;
  phase: DashboardPhase;
  /** The final verdict: true pass, false fail, null not judged (yet). */
  passed: boolean | null;
  /** One line for the status bar and the window title, plain text. */
  status: string;
  /** From renderReportBody: the content of `<main id="report">`. */
  body: string;
}

/**
 * Scripts only from the dashboard itself, events only from it, inline styles for the report's stylesheet and its
 * colour swatches, and nothing else: no inline script, no frame, no form, nothing from elsewhere.
 */
const PAGE_CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/** The header's policy: the page's, and no framing (which a policy in a `<meta>` cannot say). */
export const DASHBOARD_CSP = `${PAGE_CSP}; frame-ancestors 'none'`;

export const CLIENT_SCRIPT_PATH = "/dashboard.js";
export const EVENTS_PATH = "/events";

/** The page's script (served at CLIENT_SCRIPT_PATH): the report's content and the status line from each event. */
export const CLIENT_SCRIPT = `"use strict";
(() => {
  const main = document.getElementById("report");
  const bar = document.getElementById("dashboard");
  const status = document.getElementById("dashboard-status");
  const title = document.getElementById("dashboard-title").textContent;
  let version = Number(bar.dataset.version);
  const events = new EventSource(${JSON.stringify(EVENTS_PATH)});
  events.addEventListener("state", (event) => {
    const state = JSON.parse(event.data);
    if (state.version !== version) {
      main.innerHTML = state.body;
      version = state.version;
      bar.dataset.version = String(version);
    }
    bar.dataset.phase = state.phase;
    status.textContent = state.status;
    status.className = state.passed === null ? "" : state.passed ? "pass" : "fail";
    document.title = state.status + " · " + title;
    // The final report is shown: nothing more will come, so no reconnecting when the load tester exits.
    if (state.phase === "finished") events.close();
  });
  events.addEventListener("error", () => {
    if (bar.dataset.phase !== "finished") status.textContent = "No connection to the load tester; retrying. The page shows the report as last received.";
  });
})();
`;

const DASHBOARD_STYLE = `<style>
#dashboard { position: sticky; top: 0; z-index: 1; background: #fff; border-bottom: 1px solid #ddd; padding: 8px 0; margin: -8px 0 8px; }
#dashboard[data-phase="running"] #dashboard-status::before { content: "● "; color: #1a7f37; }
</style>
`;

/** The whole document for a browser that opens the dashboard: the current state, then the script keeps it current. */
export function renderDashboardPage(state: DashboardState, title: string): string {
  const statusClass = state.passed === null ? "" : ` class="${state.passed ? "pass" : "fail"}"`;
  return renderReportPage({
    body: state.body,
    title: `${state.status} · ${title}`,
    csp: PAGE_CSP,
    head: `${DASHBOARD_STYLE}<script src="${CLIENT_SCRIPT_PATH}" defer></script>\n`,
    before:
      `<header id="dashboard" data-version="${state.version}" data-phase="${state.phase}">` +
      `<strong id="dashboard-title">${escapeHtml(title)}</strong> · <span id="dashboard-status"${statusClass}>${escapeHtml(state.status)}</span></header>\n`,
  });
}
