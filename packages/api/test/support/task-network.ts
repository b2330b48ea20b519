// A task's own network namespace, as awsvpc gives every Fargate task: its containers share one loopback, listen on the
// task definition's ports, and reach the local stand-ins for AWS (database, mail, payment provider) on the ports the
// task definition names. Both directions cross the namespace boundary through Unix sockets, which are files and so
// reachable from either side; a relay inside the namespace (this file run as a script) and one here join them to TCP.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface OutboundRoute {
  /** The port the containers connect to on localhost inside the task (e.g. DATABASE_PORT). */
  taskPort: number;
  /** Where it really is, on this machine. */
  host: string;
  port: number;
}

export interface TaskNetwork {
  /** The process that holds the namespace: `nsenter --net=/proc/<pid>/ns/net` joins it. */
  pid: number;
  /** This machine's address for a port a container listens on inside the task. */
  published(taskPort: number): { host: string; port: number };
  close(): Promise<void>;
}

interface InnerPlan {
  outbound: { taskPort: number; socket: string }[];
  inbound: { taskPort: number; socket: string }[];
}

const READY = "task network ready";
const thisFile = fileURLToPath(import.meta.url);

function pipeBoth(a: net.Socket, b: net.Socket): void {
  a.pipe(b);
  b.pipe(a);
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.on("error", end).on("close", end);
  b.on("error", end).on("close", end);
}

function relayServer(connect: () => net.Socket): net.Server {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = connect();
    sockets.add(client).add(upstream);
    client.on("close", () => sockets.delete(client));
    upstream.on("close", () => sockets.delete(upstream));
    pipeBoth(client, upstream);
  });
  const close = server.close.bind(server);
  server.close = (callback) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  };
  return server;
}

function listen(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/**
 * Creates the namespace (`unshare -n`, loopback up) with its inner relay, and the outer relays here: every route in
 * `outbound` answers on localhost:<taskPort> inside; every port in `published` is reachable here on a free port.
 * Needs root (or CAP_SYS_ADMIN) and `ip`.
 */
export async function startTaskNetwork(options: { dir: string; outbound: OutboundRoute[]; published: number[] }): Promise<TaskNetwork> {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const plan: InnerPlan = {
    outbound: options.outbound.map((route) => ({ taskPort: route.taskPort, socket: path.join(options.dir, `out-${route.taskPort}.sock`) })),
    inbound: options.published.map((taskPort) => ({ taskPort, socket: path.join(options.dir, `in-${taskPort}.sock`) })),
  };
  const servers: net.Server[] = [];
  for (const [index, route] of options.outbound.entries()) {
    const server = relayServer(() => net.connect({ host: route.host, port: route.port }));
    await listen(server, { path: plan.outbound[index]!.socket });
    servers.push(server);
  }
  const published = new Map<number, number>();
  for (const entry of plan.inbound) {
    const server = relayServer(() => net.connect({ path: entry.socket }));
    await listen(server, { host: "127.0.0.1", port: 0 });
    published.set(entry.taskPort, (server.address() as net.AddressInfo).port);
    servers.push(server);
  }

  const inner: ChildProcess = spawn(
    "unshare",
    ["--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", process.execPath, "--import", "tsx", thisFile, JSON.stringify(plan)],
    { cwd: path.resolve(path.dirname(thisFile), "../.."), stdio: ["pipe", "pipe", "pipe"] },
  );
  let output = "";
  inner.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  inner.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const closeServers = () => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the task network did not start in 20 s:\n${output}`)), 20_000);
      inner.stdout!.on("data", () => {
        if (output.includes(READY)) {
          clearTimeout(timer);
          resolve();
        }
      });
      inner.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the task network exited with ${code}:\n${output}`));
      });
    });
  } catch (error) {
    inner.kill("SIGKILL");
    await closeServers();
    throw error;
  }

  return {
    pid: inner.pid!,
    published(taskPort) {
      const port = published.get(taskPort);
      if (port === undefined) throw new Error(`port ${taskPort} is not published`);
      return { host: "127.0.0.1", port };
    },
    async close() {
      if (inner.exitCode === null) {
        const exited = new Promise((resolve) => inner.once("exit", resolve));
        inner.kill("SIGTERM");
        await exited;
      }
      await closeServers();
    },
  };
}

/** Inside the namespace: localhost:<taskPort> (IPv4 and IPv6) → outbound socket; inbound socket → localhost:<taskPort>. */
async function runInner(plan: InnerPlan): Promise<void> {
  const servers: net.Server[] = [];
  for (const route of plan.outbound) {
    for (const host of ["127.0.0.1", "::1"]) {
      const server = relayServer(() => net.connect({ path: route.socket }));
      await listen(server, { host, port: route.taskPort });
      servers.push(server);
    }
  }
  for (const route of plan.inbound) {
    const server = relayServer(() => net.connect({ host: "127.0.0.1", port: route.taskPort }));
    await listen(server, { path: route.socket });
    servers.push(server);
  }
  const stop = () => {
    for (const server of servers) server.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  // The test holds our stdin: when it ends (the test run is gone), so does the namespace.
  process.stdin.on("end", stop).on("close", stop).resume();
  console.log(READY);
}

if (process.argv[1] === thisFile) {
  await runInner(JSON.parse(process.argv[2]!) as InnerPlan);
}
