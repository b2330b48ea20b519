// The database failover drill: two API processes behind HAProxy checking them as the ALB target groups do
// (stacks/health-check.ts), shoppers checking out through it, then PostgreSQL stopped (or cut off) for the outage and
// back again. It counts what the balancer and the shoppers saw; failover-report.ts judges it.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { TARGET_GROUP_HEALTH_CHECK, type TargetGroupHealthCheck } from "../../../../stacks/health-check.ts";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../../src/embedded-postgres.ts";
import { freePort } from "../free-port.ts";
import { startPaymentSandbox } from "@checkout/payment-sandbox";
import { startApiProcess, waitUntilReady, type ApiProcess } from "./api-process.ts";
import { ensureHaproxy, startHaproxy, type Haproxy, type Slot } from "./haproxy.ts";
import { startProbeShopper, type ShopperRequest } from "./probe-shopper.ts";
import { countOutcomes, type DatabaseFault, type FailoverDrillReport, type ServerReport } from "./failover-report.ts";
import { startTcpRelay } from "./tcp-relay.ts";

export interface FailoverDrillOptions {
  /** How long the database is gone (an RDS Multi-AZ failover takes 60–120 s). */
  outageSeconds: number;
  /** Default "stop". */
  fault?: DatabaseFault;
  /** Shoppers checking out at once through the balancer (default 4). */
  shoppers?: number;
  /** The balancer's check of each process (default: the target groups', TARGET_GROUP_HEALTH_CHECK). */
  healthCheck?: TargetGroupHealthCheck;
  /** A shopper's request is abandoned (and counted as a timeout) after this long; default 60 s, past HAProxy's `timeout server`. */
  requestTimeoutMs?: number;
  /** HAProxy's `timeout server`: a request the process has not answered in this long ends as a 504 (default 30 s). */
  serverTimeoutSeconds?: number;
  /** More settings for both API processes (e.g. a shorter RECONCILE_INTERVAL_MS, so that a short outage still spans a run). */
  apiEnv?: Record<string, string>;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new Error("failover drill aborted"));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error("failover drill aborted"));
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** Answers the process has served on the checked path (/health, or /ready), from its /metrics: all, and those not 200. */
async function checkAnswers(port: number, token: string, checkPath: string): Promise<{ total: number; not200: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  let total = 0;
  let not200 = 0;
  for (const match of text.matchAll(/^http_requests_total\{route="([^"]*)",method="[A-Z]+",status="(\d+)"\} (\d+)$/gm)) {
    if (match[1] !== checkPath) continue;
    total += Number(match[3]);
    if (match[2] !== "200") not200 += Number(match[3]);
  }
  return { total, not200 };
}

export async function runFailoverDrill(options: FailoverDrillOptions): Promise<FailoverDrillReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const check = options.healthCheck ?? TARGET_GROUP_HEALTH_CHECK;
  const shoppers = options.shoppers ?? 4;
  const dir = mkdtempSync(path.join(os.tmpdir(), "failover-drill-"));
  const cleanups: (() => Promise<unknown>)[] = [];
  const processes: Partial<Record<Slot, ApiProcess>> = {};
  const started = performance.now();
  const step = (line: string) => log(`[${((performance.now() - started) / 1000).toFixed(1)}s] ${line}`);
  let database: EmbeddedDatabase | null = null;
  let isWatching = true;
  const watchers: Promise<void>[] = [];

  try {
    const haproxyBinary = ensureHaproxy(step);
    // Our own server, never a shared one: the drill stops it. Same data directory and port when it comes back.
    const dataDir = path.join(dir, "postgres");
    const databasePort = await freePort();
    step(`starting PostgreSQL on 127.0.0.1:${databasePort}`);
    database = await startEmbeddedPostgres({ dataDir, port: databasePort });
    cleanups.push(async () => database?.stop());
    await database.createDatabase("checkout");
    const databaseUrl = database.url("checkout");
    const fault = options.fault ?? "stop";
    // The API processes reach the database through the relay when the fault is "unreachable"; the drill's own checks never do.
    const relay = fault === "unreachable" ? await startTcpRelay({ targetPort: databasePort }) : null;
    if (relay) cleanups.push(() => relay.close());
    const apiDatabaseUrl = relay ? withPort(databaseUrl, relay.port) : databaseUrl;

    const paymentSecretKey = `sk_drill_${randomBytes(12).toString("hex")}`;
    const webhookSecret = `whsec_${randomBytes(24).toString("hex")}`;
    const adminToken = randomBytes(24).toString("hex");
    const metricsToken = randomBytes(24).toString("hex");
    const sandbox = await startPaymentSandbox({ port: 0, host: "127.0.0.1", secretKey: paymentSecretKey, allowedParentOrigins: [] });
    cleanups.push(() => sandbox.close());

    const ports: Record<Slot, number> = { blue: await freePort(), green: await freePort() };
    // Both at once, as a deployment's tasks start: the migrations run under Kysely's migration lock and the seed
    // inserts what is missing, so the one that comes second finds them done.
    step("starting API processes blue and green");
    for (const slot of ["blue", "green"] as const) {
      const api = startApiProcess({
        version: `drill-${slot}`,
        port: ports[slot],
        databaseUrl: apiDatabaseUrl,
        paymentUrl: sandbox.url,
        paymentSecretKey,
        webhookSecret,
        adminToken,
        env: { ...options.apiEnv, METRICS_TOKEN: metricsToken },
      });
      processes[slot] = api;
    }
    await Promise.all(Object.values(processes).map((api) => waitUntilReady(api, 90_000)));
    // The seed holds ~45 units a SKU: restocked (available and received together) so the drill measures the outage, not "out of stock".
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query("update inventory set available = available + 100000, stock_received = stock_received + 100000, updated_at = now()").finally(() => client.end());

    const haproxy: Haproxy = await startHaproxy(haproxyBinary, {
      dir,
      port: await freePort(),
      backends: ports,
      live: "both",
      serverTimeoutMs: (options.serverTimeoutSeconds ?? 30) * 1000,
      healthCheck: {
        path: check.path,
        intervalMs: check.intervalSeconds * 1000,
        timeoutMs: check.timeoutSeconds * 1000,
        rise: check.healthyThreshold,
        fall: check.unhealthyThreshold,
      },
    });
    cleanups.push(() => haproxy.stop());
    sandbox.setWebhookTarget(`${haproxy.url}/webhooks/payments`, webhookSecret);
    step(
      `haproxy at ${haproxy.url}: GET ${check.path} every ${check.intervalSeconds} s, timeout ${check.timeoutSeconds} s, rise ${check.healthyThreshold}, fall ${check.unhealthyThreshold}; timeout server ${options.serverTimeoutSeconds ?? 30} s`,
    );

    // HAProxy's view of both servers and each process's own readiness, once a second for the whole drill.
    const statusesSeen: Record<Slot, string[]> = { blue: [], green: [] };
    const readiness: { slot: Slot; at: number; status: number }[] = [];
    const slots = ["blue", "green"] as const;
    for (const slot of slots) {
      watchers.push(
        (async () => {
          while (isWatching) {
            // A stats socket that does not answer counts as a status other than UP: the drill cannot vouch for that second.
            const status = await haproxy.server(slot).then(
              (stats) => stats.status,
              (error: unknown) => `unreadable (${String(error)})`,
            );
            if (statusesSeen[slot].at(-1) !== status) statusesSeen[slot].push(status);
            const at = performance.now();
            const ready = await fetch(`http://127.0.0.1:${ports[slot]}/ready`, { signal: AbortSignal.timeout(10_000) }).then(
              (r) => r.status,
              () => 0,
            );
            readiness.push({ slot, at, status: ready });
            await sleep(1000).catch(() => {});
          }
        })(),
      );
    }
    for (const slot of slots) {
      const deadline = performance.now() + 30_000;
      while ((await haproxy.server(slot)).status !== "UP") {
        if (performance.now() > deadline) throw new Error(`haproxy did not mark ${slot} UP within 30 s`);
        await sleep(200, options.signal);
      }
    }

    // From here on: HAProxy starts a server one failed check from DOWN ("UP 1/3") until its first check passes.
    for (const slot of slots) statusesSeen[slot] = ["UP"];

    const requests: ShopperRequest[] = [];
    const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    step(`${shoppers} shoppers checking out through haproxy (cart → checkout → placeOrder)`);
    const probes = Array.from({ length: shoppers }, () => startProbeShopper(haproxy.url, sandbox.url, { timeoutMs: requestTimeoutMs, onRequest: (r) => requests.push(r) }));
    const placed = (from: number) => requests.filter((r) => r.procedure === "checkout.placeOrder" && r.status === 200 && r.at >= from);
    const deadline = performance.now() + 60_000;
    while (placed(0).length < shoppers * 2 && performance.now() < deadline) await sleep(100, options.signal);
    const ordersBeforeOutage = placed(0).length;
    if (ordersBeforeOutage === 0) throw new Error(`no order was placed before the outage: ${JSON.stringify(countOutcomes(requests))}`);

    const healthBefore = { blue: await checkAnswers(ports.blue, metricsToken, check.path), green: await checkAnswers(ports.green, metricsToken, check.path) };
    step(`${ordersBeforeOutage} orders placed; ${relay ? "cutting the API processes off from" : "stopping"} PostgreSQL for ${options.outageSeconds} s`);
    const stopBegun = performance.now();
    if (relay) relay.cut();
    else {
      await database.stop();
      database = null;
    }
    const downAt = performance.now();
    // The outage counts from the moment the database is gone, however long stopping it took.
    await sleep(options.outageSeconds * 1000, options.signal);
    const restartBegun = performance.now();
    const healthAfter = { blue: await checkAnswers(ports.blue, metricsToken, check.path), green: await checkAnswers(ports.green, metricsToken, check.path) };
    if (relay) relay.restore();
    else database = await startEmbeddedPostgres({ dataDir, port: databasePort });
    const upAt = performance.now();
    step(`PostgreSQL back after ${((upAt - downAt) / 1000).toFixed(1)} s; waiting for orders to go through again`);

    // Recovered: every shopper's next checkouts go through, with nothing restarted.
    const recoveryDeadline = performance.now() + 60_000;
    while (placed(upAt).length < shoppers * 2 && performance.now() < recoveryDeadline) await sleep(100, options.signal);
    const shopped = await Promise.all(probes.map((probe) => probe.stop()));
    const acknowledged = shopped.flatMap((s) => s.acknowledged);
    isWatching = false;
    await Promise.all(watchers);
    step(`${placed(upAt).length} orders placed since PostgreSQL came back; checking the invariants`);

    const invariants = (await fetch(`${haproxy.url}/trpc/admin.invariants`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ orderNumbers: acknowledged }),
    }).then((r) => r.json())) as { result?: { data?: { passed: boolean; violations: unknown[]; orders: { byStatus: Record<string, number> } } } };
    const adminReport = invariants.result?.data;
    const sql = new pg.Client({ connectionString: databaseUrl });
    await sql.connect();
    const [withoutLines, withoutEvent] = await Promise.all([
      sql.query<{ n: number }>(`select count(*)::int as n from "order" o where not exists (select 1 from order_line l where l.order_id = o.id)`),
      sql.query<{ n: number }>(
        `select count(*)::int as n from "order" o where o.status not in ('pending_payment', 'payment_failed')
           and not exists (select 1 from outbox_event e where e.type = 'order.placed' and e.aggregate_id = o.id::text)`,
      ),
    ]).finally(() => sql.end());

    const servers: ServerReport[] = [];
    for (const slot of slots) {
      const stats = await haproxy.server(slot);
      const api = processes[slot]!;
      servers.push({
        slot,
        statusesSeen: statusesSeen[slot],
        checksFailed: stats.checksFailed,
        timesDown: stats.timesDown,
        healthChecksDuringOutage: healthAfter[slot].total - healthBefore[slot].total,
        healthChecksNot200: healthAfter[slot].not200,
        readyDuringOutage: countBy(readiness.filter((r) => r.slot === slot && r.at >= downAt && r.at < restartBegun).map((r) => String(r.status))),
        isRunningAtEnd: (await Promise.race([api.exited.then(() => false), sleep(0).then(() => true)])) === true,
        errorLogs: countBy(
          api
            .output()
            .split("\n")
            .filter((line) => /"level":"(error|fatal)"/.test(line))
            .map(messageOf),
        ),
      });
    }
    const during = requests.filter((r) => r.at >= downAt && r.at < restartBegun);
    const firstOrder = placed(upAt)
      .map((r) => r.at + r.ms)
      .sort((a, b) => a - b)[0];
    const readyMs: Partial<Record<Slot, number>> = {};
    for (const slot of slots) {
      const first = readiness.find((r) => r.slot === slot && r.at >= upAt && r.status === 200);
      if (first) readyMs[slot] = Math.round(first.at - upAt);
    }
    return {
      healthCheck: check,
      shoppers,
      outage: {
        fault,
        requestedSeconds: options.outageSeconds,
        seconds: Math.round((upAt - downAt) / 100) / 10,
        stopMs: Math.round(downAt - stopBegun),
        restartMs: Math.round(upAt - restartBegun),
      },
      servers,
      requests: {
        beforeOutage: countOutcomes(requests.filter((r) => r.at < downAt)),
        duringOutage: countOutcomes(during),
        afterOutage: countOutcomes(requests.filter((r) => r.at >= restartBegun)),
        timeouts: requests.filter((r) => r.error === "timeout").length,
        connectionErrors: requests.filter((r) => r.error === "connection").length,
        untyped503s: requests.filter((r) => r.status === 503 && (r.appCode !== "SERVICE_UNAVAILABLE" || r.httpStatusInBody !== 503 || !r.retryAfter)).length,
        slowestDuringOutageMs: Math.round(Math.max(0, ...during.map((r) => r.ms))),
      },
      recovery: { firstOrderMs: firstOrder === undefined ? null : Math.round(firstOrder - upAt), readyMs, ordersAfterRestart: placed(upAt).length },
      orders: { acknowledged: acknowledged.length, beforeOutage: ordersBeforeOutage },
      invariants: {
        passed: adminReport?.passed === true,
        violations: adminReport?.violations ?? [invariants],
        byStatus: adminReport?.orders.byStatus ?? {},
        ordersWithoutLines: withoutLines.rows[0]!.n,
        paidOrdersWithoutEvent: withoutEvent.rows[0]!.n,
      },
    };
  } finally {
    isWatching = false;
    await Promise.allSettled(watchers);
    await Promise.all(
      Object.values(processes).map(async (api) => {
        api.kill("SIGTERM");
        const timer = setTimeout(() => api.kill("SIGKILL"), 10_000);
        await api.exited;
        clearTimeout(timer);
      }),
    );
    for (const fn of cleanups.reverse()) await fn().catch((error: unknown) => log(`cleanup failed: ${String(error)}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

function withPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.port = String(port);
  return parsed.toString();
}

/** A log line's message (pino's msg), or its start when it is not JSON. */
function messageOf(line: string): string {
  try {
    return String((JSON.parse(line) as { msg?: unknown }).msg);
  } catch {
    return line.slice(0, 120);
  }
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
