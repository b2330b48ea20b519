// Minimal types for the part of autocannon 8's programmatic API the engine benchmark uses (it ships none).
declare module "autocannon" {
  import type { EventEmitter } from "node:events";

  export interface Options {
    url: string;
    connections?: number;
    pipelining?: number;
    /** Seconds. */
    duration?: number;
    /** A fixed number of requests to send (instead of `duration`). */
    amount?: number;
    /** Milliseconds between samples (default 1000); a run ends at a sample tick. */
    sampleInt?: number;
    /** Requests per second over all connections (each connection gets its share). */
    overallRate?: number;
    /** Seconds before a request counts as timed out. */
    timeout?: number;
  }

  export interface Histogram {
    average: number;
    mean: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p99: number;
  }

  export interface Result {
    /** Seconds. */
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    "2xx": number;
    /** Requests per one-second sample. */
    requests: Histogram & { sent: number };
    /** Milliseconds, whole (autocannon's own histogram, with its coordinated-omission correction under overallRate). */
    latency: Histogram;
  }

  export interface Instance extends EventEmitter, PromiseLike<Result> {
    on(event: "response", listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  export default function autocannon(options: Options): Instance;
}
