// `run --dashboard`: a live page of the report while the load runs, served from a worker thread (dashboard-worker.ts)
// so rendering never takes time from the load generator. The page is the report's own page; at the end it shows the
// very report `report result.json` writes, with the verdict.
import { Worker } from "node:worker_threads";
import type { ProgressSnapshot } from "../engine/run-script.ts";
import type { ReportOptions, SavedRun } from "../report/render-report.ts";
import { DashboardError, type DashboardServerOptions } from "./dashboard-server.ts";
import type { FromDashboard, ToDashboard } from "./dashboard-worker.ts";

export { DashboardError } from "./dashboard-server.ts";

export interface DashboardOptions extends DashboardServerOptions {
  /** Called once if the dashboard stops on a fault after it started (the run goes on without it). Default: a line on stderr. */
  onError?(error: Error): void;
}

export interface Dashboard {
  /** http://127.0.0.1:PORT/ */
  url: string;
  /** An interval closed (the engine's onProgress): the page redraws. Never throws, never waits. */
  publish(snapshot: ProgressSnapshot): void;
  /** The run is judged: the page shows the final report and its verdict. Resolves once the pages were sent it. */
  finish(saved: SavedRun, options?: ReportOptions): Promise<void>;
  /** Ends the pages' connections and stops serving. */
  close(): Promise<void>;
}

/** The worker entry; a .ts source gets tsx registered inside the worker first (Node 20 ignores --import in a Worker's execArgv). */
function startWorker(options: DashboardServerOptions): Worker {
  const entry = new URL("./dashboard-worker.ts", import.meta.url).href;
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: options });
}

/** Starts the dashboard; rejects with DashboardError when the port cannot be had. */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const { onError = (error) => process.stderr.write(`dashboard stopped: ${error.message}\n`), ...serverOptions } = options;
  const worker = startWorker(serverOptions);
  // Never keeps the process alive: the dashboard lives as long as the command that started it.
  worker.unref();
  let isGone = false;
  let isClosing = false;
  let hasStarted = false;
  const waiting = new Map<"finished" | "closed", () => void>();
  const gone = (error: Error | undefined) => {
    if (isGone) return;
    isGone = true;
    for (const resolve of waiting.values()) resolve();
    waiting.clear();
    if (error) onError(error);
  };
  const send = (message: ToDashboard) => {
    if (!isGone) worker.postMessage(message);
  };
  const reply = (type: "finished" | "closed", message: ToDashboard) =>
    new Promise<void>((resolve) => {
      if (isGone) return resolve();
      waiting.set(type, resolve);
      send(message);
    });

  const url = await new Promise<string>((resolve, reject) => {
    worker.on("message", (message: FromDashboard) => {
      switch (message.type) {
        case "listening":
          hasStarted = true;
          resolve(message.url);
          break;
        case "error":
          if (!hasStarted) {
            reject(message.isUsage ? new DashboardError(message.message) : new Error(`the dashboard could not start: ${message.message}`));
            isClosing = true;
          }
          gone(isClosing ? undefined : new Error(message.message));
          void worker.terminate();
          break;
        case "finished":
        case "closed":
          waiting.get(message.type)?.();
          waiting.delete(message.type);
          break;
      }
    });
    worker.on("error", (error) => {
      reject(error);
      gone(hasStarted ? error : undefined);
    });
    worker.on("exit", (code) => {
      reject(new Error(`the dashboard's thread exited (code ${code}) before it listened`));
      gone(isClosing ? undefined : new Error(`its thread exited (code ${code})`));
    });
  });

  return {
    url,
    publish: (snapshot) => send({ type: "progress", snapshot }),
    finish: (saved, reportOptions = {}) => reply("finished", { type: "finish", saved, options: reportOptions }),
    close: async () => {
      isClosing = true;
      await reply("closed", { type: "close" });
      gone(undefined);
      await worker.terminate();
    },
  };
}
