// Worker threads that run one of the benches' TypeScript modules, and the next message from one.
import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * A worker thread running the TypeScript module at `module`. Node 20's workers do not inherit tsx's loader from the
 * main thread (and ignore `--import` in their execArgv), so the worker registers it before it imports the module.
 */
export function startTsWorker(module: URL, options: Omit<WorkerOptions, "eval"> = {}): Worker {
  const boot = `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(module.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/** The worker's next message; rejects if the worker fails first. */
export function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    worker.once("error", onError);
    worker.once("message", (message: T) => {
      worker.off("error", onError);
      resolve(message);
    });
  });
}
