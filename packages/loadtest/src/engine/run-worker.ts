// Worker-thread entry for runScriptParallel: runs one shard of the script and posts its progress and result.
import { parentPort, workerData } from "node:worker_threads";
import { runScript, type ProgressSnapshot, type RunOptions } from "./run-script.ts";
import type { RunResult } from "./run-result.ts";
import type { Script } from "../script/script-types.ts";

export interface WorkerInput {
  script: Script;
  shard: { index: number; count: number };
  options: Pick<RunOptions, "lateThresholdMs" | "intervalMs" | "connectionsPerOrigin">;
  withProgress: boolean;
}

export type ToWorker = { type: "start"; startAt: number } | { type: "abort" };

export type FromWorker =
  | { type: "ready" }
  | { type: "progress"; snapshot: ProgressSnapshot }
  | { type: "result"; result: RunResult }
  | { type: "error"; message: string; stack: string | undefined };

const port = parentPort;
if (!port) throw new Error("run-worker.ts runs in a worker thread started by runScriptParallel");
const input = workerData as WorkerInput;
const controller = new AbortController();
const post = (message: FromWorker) => port.postMessage(message);

port.on("message", (message: ToWorker) => {
  if (message.type === "abort") {
    controller.abort();
    return;
  }
  runScript(input.script, {
    ...input.options,
    shard: input.shard,
    startAt: message.startAt,
    signal: controller.signal,
    progressHistograms: true,
    onProgress: input.withProgress ? (snapshot) => post({ type: "progress", snapshot }) : undefined,
  }).then(
    (result) => post({ type: "result", result }),
    (error: unknown) =>
      post({
        type: "error",
        message: error instanceof Error ? error.message : String(error),
        stack: error instanceof Error ? error.stack : undefined,
      }),
  );
});
post({ type: "ready" });
