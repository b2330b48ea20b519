// Per-client limits at the edge: open connections per socket peer, API requests in flight per client
// address, and a token bucket per client and rate class. One greedy client is refused; the rest are served.
// These hold per process; across tasks the WAF's rate rules (keyed on the viewer address) are the global limit.
import type net from "node:net";
import { limitKeyOf, socketAddressOf } from "./client-address.ts";
import { EdgeError } from "./edge-error.ts";

export type RateClass = "browse" | "cart" | "payment" | "admin";

export interface ClientLimitOptions {
  /** Open sockets per socket peer; Infinity behind a proxy, whose few addresses carry every shopper. */
  maxConnectionsPerPeer: number;
  /** API requests in progress per client address. */
  maxInFlightPerClient: number;
  /** Requests per minute per client address for each rate class (a bucket of that size refilled continuously). */
  perMinute: Record<RateClass, number>;
  /** Client keys (limitKeyOf) no per-client limit applies to (an operator's own load generator or monitor). */
  exempt?: ReadonlySet<string>;
  now?: () => number;
}

/** Clients tracked at most; beyond it the oldest idle buckets are dropped (a flood of addresses cannot grow memory). */
const MAX_TRACKED_CLIENTS = 50_000;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export interface ClientLimits {
  /** Counts a new socket against its peer; false when the peer is over its cap (the caller destroys it). */
  admitConnection(socket: net.Socket): boolean;
  /** Takes one request from the client's bucket for `rateClass`, or throws a 429 EdgeError. */
  takeRate(client: string, rateClass: RateClass): void;
  /** Holds an in-flight slot for `client` until the returned release is called, or throws a 429 EdgeError. */
  enter(client: string): () => void;
  /** Prometheus lines: refusals by limit. */
  renderMetrics(): string;
}

export function createClientLimits(options: ClientLimitOptions): ClientLimits {
  const now = options.now ?? (() => performance.now());
  const connections = new Map<string, number>();
  const inFlight = new Map<string, number>();
  const buckets = new Map<string, Bucket>();
  const refused = { connections: 0, in_flight: 0, rate: 0 };
  const exempt = options.exempt ?? new Set<string>();
  const noop = () => {};

  function refill(bucket: Bucket, perMinute: number, at: number): void {
    bucket.tokens = Math.min(perMinute, bucket.tokens + ((at - bucket.updatedAt) * perMinute) / 60_000);
    bucket.updatedAt = at;
  }

  return {
    admitConnection(socket) {
      if (!Number.isFinite(options.maxConnectionsPerPeer)) return true;
      const peer = limitKeyOf(socketAddressOf(socket));
      if (exempt.has(peer)) return true;
      const open = connections.get(peer) ?? 0;
      if (open >= options.maxConnectionsPerPeer) {
        refused.connections += 1;
        return false;
      }
      connections.set(peer, open + 1);
      socket.once("close", () => {
        const left = (connections.get(peer) ?? 1) - 1;
        if (left <= 0) connections.delete(peer);
        else connections.set(peer, left);
      });
      return true;
    },

    takeRate(client, rateClass) {
      if (exempt.has(client)) return;
      const perMinute = options.perMinute[rateClass];
      const key = `${rateClass}\u0000${client}`;
      const at = now();
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= MAX_TRACKED_CLIENTS) {
          // Maps iterate in insertion order: drop the oldest tenth, which a steady shopper has long refilled anyway.
          let drop = Math.ceil(MAX_TRACKED_CLIENTS / 10);
          for (const old of buckets.keys()) {
            buckets.delete(old);
            if (--drop === 0) break;
          }
        }
        bucket = { tokens: perMinute, updatedAt: at };
        buckets.set(key, bucket);
      } else {
        refill(bucket, perMinute, at);
      }
      if (bucket.tokens < 1) {
        refused.rate += 1;
        const retryAfterSeconds = Math.max(1, Math.ceil(((1 - bucket.tokens) * 60) / perMinute));
        throw new EdgeError("RATE_LIMITED", `Too many ${rateClass} requests from your address; retry in ${retryAfterSeconds} s`, {
          retryAfterSeconds,
          details: { limit: `${rateClass}: ${perMinute} per minute`, retryAfterSeconds },
        });
      }
      bucket.tokens -= 1;
    },

    enter(client) {
      if (exempt.has(client)) return noop;
      const running = inFlight.get(client) ?? 0;
      if (running >= options.maxInFlightPerClient) {
        refused.in_flight += 1;
        throw new EdgeError("RATE_LIMITED", `Too many requests in progress from your address (at most ${options.maxInFlightPerClient}); retry in 1 s`, {
          retryAfterSeconds: 1,
          details: { limit: `in flight: ${options.maxInFlightPerClient}`, retryAfterSeconds: 1 },
        });
      }
      inFlight.set(client, running + 1);
      let isReleased = false;
      return () => {
        if (isReleased) return;
        isReleased = true;
        const left = (inFlight.get(client) ?? 1) - 1;
        if (left <= 0) inFlight.delete(client);
        else inFlight.set(client, left);
      };
    },

    renderMetrics() {
      return [
        "# HELP http_client_limit_refusals_total Connections and requests refused by a per-client limit, by limit.",
        "# TYPE http_client_limit_refusals_total counter",
        ...Object.entries(refused).map(([limit, value]) => `http_client_limit_refusals_total{limit="${limit}"} ${value}`),
        "",
      ].join("\n");
    },
  };
}
