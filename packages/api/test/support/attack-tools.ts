// Attacks on the HTTP edge from this machine, each from its own loopback address, and the shopper probe that runs beside
// them: shared by the abuse suite (test/abuse.test.ts) and its benchmark (bench/abuse.ts). No test framework in here.
import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { ensureHaproxy, runHaproxy } from "../../scripts/rehearse/haproxy.ts";

export interface Target {
  host: string;
  port: number;
}

export function targetOf(url: string): Target {
  const parsed = new URL(url);
  return { host: parsed.hostname === "localhost" ? "127.0.0.1" : parsed.hostname, port: Number(parsed.port) };
}

/**
 * A loopback source address: Linux routes all of 127/8 to lo, so each is a distinct client to the server (its own
 * connection cap, in-flight cap and rate buckets). 127.0.0.1 is the shoppers'; attackers take the others.
 */
export function loopback(n: number): string {
  const last = n % 256;
  if (!Number.isInteger(n) || n < 2 || n > 65_000 || last === 0 || last === 255) throw new Error(`no loopback address number ${n}`);
  return `127.0.${Math.floor(n / 256)}.${last}`;
}

export function randomIp(): string {
  const [a, b, c, d] = randomBytes(4);
  return `${(a! % 223) + 1}.${b}.${c}.${d}`;
}

export interface Answer {
  /** The HTTP status, or 0 when the connection failed or closed without an answer. */
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** `error.data.appCode` of a JSON error answer. */
  appCode: string | null;
  /** Why there was no answer (status 0). */
  failure?: string;
}

/** `error.data.appCode` of a tRPC error, or `error.code` of the server's other JSON errors (static paths, webhooks). */
export function appCodeOf(text: string): string | null {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; data?: { appCode?: unknown } } };
    if (typeof body.error?.data?.appCode === "string") return body.error.data.appCode;
    return typeof body.error?.code === "string" ? body.error.code : null;
  } catch {
    return null;
  }
}

export interface SendOptions {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** A string, or pieces sent one after another with chunked encoding when no content-length header is given. */
  body?: string | string[];
  localAddress?: string;
  /** Without one, a fresh connection that is closed after the answer. */
  agent?: http.Agent;
  timeoutMs?: number;
}

/** One HTTP request from `localAddress`. Never throws: a connection that fails or closes without an answer is status 0. */
export function send(target: Target, options: SendOptions): Promise<Answer> {
  return new Promise((resolve) => {
    let isSettled = false;
    // Once the server answers (413 before the body is in), the rest of the body is not sent.
    let hasAnswer = false;
    let isBodySent = false;
    const settle = (answer: Answer) => {
      if (isSettled) return;
      isSettled = true;
      // A body the server stopped reading is not finished: this connection is of no further use.
      if (!isBodySent) req.destroy();
      resolve(answer);
    };
    const req = http.request(
      {
        host: target.host,
        port: target.port,
        method: options.method ?? "GET",
        path: options.path,
        headers: options.headers,
        localAddress: options.localAddress,
        agent: options.agent ?? false,
      },
      (res) => {
        hasAnswer = true;
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          settle({ status: res.statusCode ?? 0, headers: res.headers, text, appCode: appCodeOf(text) });
        });
        res.on("error", (error) => settle({ status: 0, headers: {}, text: "", appCode: null, failure: error.message }));
      },
    );
    req.setTimeout(options.timeoutMs ?? 15_000, () => req.destroy(new Error("no answer in time")));
    // A server that answers early (413) and closes may reset a body still being written: the answer, if any, wins.
    req.on("error", (error) => settle({ status: 0, headers: {}, text: "", appCode: null, failure: error.message }));
    const body = options.body;
    if (Array.isArray(body)) {
      void (async () => {
        for (const piece of body) {
          if (req.destroyed || isSettled || hasAnswer) return;
          if (!req.write(piece)) await new Promise((next) => req.once("drain", next));
        }
        isBodySent = true;
        req.end();
      })();
    } else {
      isBodySent = true;
      req.end(body);
    }
  });
}

/** A tRPC call: a POST with the JSON input as body, or a GET with ?input=. */
export function callProcedure(
  target: Target,
  procedure: string,
  input: unknown,
  options: { method?: "GET" | "POST"; headers?: Record<string, string>; localAddress?: string; agent?: http.Agent; timeoutMs?: number } = {},
): Promise<Answer> {
  const method = options.method ?? "POST";
  if (method === "GET") {
    const query = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return send(target, { ...options, method, path: `/trpc/${procedure}${query}` });
  }
  const body = JSON.stringify(input ?? null);
  return send(target, {
    ...options,
    method,
    path: `/trpc/${procedure}`,
    headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...options.headers },
    body,
  });
}

/** `result.data` of a successful tRPC answer; throws with the answer otherwise. */
export function dataOf<T>(answer: Answer, what: string): T {
  if (answer.status !== 200) throw new Error(`${what}: HTTP ${answer.status} ${answer.failure ?? answer.text.slice(0, 300)}`);
  return (JSON.parse(answer.text) as { result: { data: T } }).result.data;
}

// --- The shopper probe -----------------------------------------------------------------------------------------------

export interface ProbeSample {
  procedure: string;
  isOk: boolean;
  ms: number;
}

export interface ProbeReport {
  attempts: number;
  succeeded: number;
  successRate: number;
  /** The first few failures, as "procedure: status text". */
  failures: string[];
  samples: ProbeSample[];
}

export interface ShopperProbe {
  /** Stops after the requests in progress; resolves with what the shoppers saw. */
  stop(): Promise<ProbeReport>;
}

export interface ProbeOptions {
  /** The shoppers' source address; 127.0.0.1 unless given. */
  localAddresses?: string[];
  /** Shoppers per address, each a sequential loop on its own keep-alive connection, as a browser tab. */
  shoppersPerAddress?: number;
  /** Pause after each request (a shopper reads the page). */
  pauseMs?: number;
  /** A request not answered in this time counts as failed. */
  timeoutMs?: number;
}

/**
 * Real shoppers in loops: browse the catalogue (GET), create a cart, add a line, read the cart back (POST, as the
 * contract wants capability-carrying queries), again and again. A request succeeds on a 200 with `result.data`.
 */
export function startShopperProbe(target: Target, options: ProbeOptions = {}): ShopperProbe {
  const addresses = options.localAddresses ?? ["127.0.0.1"];
  const perAddress = options.shoppersPerAddress ?? 2;
  const pauseMs = options.pauseMs ?? 20;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const samples: ProbeSample[] = [];
  const failures: string[] = [];
  let isRunning = true;
  const agents: http.Agent[] = [];

  async function step(procedure: string, call: () => Promise<Answer>): Promise<Answer> {
    const started = performance.now();
    const answer = await call();
    const isOk = answer.status === 200 && answer.text.startsWith('{"result"');
    samples.push({ procedure, isOk, ms: performance.now() - started });
    if (!isOk && failures.length < 20) failures.push(`${procedure}: ${answer.status} ${answer.failure ?? answer.text.slice(0, 160)}`);
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    return answer;
  }

  async function shopper(localAddress: string): Promise<void> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    const common = { localAddress, agent, timeoutMs };
    while (isRunning) {
      await step("catalog.list", () => callProcedure(target, "catalog.list", { currency: "USD" }, { ...common, method: "GET" }));
      if (!isRunning) break;
      const created = await step("cart.create", () => callProcedure(target, "cart.create", { currency: "USD" }, common));
      if (created.status !== 200 || !isRunning) continue;
      const cartId = (JSON.parse(created.text) as { result: { data: { id: string } } }).result.data.id;
      await step("cart.addLine", () => callProcedure(target, "cart.addLine", { cartId, sku: "TEE-BLA-M", quantity: 1 }, common));
      if (!isRunning) break;
      await step("cart.get", () => callProcedure(target, "cart.get", { cartId }, common));
    }
  }

  const running = Promise.all(addresses.flatMap((address) => Array.from({ length: perAddress }, () => shopper(address))));
  return {
    async stop() {
      isRunning = false;
      await running;
      for (const agent of agents) agent.destroy();
      const succeeded = samples.filter((sample) => sample.isOk).length;
      return { attempts: samples.length, succeeded, successRate: samples.length === 0 ? 0 : succeeded / samples.length, failures, samples };
    },
  };
}

// --- Slow clients ----------------------------------------------------------------------------------------------------

export interface SlowSocketOutcome {
  localAddress: string;
  /** The status line's code when the server answered, else null. */
  status: number | null;
  appCode: string | null;
  /** The server closed the connection (or reset it); false: still open when the attacker gave up. */
  isClosedByServer: boolean;
  /** Bytes of the request the attacker got out before the server ended it. */
  bytesSent: number;
  /** From the end of the headers (slow bodies) or the connect (slow headers) to the server's answer or close. */
  endedAfterMs: number | null;
}

interface SlowSocketPlan {
  target: Target;
  localAddress: string;
  /** Sent at once on connect. */
  head: string;
  /** The next drip; sent every `everyMs` until the server ends the connection. */
  drip: () => string;
  everyMs: number;
  giveUpAfterMs: number;
}

function slowSocket(plan: SlowSocketPlan): Promise<SlowSocketOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: plan.target.host, port: plan.target.port, localAddress: plan.localAddress });
    let received = "";
    let bytesSent = 0;
    let startedAt = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let isDone = false;
    const finish = (isClosedByServer: boolean) => {
      if (isDone) return;
      isDone = true;
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(received)?.[1];
      const body = received.slice(received.indexOf("\r\n\r\n") + 4);
      resolve({
        localAddress: plan.localAddress,
        status: status ? Number(status) : null,
        appCode: appCodeOf(body.slice(body.indexOf("{"))),
        isClosedByServer,
        bytesSent,
        endedAfterMs: isClosedByServer ? Math.round(performance.now() - startedAt) : null,
      });
    };
    const write = (text: string) => {
      if (socket.destroyed || isDone) return;
      bytesSent += Buffer.byteLength(text);
      socket.write(text);
    };
    const giveUp = setTimeout(() => finish(false), plan.giveUpAfterMs);
    socket.on("connect", () => {
      write(plan.head);
      startedAt = performance.now();
      timer = setInterval(() => write(plan.drip()), plan.everyMs);
    });
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
    });
    socket.on("error", () => finish(true));
    socket.on("close", () => finish(true));
  });
}

export interface SlowAttack {
  target: Target;
  /** How many sockets from each address. */
  sockets: { localAddress: string; count: number }[];
  everyMs: number;
  giveUpAfterMs: number;
}

/**
 * Sockets that send complete headers with `Content-Length: contentLength` for `path`, then one body byte every
 * `everyMs`: the body would take contentLength × everyMs to arrive.
 */
export function slowBodies(attack: SlowAttack & { path: string; contentLength: number; method?: string; headers?: Record<string, string> }): Promise<SlowSocketOutcome[]> {
  const extra = Object.entries(attack.headers ?? {})
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  const head = `${attack.method ?? "POST"} ${attack.path} HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\nContent-Length: ${attack.contentLength}\r\n${extra}\r\n{`;
  return Promise.all(
    attack.sockets.flatMap(({ localAddress, count }) =>
      Array.from({ length: count }, () => slowSocket({ target: attack.target, localAddress, head, drip: () => " ", everyMs: attack.everyMs, giveUpAfterMs: attack.giveUpAfterMs })),
    ),
  );
}

/**
 * Sockets that send a request line and then one more header line every `everyMs`, never the blank line that ends the
 * headers; with `isSilent`, sockets that connect and send nothing at all.
 */
export function slowHeaders(attack: SlowAttack & { path: string; isSilent?: boolean }): Promise<SlowSocketOutcome[]> {
  let n = 0;
  const head = attack.isSilent ? "" : `POST ${attack.path} HTTP/1.1\r\nHost: shop\r\n`;
  const drip = () => {
    if (attack.isSilent) return "";
    n += 1;
    return `X-Slow-${n}: y\r\n`;
  };
  return Promise.all(
    attack.sockets.flatMap(({ localAddress, count }) =>
      Array.from({ length: count }, () => slowSocket({ target: attack.target, localAddress, head, drip, everyMs: attack.everyMs, giveUpAfterMs: attack.giveUpAfterMs })),
    ),
  );
}

export interface HeldSockets {
  sockets: net.Socket[];
  /** How many the server has closed so far. */
  closedCount(): number;
  destroy(): void;
}

/** Opens `count` connections from one address, one after another (each connected before the next), sending nothing. */
export async function openSockets(target: Target, localAddress: string, count: number): Promise<HeldSockets> {
  const sockets: net.Socket[] = [];
  const closed = new Set<net.Socket>();
  for (let i = 0; i < count; i += 1) {
    const socket = net.connect({ host: target.host, port: target.port, localAddress });
    socket.on("error", () => closed.add(socket));
    socket.on("close", () => closed.add(socket));
    // A socket the server closes at once may never report "connect" to us; "close" settles it too.
    await new Promise<void>((resolve) => {
      socket.once("connect", () => resolve());
      socket.once("close", () => resolve());
    });
    sockets.push(socket);
  }
  return {
    sockets,
    closedCount: () => closed.size,
    destroy: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

// --- Floods ----------------------------------------------------------------------------------------------------------

export interface FloodReport {
  sent: number;
  /** Answers by status ("0" = no answer). */
  statuses: Record<string, number>;
  appCodes: Record<string, number>;
  /** Answers by "status appCode" ("no answer" when there was none). */
  answers: Record<string, number>;
}

/**
 * `concurrency` closed loops spread over `localAddresses` (keep-alive, a connection per loop), each sending `request()`
 * again as soon as it has an answer, until `total` requests were sent or `until` has passed.
 */
export async function flood(
  target: Target,
  options: { request: (i: number) => SendOptions; localAddresses: string[]; concurrency: number; total?: number; until?: number },
): Promise<FloodReport> {
  const report: FloodReport = { sent: 0, statuses: {}, appCodes: {}, answers: {} };
  const agents = options.localAddresses.map(() => new http.Agent({ keepAlive: true, maxSockets: Math.ceil(options.concurrency / options.localAddresses.length) }));
  const hasMore = () => (options.total === undefined || report.sent < options.total) && (options.until === undefined || performance.now() < options.until);
  const loop = async (index: number) => {
    const at = index % options.localAddresses.length;
    while (hasMore()) {
      const request = options.request(report.sent);
      report.sent += 1;
      const answer = await send(target, { ...request, localAddress: options.localAddresses[at], agent: agents[at] });
      report.statuses[answer.status] = (report.statuses[answer.status] ?? 0) + 1;
      if (answer.appCode) report.appCodes[answer.appCode] = (report.appCodes[answer.appCode] ?? 0) + 1;
      const label = answer.status === 0 ? "no answer" : `${answer.status} ${answer.appCode ?? ""}`.trim();
      report.answers[label] = (report.answers[label] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => loop(index)));
  for (const agent of agents) agent.destroy();
  return report;
}

// --- Hostile bodies --------------------------------------------------------------------------------------------------

/** JSON nested `depth` levels: arrays (2 bytes a level) or objects (6 bytes a level). */
export function deepJson(depth: number, kind: "array" | "object" = "array"): string {
  return kind === "array" ? "[".repeat(depth) + "]".repeat(depth) : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

// --- A real proxy that sets the viewer address -----------------------------------------------------------------------

export interface ViewerAddressProxy {
  url: string;
  target: Target;
  stop(): Promise<void>;
}

/**
 * HAProxy in front of the API, standing in for CloudFront: it overwrites `header` with the client's own address and
 * port (whatever the client sent), and reaches the API from `sourceAddress`, so every shopper shares one socket address.
 */
export async function startViewerAddressProxy(options: {
  dir: string;
  port: number;
  backend: Target;
  header: string;
  sourceAddress: string;
  log?: (line: string) => void;
}): Promise<ViewerAddressProxy> {
  const target = { host: "127.0.0.1", port: options.port };
  const haproxy = await runHaproxy({
    binary: ensureHaproxy(options.log ?? (() => {})),
    configFile: path.join(options.dir, `viewer-proxy-${randomUUID()}.cfg`),
    config: `global
  maxconn 4096

defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  option http-keep-alive

frontend edge
  bind 127.0.0.1:${options.port}
  http-request set-header ${options.header} %[src]:%[src_port]
  default_backend api

backend api
  http-reuse always
  server api ${options.backend.host}:${options.backend.port} source ${options.sourceAddress}
`,
    isReady: () =>
      new Promise<boolean>((resolve) => {
        const probe = net.connect(target, () => {
          probe.destroy();
          resolve(true);
        });
        probe.on("error", () => resolve(false));
      }),
    notReady: `haproxy did not listen on ${options.port}`,
    stopSignal: "SIGTERM",
  });
  return { url: `http://127.0.0.1:${options.port}`, target, stop: () => haproxy.stop() };
}
