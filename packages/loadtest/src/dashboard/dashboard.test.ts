// The dashboard over real HTTP: startDashboard's server (in its worker thread), read with node's fetch as an event
// stream, fed a real engine run's progress snapshots and its saved result.
import { request as httpRequest } from "node:http";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { listen, waitUntil } from "../../test/support/index.ts";
import { renderReport } from "../report/render-report.ts";
import { recordRun, type RecordedRun } from "./dashboard-fixture.ts";
import type { DashboardState } from "./dashboard-page.ts";
import { DashboardError, DashboardServer } from "./dashboard-server.ts";
import { startDashboard, type Dashboard } from "./dashboard.ts";

let run: RecordedRun;
beforeAll(async () => {
  run = await recordRun();
}, 30_000);

const dashboards: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(dashboards.splice(0).map((dashboard) => dashboard.close()));
});

async function start(options: { title?: string; maxClients?: number } = {}): Promise<Dashboard> {
  const dashboard = await startDashboard({ title: options.title ?? "checkout-journey.yml", maxClients: options.maxClients });
  dashboards.push(dashboard);
  return dashboard;
}

interface EventStream {
  status: number;
  /** The next `state` event's data. */
  next(): Promise<DashboardState>;
  close(): void;
}

async function openEvents(url: string): Promise<EventStream> {
  const controller = new AbortController();
  const response = await fetch(new URL("/events", url), { signal: controller.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    status: response.status,
    async next() {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split("\n");
          const data = lines.find((line) => line.startsWith("data: "));
          if (lines.includes("event: state") && data) return JSON.parse(data.slice("data: ".length)) as DashboardState;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the event stream ended");
        buffer += value;
      }
    },
    close: () => controller.abort(),
  };
}

/** A raw GET (or another method) with the Host header given, as a rebinding page's request would carry it. */
function rawRequest(
  url: string,
  { method = "GET", host, path = "/" }: { method?: string; host?: string; path?: string },
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ hostname, port, path, method, headers: host === undefined ? {} : { host } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
    });
    request.on("error", reject);
    request.end();
  });
}

function chart(body: string, title: string): string {
  return body.match(new RegExp(`<svg [^>]*aria-label="${title.replace(/[()]/g, "\\$&")}"[\\s\\S]*?</svg>`))?.[0] ?? "";
}

/** The points of a chart's first series, whatever its mark (a polyline, or a dot for a lone point). */
function firstSeriesPoints(svg: string): number {
  const points = svg.match(/<polyline class="series"[^>]*points="([^"]*)"/)?.[1];
  if (points) return points.trim().split(/\s+/).length;
  return svg.includes("<circle ") ? 1 : 0;
}

/** What `<main id="report">` holds in a whole page. */
function mainOf(page: string): string {
  return page.match(/<main id="report">\n([\s\S]*)\n<\/main>/)?.[1] ?? "";
}

describe("startDashboard", () => {
  it("sends the report's charts and figures as an event per interval", async () => {
    const dashboard = await start();
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const events = await openEvents(dashboard.url);
    expect(events.status).toBe(200);
    const waiting = await events.next();
    expect(waiting).toMatchObject({ version: 0, phase: "waiting", passed: null, status: "Waiting for the first interval" });
    expect(chart(waiting.body, "Requests and failed requests per second")).toContain(">no data</text>");

    const [first, second] = run.snapshots;
    dashboard.publish(first!);
    const one = await events.next();
    expect(one).toMatchObject({ version: 1, phase: "running" });
    expect(firstSeriesPoints(chart(one.body, "Requests and failed requests per second"))).toBe(1);

    dashboard.publish(second!);
    const two = await events.next();
    expect(two.version).toBe(2);
    expect(firstSeriesPoints(chart(two.body, "Requests and failed requests per second"))).toBe(2);
    expect(firstSeriesPoints(chart(two.body, "Latency over time (from intended start)"))).toBe(2);
    const { counters } = second!;
    expect(two.status).toBe(`Running: ${(second!.elapsedMs / 1000).toFixed(0)} s, ${counters.requests} requests, ${counters.responses} responses`);
    expect(two.body).toContain(`<td>created</td><td>${counters.vusersCreated}</td>`);
    expect(two.body).toContain(`<td>404</td><td>${counters.statusCodes["404"]}</td>`);
    // The whole run's latency so far: both intervals' responses.
    expect(two.body).toContain(`<tr><td>from intended start</td><td>${first!.interval.latency.count + second!.interval.latency.count}</td>`);
    expect(two.body).not.toContain("NaN");
    events.close();
  });

  it("gives a page opened mid-run the current report at once, in the page and as its first event", async () => {
    const dashboard = await start();
    for (const snapshot of run.snapshots.slice(0, 2)) dashboard.publish(snapshot);
    const early = await openEvents(dashboard.url);
    // Events are sent in order: once the early page has version 2, the dashboard has it.
    let state = await early.next();
    while (state.version < 2) state = await early.next();

    const late = await openEvents(dashboard.url);
    const first = await late.next();
    expect(first.version).toBe(2);
    expect(first.body).toBe(state.body);
    const page = await (await fetch(dashboard.url)).text();
    expect(mainOf(page)).toBe(state.body);
    expect(page).toContain('data-version="2" data-phase="running"');
    early.close();
    late.close();
  });

  it("ends with the very content `report result.json` writes, and the verdict", async () => {
    const dashboard = await start();
    const events = await openEvents(dashboard.url);
    await events.next();
    for (const snapshot of run.snapshots) dashboard.publish(snapshot);
    // The run's own verdicts, all passing whatever this machine's load made of its schedule.
    const saved = { ...run.saved, verdicts: run.saved.verdicts!.map((verdict) => ({ ...verdict, passed: true })) };
    await dashboard.finish(saved);
    let state = await events.next();
    while (state.phase !== "finished") state = await events.next();
    expect(state.passed).toBe(true);
    expect(state.status).toBe("Finished: PASS");
    const frozen = mainOf(renderReport(saved));
    expect(frozen).toContain("<h2>Endpoints</h2>");
    expect(state.body).toBe(frozen);
    // A page opened after the end gets the final report too, and a publish after it changes nothing.
    dashboard.publish(run.snapshots[0]!);
    const page = await (await fetch(dashboard.url)).text();
    expect(mainOf(page)).toBe(frozen);
    expect(page).toContain('data-phase="finished"');
    expect(page).toContain('<span id="dashboard-status" class="pass">Finished: PASS</span>');
    events.close();
  });

  it("shows a failed verdict as FAIL", async () => {
    const dashboard = await start();
    await dashboard.finish({ ...run.saved, verdicts: [{ metric: "http.response_time.p99", max: 1, actual: 7, passed: false, message: "p99 7 ms > 1 ms" }] });
    const events = await openEvents(dashboard.url);
    expect(await events.next()).toMatchObject({ phase: "finished", passed: false, status: "Finished: FAIL" });
    events.close();
  });
});

describe("the dashboard's HTTP surface", () => {
  it("listens on 127.0.0.1 only", async () => {
    const dashboard = await start();
    const { port } = new URL(dashboard.url);
    // 127.0.0.2 is this machine too: a server bound to every address would answer there.
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: "127.0.0.2", port: Number(port) });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    expect(connected).toBe(false);
  });

  it("answers only to its own host name, so a rebound name cannot read it", async () => {
    const dashboard = await start();
    const { port } = new URL(dashboard.url);
    for (const host of ["evil.example", `evil.example:${port}`, `127.0.0.1:${Number(port) + 1}`, `127.0.0.1.evil.example:${port}`]) {
      for (const path of ["/", "/events", "/dashboard.js"]) {
        const response = await rawRequest(dashboard.url, { host, path });
        expect(response.status, `${host} ${path}`).toBe(403);
        expect(response.body).not.toContain("evil");
      }
    }
    expect((await rawRequest(dashboard.url, { host: `localhost:${port}` })).status).toBe(200);
    expect((await rawRequest(dashboard.url, { host: `127.0.0.1:${port}` })).status).toBe(200);
  });

  it("answers GET only", async () => {
    const dashboard = await start();
    const { host } = new URL(dashboard.url);
    for (const method of ["POST", "PUT", "DELETE", "HEAD", "OPTIONS"]) {
      const response = await rawRequest(dashboard.url, { method, host });
      expect(response.status, method).toBe(405);
      expect(response.headers.allow).toBe("GET");
    }
  });

  it("refuses an event stream past its limit, and takes one again when a page goes", async () => {
    const dashboard = await start({ maxClients: 2 });
    const open = [await openEvents(dashboard.url), await openEvents(dashboard.url)];
    expect(open.map((events) => events.status)).toEqual([200, 200]);
    const refused = await rawRequest(dashboard.url, { host: new URL(dashboard.url).host, path: "/events" });
    expect(refused.status).toBe(503);
    expect(refused.body).toContain("already serves 2 pages");
    // The page itself is still served.
    expect((await fetch(dashboard.url)).status).toBe(200);
    open[0]!.close();
    let again: EventStream | undefined;
    await waitUntil(
      "an event stream taken again after a page closed",
      async () => {
        const attempt = await openEvents(dashboard.url);
        if (attempt.status === 200) again = attempt;
        else attempt.close();
        return again !== undefined;
      },
      { timeoutMs: 5000, intervalMs: 50 },
    );
    expect((await again!.next()).version).toBe(0);
    again!.close();
    open[1]!.close();
  });

  it("serves a page with no inline script, under its policy, with the title escaped", async () => {
    const dashboard = await start({ title: '"><script>alert(1)</script>' });
    const response = await fetch(dashboard.url);
    expect(response.headers.get("content-security-policy")).toMatch(/^default-src 'none'; script-src 'self'; connect-src 'self';/);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const page = await response.text();
    expect(page).not.toContain("<script>alert");
    expect(page).toContain("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page.match(/<script\b[^>]*>/g)).toEqual(['<script src="/dashboard.js" defer>']);
    const script = await fetch(new URL("/dashboard.js", dashboard.url));
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await script.text()).toContain('new EventSource("/events")');
    expect((await fetch(new URL("/other", dashboard.url))).status).toBe(404);
  });

  it("refuses a port that is taken with a DashboardError naming it", async () => {
    const blocker = net.createServer();
    const stopped: Error[] = [];
    const port = await listen(blocker);
    try {
      const error = await startDashboard({ title: "x", port, onError: (e) => stopped.push(e) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DashboardError);
      expect((error as Error).message).toBe(`--dashboard: port ${port} on 127.0.0.1 is in use; give another port, or none for a free one`);
      expect(stopped).toEqual([]);
    } finally {
      blocker.close();
    }
  });
});

describe("DashboardServer", () => {
  it("lets go of a page that stops reading instead of queueing every rendering for it, and keeps one that reads", async () => {
    const server = new DashboardServer({ title: "x", maxQueuedBytes: 256 * 1024 });
    dashboards.push(server);
    const url = new URL(await server.listen());
    const reader = await openEvents(url.href);
    let received = 0;
    const reading = (async () => {
      for (;;) {
        await reader.next();
        received++;
      }
    })().catch(() => undefined);
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(`GET /events HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
    // Never read: once the kernel's buffers are full, the server's queue for it grows past the limit.
    socket.pause();
    await waitUntil("both streams open", () => server.clientCount === 2, { timeoutMs: 5000, intervalMs: 20 });
    const snapshot = run.snapshots[0]!;
    let published = 0;
    while (server.clientCount === 2 && published < 2000) {
      server.publish({ ...snapshot, interval: { ...snapshot.interval, startMs: published++ * 1000 } });
      await sleep(2);
    }
    expect(server.clientCount).toBe(1);
    await waitUntil("the reading page has every event", () => received === published + 1, { timeoutMs: 10_000, intervalMs: 20 });
    socket.destroy();
    reader.close();
    await reading;
  });
});
