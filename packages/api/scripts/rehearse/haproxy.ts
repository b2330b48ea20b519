// HAProxy in front of the blue and green API slots: a generated config, the process, and its runtime API
// (the admin stats socket) through which the rehearsal moves traffic from one slot to the other. The abuse suite's
// viewer-address proxy runs its own config through the same runHaproxy.
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";

export type Slot = "blue" | "green";

export interface HaproxyOptions {
  dir: string;
  port: number;
  backends: Record<Slot, number>;
  /** The slot that takes traffic at start (the other is in maintenance until it is switched on), or both. */
  live: Slot | "both";
  /** How each server is checked; default: /ready twice a second (the rehearsal watches readiness closely). */
  healthCheck?: HaproxyHealthCheck;
  /** `timeout server`: a request the server has not answered in this long ends as a 504 (default 30 s). */
  serverTimeoutMs?: number;
}

/** HAProxy's active check of each server, in the terms a load balancer's health check is given. */
export interface HaproxyHealthCheck {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive passed checks before a server that was DOWN is UP again. */
  rise: number;
  /** Consecutive failed checks before a server that was UP is DOWN. */
  fall: number;
}

const REHEARSAL_HEALTH_CHECK: HaproxyHealthCheck = { path: "/ready", intervalMs: 500, timeoutMs: 2000, rise: 2, fall: 3 };

export interface Haproxy {
  url: string;
  /** One runtime API command; resolves with its answer. */
  command(line: string): Promise<string>;
  /** Current sessions, check status and check counters of a slot, from `show stat`. */
  server(slot: Slot): Promise<{ status: string; sessions: number; checksFailed: number; timesDown: number }>;
  stop(): Promise<void>;
}

/** The haproxy binary, installed from Debian's package when missing and we are root. */
export function ensureHaproxy(log: (line: string) => void): string {
  const found = spawnSync("sh", ["-c", "command -v haproxy || ls /usr/sbin/haproxy"], { encoding: "utf8" }).stdout.trim().split("\n")[0];
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error("haproxy is not installed: run `sudo apt-get install -y haproxy`, then try again");
  log("haproxy is missing: apt-get install -y haproxy");
  const install = spawnSync("apt-get", ["install", "-y", "haproxy"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (install.status !== 0) throw new Error("apt-get install -y haproxy failed");
  return "/usr/sbin/haproxy";
}

export function haproxyConfig(options: HaproxyOptions & { socket: string }): string {
  const check = options.healthCheck ?? REHEARSAL_HEALTH_CHECK;
  // The rehearsal's fast check re-checks a changing server sooner; a load balancer's check has one interval.
  const intervals = options.healthCheck ? `inter ${check.intervalMs}ms` : "inter 500ms fastinter 250ms downinter 500ms";
  const server = (slot: Slot) => `  server ${slot} 127.0.0.1:${options.backends[slot]} check${slot === options.live || options.live === "both" ? "" : " disabled"}`;
  return `global
  stats socket ${options.socket} mode 600 level admin
  maxconn 4096

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server ${options.serverTimeoutMs ?? 30_000}ms
  timeout http-keep-alive 10s
  timeout queue 10s
  # A check not answered within this fails (/ready asks the database: slow on a busy machine); fall failures in a row take a server out.
  timeout check ${check.timeoutMs}ms
  # A connection refused by a stopping process is tried again, on another server if need be.
  retries 3
  option redispatch 1
  option http-keep-alive

frontend checkout
  bind 127.0.0.1:${options.port}
  # As CloudFront does in a deployed stage: the shopper's address for the API, overwriting any a client sent.
  http-request set-header cloudfront-viewer-address %[src]:%[src_port]
  default_backend be

backend be
  balance roundrobin
  http-reuse safe
  option httpchk GET ${check.path}
  http-check expect status 200
  default-server ${intervals} rise ${check.rise} fall ${check.fall}
${server("blue")}
${server("green")}
`;
}

export interface HaproxyProcess {
  /** Sends the stop signal (SIGKILL if it has not exited 5 s later) and waits for the exit. */
  stop(): Promise<void>;
}

/** haproxy in the foreground on `config`, written to `configFile` and checked first; resolves once `isReady` says so (10 s at most). */
export async function runHaproxy(options: {
  binary: string;
  configFile: string;
  config: string;
  isReady: () => Promise<boolean>;
  /** The start of the error when it is not ready in time, e.g. "haproxy did not listen on 8080". */
  notReady: string;
  stopSignal: NodeJS.Signals;
}): Promise<HaproxyProcess> {
  writeFileSync(options.configFile, options.config);
  const check = spawnSync(options.binary, ["-c", "-f", options.configFile], { encoding: "utf8" });
  if (check.status !== 0) throw new Error(`haproxy rejected its config:\n${check.stdout}${check.stderr}`);
  // -db: stay in the foreground, so the process we hold is the one that serves.
  const child = spawn(options.binary, ["-db", "-f", options.configFile], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}:\n${output}`);
    if (await options.isReady()) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${options.notReady} within 10 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill(options.stopSignal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function startHaproxy(binary: string, options: HaproxyOptions): Promise<Haproxy> {
  const socket = path.join(options.dir, "haproxy.sock");
  const command = (line: string) =>
    new Promise<string>((resolve, reject) => {
      const connection = net.connect(socket);
      let answer = "";
      connection.on("data", (chunk: Buffer) => (answer += chunk.toString()));
      connection.once("error", reject);
      connection.once("end", () => resolve(answer));
      connection.write(`${line}\n`);
    });

  const haproxy = await runHaproxy({
    binary,
    configFile: path.join(options.dir, "haproxy.cfg"),
    config: haproxyConfig({ ...options, socket }),
    isReady: () =>
      command("show info").then(
        () => true,
        () => false,
      ),
    notReady: "haproxy's stats socket did not answer",
    // SIGUSR1: soft stop, finishing the connections it holds.
    stopSignal: "SIGUSR1",
  });

  return {
    url: `http://127.0.0.1:${options.port}`,
    command,
    async server(slot) {
      const csv = await command("show stat");
      const [header, ...rows] = csv.replace(/^# /, "").trim().split("\n");
      const columns = header!.split(",");
      const row = rows.map((line) => line.split(",")).find((cells) => cells[0] === "be" && cells[1] === slot);
      if (!row) throw new Error(`haproxy has no server be/${slot}:\n${csv}`);
      const count = (column: string) => Number(row[columns.indexOf(column)]);
      // chkfail: failed checks; chkdown: transitions UP → DOWN.
      return { status: row[columns.indexOf("status")]!, sessions: count("scur"), checksFailed: count("chkfail"), timesDown: count("chkdown") };
    },
    stop: () => haproxy.stop(),
  };
}
