// A lean HTTP/1.1 keep-alive client for one origin: pre-encoded requests (http-request.ts), one request per socket
// at a time (no pipelining; the socket and its response parser are http-connection.ts), and one timer for every
// deadline. Built for the engine's hot path, where undici's general machinery cost more CPU per request than the load
// itself (see docs/BENCHMARKS.md).
import net from "node:net";
import tls from "node:tls";
import { performance } from "node:perf_hooks";
import { Connection, type ConnectionPool } from "./http-connection.ts";
import { Exchange, HttpPoolError, type HttpResponse, type ResponseReceiver } from "./http-exchange.ts";
import type { EncodedRequest } from "./http-request.ts";

/**
 * Up to this many sockets open as soon as a request finds none idle; beyond, a socket opens only for a request still
 * waiting GROW_AFTER_MS later. Against a fast server a response frees a socket sooner, and every socket more costs both
 * sides CPU per request (about a fifth more at 100 sockets than at 10 against node:http here); against a slow one the
 * pool still grows to what the load needs, each request's wait counted in its latency.
 */
const EAGER_CONNECTIONS = 16;
const GROW_AFTER_MS = 1;
/** Idle sockets older than this are not reused: servers close idle keep-alive sockets (node:http after 5 s) and a
 * request written into a socket the server is closing fails for no fault of the server. undici's default is 4 s too. */
const IDLE_REUSE_MS = 4000;

/** A FIFO that does not shift arrays: a head index, compacted now and then. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/** A receiver that throws has a bug of its own: surface it, without leaving a socket half-handled. */
function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

export interface HttpPoolOptions {
  /** http: or https: origin, e.g. `http://127.0.0.1:3000`. */
  origin: string;
  /** At most this many sockets; requests beyond wait (their wait still counts in the caller's latency). */
  connections: number;
  /** From dispatch (including the wait for a socket) to the end of the response. */
  timeoutMs: number;
}

/** Keep-alive sockets to one origin, each carrying one request at a time. */
export class HttpPool implements ConnectionPool {
  readonly isTls: boolean;
  readonly timeoutMs: number;
  private readonly host: string;
  private readonly port: number;
  private readonly maxConnections: number;
  /** Last in, first out: the busiest sockets stay warm. */
  private readonly idle: Connection[] = [];
  private readonly waiting = new Fifo<Exchange>();
  /** Unsettled exchanges in dispatch order (settled ones leave from the front): deadlines ascend, so one timer serves all. */
  private readonly deadlines = new Fifo<Exchange>();
  private deadlineTimer: NodeJS.Timeout | null = null;
  private growTimer: NodeJS.Timeout | null = null;
  private connectionCount = 0;
  private connectingCount = 0;
  private isClosed = false;
  private readonly onAllClosed: (() => void)[] = [];
  /** Shared by every plain socket of the pool: a read is parsed before the next one can land. */
  readonly readBuffer = Buffer.allocUnsafe(64 * 1024);

  constructor({ origin, connections, timeoutMs }: HttpPoolOptions) {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`unsupported protocol in "${origin}"`);
    this.isTls = url.protocol === "https:";
    this.host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    this.port = Number(url.port || (this.isTls ? 443 : 80));
    this.maxConnections = connections;
    this.timeoutMs = timeoutMs;
  }

  /** Sends a request; `receiver` gets the status (and the body when `collectBody`) or a coded error, never synchronously. */
  send(request: EncodedRequest, collectBody: boolean, receiver: ResponseReceiver): void {
    if (this.isClosed) {
      queueMicrotask(() => receiver.onError(new HttpPoolError("ECLOSED", "the pool is closed")));
      return;
    }
    const nowMs = performance.now();
    const exchange = new Exchange(request, collectBody, nowMs + this.timeoutMs, receiver);
    this.deadlines.push(exchange);
    if (!this.deadlineTimer) this.armDeadlineTimer(this.timeoutMs);
    let connection = this.idle.pop();
    while (connection && nowMs - connection.idleSinceMs > IDLE_REUSE_MS) {
      connection.socket.destroy();
      connection = this.idle.pop();
    }
    if (connection) {
      connection.start(exchange);
      return;
    }
    this.waiting.push(exchange);
    if (this.connectionCount < this.maxConnections && this.connectingCount < this.waiting.size) {
      if (this.connectionCount < EAGER_CONNECTIONS) this.connect();
      else if (!this.growTimer) {
        this.growTimer = setTimeout(this.growIfStillWaiting, GROW_AFTER_MS);
        this.growTimer.unref();
      }
    }
  }

  /** send() as a promise: resolves with the status (and the body when `collectBody`), rejects with a coded error. */
  request(request: EncodedRequest, collectBody: boolean): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      this.send(request, collectBody, { onResponse: (statusCode, body) => resolve({ statusCode, body }), onError: reject });
    });
  }

  /** Opens a socket for each request still waiting after GROW_AFTER_MS (up to the limit). */
  private readonly growIfStillWaiting = (): void => {
    this.growTimer = null;
    if (this.isClosed) return;
    // Only requests that have waited GROW_AFTER_MS count: the ones queued since may yet get a socket as one frees.
    // The queue is in dispatch order, so the overdue ones come first; counting stops at what could be opened.
    const sentBefore = performance.now() - GROW_AFTER_MS;
    const enough = this.maxConnections - this.connectionCount + this.connectingCount;
    let overdue = 0;
    let isAnyYounger = false;
    for (const exchange of this.waiting) {
      if (exchange.isSettled) continue;
      if (exchange.deadlineMs - this.timeoutMs > sentBefore) {
        isAnyYounger = true;
        break;
      }
      if (++overdue >= enough) break;
    }
    const wanted = Math.min(overdue - this.connectingCount, this.maxConnections - this.connectionCount);
    for (let i = 0; i < wanted; i++) this.connect();
    if (isAnyYounger && this.connectionCount < this.maxConnections) {
      this.growTimer = setTimeout(this.growIfStillWaiting, GROW_AFTER_MS);
      this.growTimer.unref();
    }
  };

  private connect(): void {
    this.connectionCount++;
    this.connectingCount++;
    if (this.isTls) {
      new Connection(this, tls.connect({ host: this.host, port: this.port, servername: net.isIP(this.host) ? undefined : this.host }));
      return;
    }
    // `onread` skips the stream machinery and a fresh buffer per read: every read lands in the pool's one buffer.
    let connection: Connection | undefined;
    const socket = net.connect({
      host: this.host,
      port: this.port,
      onread: { buffer: this.readBuffer, callback: (length, buffer) => connection?.onRead(length, buffer) ?? true },
    });
    connection = new Connection(this, socket);
  }

  deliver(exchange: Exchange, statusCode: number, body: string | undefined): void {
    if (exchange.isSettled) return;
    this.settled(exchange);
    try {
      exchange.receiver.onResponse(statusCode, body);
    } catch (error) {
      rethrowLater(error);
    }
  }

  fail(exchange: Exchange, error: Error): void {
    if (exchange.isSettled) return;
    this.settled(exchange);
    try {
      exchange.receiver.onError(error);
    } catch (thrown) {
      rethrowLater(thrown);
    }
  }

  private settled(exchange: Exchange): void {
    exchange.isSettled = true;
    exchange.connection = null;
    // Keep the deadline queue as short as what is in flight.
    for (let head = this.deadlines.peek(); head?.isSettled; head = this.deadlines.peek()) this.deadlines.shift();
  }

  /** The oldest request still waiting for a socket. */
  takeWaiting(): Exchange | undefined {
    for (let exchange = this.waiting.shift(); exchange; exchange = this.waiting.shift()) {
      if (!exchange.isSettled) return exchange;
    }
    return undefined;
  }

  onConnected(connection: Connection): void {
    this.connectingCount--;
    this.onIdle(connection);
  }

  onIdle(connection: Connection): void {
    connection.idleSinceMs = performance.now();
    const next = this.takeWaiting();
    if (next) connection.start(next);
    else if (this.isClosed) connection.socket.destroy();
    else this.idle.push(connection);
  }

  onClose(connection: Connection): void {
    this.connectionCount--;
    if (!connection.isConnected) this.connectingCount--;
    const at = this.idle.lastIndexOf(connection);
    if (at !== -1) this.idle.splice(at, 1);
    if (this.isClosed) {
      if (this.connectionCount === 0) for (const resolve of this.onAllClosed.splice(0)) resolve();
      return;
    }
    // A socket that failed to connect took one waiting request with it; the others still need a socket.
    if (this.waiting.size > this.connectingCount && this.connectionCount < this.maxConnections) this.connect();
  }

  private armDeadlineTimer(delayMs: number): void {
    this.deadlineTimer = setTimeout(this.expire, delayMs + 1);
    // Pending requests hold their sockets open; the timer alone must not keep the process alive.
    this.deadlineTimer.unref();
  }

  private readonly expire = (): void => {
    this.deadlineTimer = null;
    const nowMs = performance.now();
    for (let exchange = this.deadlines.peek(); exchange; exchange = this.deadlines.peek()) {
      if (!exchange.isSettled && exchange.deadlineMs > nowMs) {
        this.armDeadlineTimer(exchange.deadlineMs - nowMs);
        return;
      }
      this.deadlines.shift();
      if (exchange.isSettled) continue;
      // A socket with a late response on its way cannot carry the next request.
      const socket = exchange.connection?.socket;
      exchange.isSettled = true;
      try {
        exchange.receiver.onError(new HttpPoolError("ETIMEDOUT", `no response within ${this.timeoutMs} ms`));
      } catch (error) {
        rethrowLater(error);
      }
      socket?.destroy();
    }
  };

  /** Closes idle sockets now and busy ones once their response ends; resolves when all are closed. */
  close(): Promise<void> {
    this.isClosed = true;
    if (this.growTimer) clearTimeout(this.growTimer);
    for (const connection of this.idle.splice(0)) connection.socket.destroy();
    if (this.connectionCount === 0) {
      if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.onAllClosed.push(resolve));
  }
}
