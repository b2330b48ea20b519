// Worker-thread entry for startDashboard: the dashboard's server, its rendering and its sockets, off the thread that
// generates load, so drawing the report never delays an arrival.
import { parentPort, workerData } from "node:worker_threads";
import type { ProgressSnapshot } from "../engine/run-script.ts";
import type { ReportOptions, SavedRun } from "../report/render-report.ts";
import { DashboardError, DashboardServer, type DashboardServerOptions } from "./dashboard-server.ts";

export type ToDashboard = { type: "progress"; snapshot: ProgressSnapshot } | { type: "finish"; saved: SavedRun; options: ReportOptions } | { type: "close" };

export type FromDashboard =
  | { type: "listening"; url: string }
  | { type: "finished" }
  | { type: "closed" }
  /** `isUsage`: a DashboardError (a port the user chose is taken), exit 2; otherwise a fault. */
  | { type: "error"; message: string; isUsage: boolean };

const port = parentPort;
if (!port) throw new Error("dashboard-worker.ts runs in a worker thread started by startDashboard");
const post = (message: FromDashboard) => port.postMessage(message);
const server = new DashboardServer(workerData as DashboardServerOptions);

const fail = (error: unknown) => post({ type: "error", message: error instanceof Error ? error.message : String(error), isUsage: error instanceof DashboardError });

port.on("message", (message: ToDashboard) => {
  try {
    switch (message.type) {
      case "progress":
        server.publish(message.snapshot);
        break;
      case "finish":
        server.finish(message.saved, message.options);
        post({ type: "finished" });
        break;
      case "close":
        server.close().then(() => {
          post({ type: "closed" });
          port.close();
        }, fail);
        break;
    }
  } catch (error) {
    fail(error);
  }
});

server.listen().then((url) => post({ type: "listening", url }), fail);
