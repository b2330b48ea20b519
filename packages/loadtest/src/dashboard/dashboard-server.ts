// The dashboard's HTTP server: on 127.0.0.1 only, for GET only, answering only to its own host name (so a page from
// elsewhere cannot reach it by rebinding a name to 127.0.0.1). It keeps the latest report and hands it to a browser at
// once, then sends every new rendering as a server-sent event to a bounded number of open pages.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { ProgressSnapshot } from "../engine/run-script.ts";
import { renderReportBody, reportInput, type ReportOptions, type SavedRun } from "../report/render-report.ts";
import { CLIENT_SCRIPT, CLIENT_SCRIPT_PATH, DASHBOARD_CSP, EVENTS_PATH, renderDashboardPage, type DashboardPhase, type DashboardState } from "./dashboard-page.ts";
import { LiveReport } from "./live-report.ts";

/** The dashboard's limits, in one place. */
export const DASHBOARD_LIMITS = {
  /** Pages open at once (event streams); one more is refused with 503. */
  maxClients: 8,
  /** Bytes queued for a page that does not read its events; past this it is disconnected rather than buffered for. */
  maxQueuedBytes: 8 * 1024 * 1024,
  /** Sockets at once, pages and their other requests together. */
  maxSockets: 32,
} as const;

export const LISTEN_HOST = "127.0.0.1";

/** A dashboard that cannot start (its port taken or not allowed): the user's to fix, exit 2. */
export class DashboardError extends Error {
  override readonly name = "DashboardError";
}

export interface DashboardServerOptions {
  /** Shown on the page's status line and window title, e.g. the script's file name; escaped. */
  title: string;
  /** 0 or absent: a free port. */
  port?: number;
  /** The run's interval length and lateness threshold, when not the engine's defaults (1000 ms, 10 ms). */
  intervalMs?: number;
  lateThresholdMs?: number;
  maxClients?: number;
  maxQueuedBytes?: number;
}

const COMMON_HEADERS = {
  "Content-Security-Policy": DASHBOARD_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

function plain(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...COMMON_HEADERS, "Content-Type": "text/plain; charset=utf-8", ...headers });
  response.end(`${text}\n`);
}

function statusLine(phase: DashboardPhase, passed: boolean | null, snapshot: ProgressSnapshot | undefined, aborted: boolean): string {
  if (phase === "finished") return `Finished${aborted ? " (aborted)" : ""}${passed === null ? "" : passed ? ": PASS" : ": FAIL"}`;
  if (!snapshot) return "Waiting for the first interval";
  const { counters } = snapshot;
  return `Running: ${(snapshot.elapsedMs / 1000).toFixed(0)} s, ${counters.requests.toLocaleString("en-US")} requests, ${counters.responses.toLocaleString("en-US")} responses`;
}

export class DashboardServer {
  private readonly server: Server;
  private readonly live: LiveReport;
  private readonly clients = new Set<ServerResponse>();
  private readonly maxClients: number;
  private readonly maxQueuedBytes: number;
  private port = 0;
  private phase: DashboardPhase = "waiting";
  private passed: boolean | null = null;
  private aborted = false;
  private latest: ProgressSnapshot | undefined;
  private version = 0;
  /** The last rendering; made again only when a page wants it after a change (nobody watching costs nothing). */
  private rendered: DashboardState | undefined;

  constructor(private readonly options: DashboardServerOptions) {
    this.live = new LiveReport({ intervalMs: options.intervalMs, lateThresholdMs: options.lateThresholdMs });
    this.maxClients = options.maxClients ?? DASHBOARD_LIMITS.maxClients;
    this.maxQueuedBytes = options.maxQueuedBytes ?? DASHBOARD_LIMITS.maxQueuedBytes;
    this.server = createServer((request, response) => this.handle(request, response));
    this.server.maxConnections = DASHBOARD_LIMITS.maxSockets;
  }

  /** Listens on 127.0.0.1; resolves to the page's URL. */
  async listen(): Promise<string> {
    const port = this.options.port ?? 0;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        const reason = error.code === "EADDRINUSE" ? "is in use" : error.code === "EACCES" ? "is not allowed for this user" : `cannot be used (${error.code ?? error.message})`;
        reject(new DashboardError(`--dashboard: port ${port} on ${LISTEN_HOST} ${reason}; give another port, or none for a free one`));
      };
      this.server.once("error", onError);
      this.server.listen(port, LISTEN_HOST, () => {
        this.server.off("error", onError);
        resolve();
      });
    });
    const address = this.server.address();
    this.port = typeof address === "object" && address ? address.port : port;
    return this.url;
  }

  get url(): string {
    return `http://${LISTEN_HOST}:${this.port}/`;
  }

  /** Pages with an open event stream. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** An interval closed: the report so far goes to every open page. Ignored after finish. */
  publish(snapshot: ProgressSnapshot): void {
    if (this.phase === "finished") return;
    this.live.add(snapshot);
    this.latest = snapshot;
    this.phase = "running";
    this.version++;
    if (this.clients.size > 0) this.broadcast();
  }

  /** The run is judged: every page shows the final report (renderReport's very content) and the verdict. */
  finish(saved: SavedRun, options: ReportOptions = {}): void {
    if (this.phase === "finished") return;
    this.phase = "finished";
    this.aborted = saved.aborted;
    this.passed = saved.verdicts ? saved.verdicts.every((v) => v.passed) : null;
    this.version++;
    this.rendered = this.stateWith(renderReportBody(reportInput(saved, options)));
    this.live.dispose();
    this.broadcast();
  }

  /** Ends every event stream (waiting, up to a second, for what was queued to go out) and stops listening. */
  async close(): Promise<void> {
    const ended = [...this.clients].map(
      (response) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1000);
          response.once("close", () => {
            clearTimeout(timer);
            resolve();
          });
          response.end();
        }),
    );
    await Promise.all(ended);
    this.clients.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.live.dispose();
  }

  private stateWith(body: string): DashboardState {
    return { version: this.version, phase: this.phase, passed: this.passed, status: statusLine(this.phase, this.passed, this.latest, this.aborted), body };
  }

  private state(): DashboardState {
    if (this.rendered?.version !== this.version) this.rendered = this.stateWith(renderReportBody(this.live.input()));
    return this.rendered;
  }

  private broadcast(): void {
    const event = this.event(this.state());
    for (const client of this.clients) this.send(client, event);
  }

  private event(state: DashboardState): string {
    // JSON has no raw line break, so the whole state is one data line.
    return `event: state\nid: ${state.version}\ndata: ${JSON.stringify(state)}\n\n`;
  }

  private send(client: ServerResponse, event: string): void {
    if (client.writableLength > this.maxQueuedBytes) {
      // A page that stopped reading: let it go rather than hold every rendering for it.
      this.clients.delete(client);
      client.destroy();
      return;
    }
    client.write(event);
  }

  private isOwnHost(host: string | undefined): boolean {
    const name = host?.toLowerCase();
    return name === `${LISTEN_HOST}:${this.port}` || name === `localhost:${this.port}`;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    if (!this.isOwnHost(request.headers.host)) {
      plain(response, 403, `This dashboard answers only at ${this.url}`);
    } else if (request.method !== "GET") {
      plain(response, 405, "The dashboard answers GET only", { Allow: "GET" });
    } else {
      this.route((request.url ?? "/").split("?")[0] ?? "/", request, response);
    }
  }

  private route(path: string, request: IncomingMessage, response: ServerResponse): void {
    switch (path) {
      case "/":
        response.writeHead(200, { ...COMMON_HEADERS, "Content-Type": "text/html; charset=utf-8" });
        response.end(renderDashboardPage(this.state(), this.options.title));
        break;
      case CLIENT_SCRIPT_PATH:
        response.writeHead(200, { ...COMMON_HEADERS, "Content-Type": "text/javascript; charset=utf-8" });
        response.end(CLIENT_SCRIPT);
        break;
      case EVENTS_PATH:
        this.openEvents(request, response);
        break;
      case "/favicon.ico":
        response.writeHead(204, COMMON_HEADERS);
        response.end();
        break;
      default:
        plain(response, 404, "Not found: the dashboard is at /");
    }
  }

  private openEvents(request: IncomingMessage, response: ServerResponse): void {
    if (this.clients.size >= this.maxClients) {
      plain(response, 503, `The dashboard already serves ${this.maxClients} pages; close one and reload`, { "Retry-After": "5" });
      return;
    }
    response.writeHead(200, { ...COMMON_HEADERS, "Content-Type": "text/event-stream; charset=utf-8" });
    this.clients.add(response);
    request.socket.setNoDelay(true);
    response.once("close", () => this.clients.delete(response));
    // The current report at once, so a page opened mid-run (or after the end) has it without waiting for an interval.
    response.write(`retry: 2000\n\n${this.event(this.state())}`);
  }
}
