// Tests for the monitor loop: scheduling on a fake clock, and a real outage against a local HTTP server.
import http from "node:http";
import { describe, expect, it } from "vitest";
import { listen } from "../../test/support/index.ts";
import { monitorTargets, runMonitor, type CheckUrl, type Clock } from "./monitor.ts";

function fakeClock(): Clock {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += Math.max(0, ms);
    },
  };
}

describe("monitorTargets", () => {
  it("probes /health under the base URL and resolves a deep path against it", () => {
    expect(monitorTargets({ url: "http://api.test/", deep: "/trpc/catalog.list" })).toEqual(["http://api.test/health", "http://api.test/trpc/catalog.list"]);
  });
});

describe("runMonitor", () => {
  it("probes every interval for the duration and marks a round down when any check is down", async () => {
    const clock = fakeClock();
    const checkUrl: CheckUrl = async ({ url }) => {
      const isDown = url.endsWith("/ready") && clock.now() >= 10_000 && clock.now() < 20_000;
      return isDown ? { url, isUp: false, status: 503, reason: "HTTP 503", latencyMs: 3 } : { url, isUp: true, status: 200, latencyMs: 3 };
    };
    const seen: number[] = [];
    const report = await runMonitor({ url: "http://api.test", deep: "/ready", intervalS: 5, durationS: 60, timeoutMs: 2000 }, { clock, checkUrl, onProbe: (p) => seen.push(p.at) });
    expect(seen).toEqual([0, 5000, 10_000, 15_000, 20_000, 25_000, 30_000, 35_000, 40_000, 45_000, 50_000, 55_000]);
    expect(report.windowMs).toBe(60_000);
    expect(report.outages).toEqual([{ start: 10_000, end: 20_000, durationMs: 10_000, reasons: ["HTTP 503"], probes: 2, isOngoing: false }]);
    expect(report.isWithinBudget).toBe(false);
  });

  it("skips schedule slots that a slow round overran instead of bursting to catch up", async () => {
    const clock = fakeClock();
    const checkUrl: CheckUrl = async ({ url, timeoutMs }) => {
      const isSlow = clock.now() === 5000;
      if (isSlow) await clock.sleep(timeoutMs, undefined);
      return isSlow ? { url, isUp: false, reason: "timeout", latencyMs: timeoutMs } : { url, isUp: true, status: 200, latencyMs: 1 };
    };
    const report = await runMonitor({ url: "http://api.test", intervalS: 1, durationS: 10, timeoutMs: 2500 }, { clock, checkUrl });
    expect(report.probeLog.map((p) => p.at)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 8000, 9000]);
    expect(report.outages[0]).toMatchObject({ start: 5000, end: 8000, reasons: ["timeout"] });
  });

  it("stops when the signal aborts and ends the window there", async () => {
    const clock = fakeClock();
    const controller = new AbortController();
    const report = await runMonitor(
      { url: "http://api.test", intervalS: 1, timeoutMs: 100 },
      {
        clock,
        signal: controller.signal,
        checkUrl: async ({ url }) => ({ url, isUp: true, status: 200, latencyMs: 1 }),
        onProbe: (p) => p.at >= 4000 && controller.abort(),
      },
    );
    expect(report.probes).toBe(5);
    expect(report.endedAt).toBe(4000);
    expect(report.isWithinBudget).toBe(true);
  });

  it("sees a real server go away for about 1 s as one ECONNREFUSED outage, over budget", async () => {
    const server = http.createServer((req, res) => {
      res.writeHead(req.url === "/health" ? 200 : 404).end("ok");
    });
    const port = await listen(server);
    const outage = (async () => {
      await new Promise((r) => setTimeout(r, 600));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await new Promise((r) => setTimeout(r, 1000));
      await listen(server, port);
    })();
    try {
      const report = await runMonitor({ url: `http://127.0.0.1:${port}`, intervalS: 0.25, durationS: 2.5, timeoutMs: 200 });
      await outage;
      expect(report.outages).toHaveLength(1);
      const [window] = report.outages;
      expect(window?.reasons).toEqual(["ECONNREFUSED"]);
      expect(window?.isOngoing).toBe(false);
      // Probes every 250 ms saw the 1 s outage in several failed probes, one window.
      expect(window?.probes).toBeGreaterThanOrEqual(2);
      expect(report.probes).toBeGreaterThanOrEqual(8);
      expect(report.upProbes).toBe(report.probes - (window?.probes ?? 0));
      expect(report.isWithinBudget).toBe(false);
    } finally {
      await outage.catch(() => undefined);
      server.close();
    }
  });
});
