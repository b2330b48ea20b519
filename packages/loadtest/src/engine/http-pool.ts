// A lean HTTP/1.1 keep-alive client for one origin: pre-encoded requests, one request per socket at a time
// (no pipelining), a minimal response parser, and one timer for every deadline. Built for the engine's hot path,
// where undici's general machinery cost more CPU per request than the load itself (see docs/BENCHMARKS.md).
import net from "node:net";
import tls from "node:tls";
import { performance } from "node:perf_hooks";

/** A request ready for the wire: head and body bytes, reusable for any number of sends. */
export interface EncodedRequest {
  bytes: Buffer;
  /** A HEAD response has no body whatever its headers say. */
  isHead: boolean;
}

export interface HttpResponse {
  statusCode: number;
  /** The body as UTF-8 text, only when asked for. */
  body: string | undefined;
}

/** The errors the pool produces itself carry a code, like the socket errors it passes on (ECONNREFUSED …). */
export class HttpPoolError extends Error {
  override readonly name = "HttpPoolError";
  constructor(
    readonly code: "ETIMEDOUT" | "ECONNRESET" | "EPROTO" | "ECLOSED",
    message: string,
  ) {
    super(message);
  }
}

const CRLF = Buffer.from("\r\n", "latin1");
const HEAD_END = Buffer.from("\r\n\r\n", "latin1");
const MAX_HEAD_BYTES = 64 * 1024;
/** Idle sockets older than this are not reused: servers close idle keep-alive sockets (node:http after 5 s) and a
 * request written into a socket the server is closing fails for no fault of the server. undici's default is 4 s too. */
const IDLE_REUSE_MS = 4000;

const headerToken = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const headerValueForbidden = /[\r\n\0]/;

/** Throws when a header would corrupt the request (CR/LF injection or an invalid name). */
export function assertHeader(name: string, value: string): void {
  if (!headerToken.test(name)) throw new TypeError(`invalid header name "${name}"`);
  if (headerValueForbidden.test(value)) throw new TypeError(`header "${name}" has a line break or NUL in its value`);
}

const hasBodySemantics = new Set(["POST", "PUT", "PATCH"]);

/**
 * Encodes a request. `headers` are lower-case names; `host` is sent unless they have one; content-length is computed
 * (a given one is ignored), and POST/PUT/PATCH without a body send content-length: 0 as undici and node:http do.
 */
export function encodeRequest({
  method,
  path,
  host,
  headers,
  body,
}: {
  method: string;
  path: string;
  host: string;
  headers: Record<string, string>;
  body: string | undefined;
}): EncodedRequest {
  if (!headerToken.test(method)) throw new TypeError(`invalid method "${method}"`);
  if (!/^[\x21-\x7e]+$/.test(path)) throw new TypeError(`invalid request path "${path}"`);
  let head = `${method} ${path} HTTP/1.1\r\n`;
  if (headers.host === undefined) head += `host: ${host}\r\n`;
  for (const name in headers) {
    if (name === "content-length" || name === "transfer-encoding") continue;
    const value = headers[name] ?? "";
    assertHeader(name, value);
    head += `${name}: ${value}\r\n`;
  }
  if (body !== undefined) head += `content-length: ${Buffer.byteLength(body)}\r\n`;
  else if (hasBodySemantics.has(method)) head += "content-length: 0\r\n";
  head += "\r\n";
  return { bytes: Buffer.from(body === undefined ? head : head + body, "utf8"), isHead: method === "HEAD" };
}

/** One request from dispatch to settlement; queued, then on a connection. */
class Exchange {
  connection: Connection | null = null;
  isSettled = false;
  constructor(
    readonly request: EncodedRequest,
    readonly collectBody: boolean,
    readonly deadlineMs: number,
    readonly resolve: (response: HttpResponse) => void,
    readonly reject: (error: Error) => void,
  ) {}
}

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

const enum ParseState {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

function parseError(message: string): HttpPoolError {
  return new HttpPoolError("EPROTO", message);
}

class Connection {
  readonly socket: net.Socket;
  exchange: Exchange | null = null;
  idleSinceMs = 0;
  isConnected = false;
  private isDead = false;
  private state = ParseState.Head;
  private pendingHead: Buffer | null = null;
  private pendingLine: Buffer | null = null;
  private statusCode = 0;
  private keepAlive = true;
  private remaining = 0;
  private bodyChunks: Buffer[] | null = null;

  constructor(
    private readonly pool: HttpPool,
    socket: net.Socket,
  ) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(pool.timeoutMs, () => socket.destroy(new HttpPoolError("ETIMEDOUT", "connect timed out")));
    socket.on(pool.isTls ? "secureConnect" : "connect", () => {
      this.isConnected = true;
      socket.setTimeout(0);
      pool.onConnected(this);
    });
    socket.on("data", (data: Buffer) => this.onData(data));
    socket.on("end", () => {
      if (this.state === ParseState.UntilClose && this.exchange) this.finish();
    });
    socket.on("error", (error: Error) => this.fail(error));
    socket.on("close", () => {
      this.fail(new HttpPoolError("ECONNRESET", "the server closed the connection before the response ended"));
      pool.onClose(this);
    });
  }

  start(exchange: Exchange): void {
    this.exchange = exchange;
    exchange.connection = this;
    this.state = ParseState.Head;
    this.statusCode = 0;
    this.keepAlive = true;
    this.bodyChunks = exchange.collectBody ? [] : null;
    this.socket.write(exchange.request.bytes);
  }

  /** Fails the exchange on this socket (or, when the socket never connected, the oldest one waiting for a socket). */
  private fail(error: Error): void {
    if (this.isDead) return;
    this.isDead = true;
    const exchange = this.exchange ?? (this.isConnected ? undefined : this.pool.takeWaiting());
    this.exchange = null;
    this.state = ParseState.Done;
    if (exchange) this.pool.settle(exchange, null, error);
    this.socket.destroy();
  }

  private finish(): void {
    const exchange = this.exchange;
    if (!exchange) return;
    const chunks = this.bodyChunks;
    const response: HttpResponse = {
      statusCode: this.statusCode,
      body: chunks ? (chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")) : undefined,
    };
    this.exchange = null;
    this.bodyChunks = null;
    this.state = ParseState.Done;
    this.pool.settle(exchange, response, null);
    if (!this.keepAlive) this.socket.destroy();
    else if (!this.isDead) this.pool.onIdle(this);
  }

  private onData(data: Buffer): void {
    const exchange = this.exchange;
    if (!exchange) {
      // Bytes nobody asked for: the socket cannot be trusted with the next request.
      this.socket.destroy();
      return;
    }
    let offset = 0;
    try {
      while (offset < data.length && this.exchange === exchange) offset = this.parse(data, offset);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    // Pipelining is off, so a complete response followed by more bytes means a confused server.
    if (offset < data.length) this.socket.destroy();
  }

  private keepBody(data: Buffer, start: number, end: number): void {
    if (this.bodyChunks && end > start) this.bodyChunks.push(data.subarray(start, end));
  }

  /** Consumes bytes from `offset`; returns where it stopped. */
  private parse(data: Buffer, offset: number): number {
    switch (this.state) {
      case ParseState.Head: {
        const pending = this.pendingHead;
        const buffer = pending ? Buffer.concat([pending, data.subarray(offset)]) : data;
        const start = pending ? 0 : offset;
        const end = buffer.indexOf(HEAD_END, start);
        if (end === -1) {
          if (buffer.length - start > MAX_HEAD_BYTES) throw parseError("response head larger than 64 kB");
          this.pendingHead = Buffer.from(buffer.subarray(start));
          return data.length;
        }
        this.pendingHead = null;
        const next = pending ? offset + end + 4 - pending.length : end + 4;
        this.readHead(buffer.toString("latin1", start, end));
        return next;
      }
      case ParseState.Length: {
        const take = Math.min(this.remaining, data.length - offset);
        this.keepBody(data, offset, offset + take);
        this.remaining -= take;
        if (this.remaining === 0) this.finish();
        return offset + take;
      }
      case ParseState.UntilClose:
        this.keepBody(data, offset, data.length);
        return data.length;
      case ParseState.ChunkData: {
        const take = Math.min(this.remaining, data.length - offset);
        this.keepBody(data, offset, offset + take);
        this.remaining -= take;
        if (this.remaining === 0) this.state = ParseState.ChunkDataEnd;
        return offset + take;
      }
      case ParseState.ChunkSize:
      case ParseState.ChunkDataEnd:
      case ParseState.Trailers: {
        const pending = this.pendingLine;
        const buffer = pending ? Buffer.concat([pending, data.subarray(offset)]) : data;
        const start = pending ? 0 : offset;
        const at = buffer.indexOf(CRLF, start);
        if (at === -1) {
          if (buffer.length - start > MAX_HEAD_BYTES) throw parseError("chunk framing line longer than 64 kB");
          this.pendingLine = Buffer.from(buffer.subarray(start));
          return data.length;
        }
        this.pendingLine = null;
        const next = pending ? offset + at + 2 - pending.length : at + 2;
        this.onFramingLine(buffer.toString("latin1", start, at));
        return next;
      }
      case ParseState.Done:
        return data.length;
    }
  }

  private onFramingLine(text: string): void {
    if (this.state === ParseState.ChunkDataEnd) {
      if (text !== "") throw parseError("chunk data not followed by CRLF");
      this.state = ParseState.ChunkSize;
    } else if (this.state === ParseState.ChunkSize) {
      const semicolon = text.indexOf(";");
      const hex = (semicolon === -1 ? text : text.slice(0, semicolon)).trim();
      if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw parseError(`invalid chunk size "${text}"`);
      this.remaining = Number.parseInt(hex, 16);
      this.state = this.remaining === 0 ? ParseState.Trailers : ParseState.ChunkData;
    } else if (text === "") {
      this.finish(); // the empty line after the trailers
    }
  }

  private readHead(head: string): void {
    if (!head.startsWith("HTTP/1.")) throw parseError(`not an HTTP/1.x response: "${head.slice(0, 40)}"`);
    const status = Number(head.slice(9, 12));
    if (!Number.isInteger(status) || status < 100 || head.charCodeAt(8) !== 0x20 || head.charCodeAt(12) > 0x20) {
      throw parseError(`invalid status line "${head.split("\r\n")[0]}"`);
    }
    if (status < 200) {
      if (status === 101) throw parseError("the server switched protocols");
      return; // an interim response (100 Continue, 103 Early Hints): the real one follows
    }
    const isHttp11 = head.charCodeAt(7) === 0x31;
    let contentLength = -1;
    let isChunked = false;
    let connection = "";
    let lineStart = head.indexOf("\r\n") + 2;
    while (lineStart > 1 && lineStart < head.length) {
      let lineEnd = head.indexOf("\r\n", lineStart);
      if (lineEnd === -1) lineEnd = head.length;
      const colon = head.indexOf(":", lineStart);
      const nameLength = colon - lineStart;
      // Only the three headers that frame the message matter: content-length, transfer-encoding, connection.
      if (colon !== -1 && colon < lineEnd && (nameLength === 14 || nameLength === 17 || nameLength === 10)) {
        const name = head.slice(lineStart, colon).toLowerCase();
        const value = head.slice(colon + 1, lineEnd).trim();
        if (name === "content-length") {
          if (!/^\d{1,15}$/.test(value) || (contentLength !== -1 && Number(value) !== contentLength)) {
            throw parseError(`invalid content-length "${value}"`);
          }
          contentLength = Number(value);
        } else if (name === "transfer-encoding") {
          isChunked = value.toLowerCase().split(",").at(-1)?.trim() === "chunked";
        } else if (name === "connection") {
          connection = value.toLowerCase();
        }
      }
      lineStart = lineEnd + 2;
    }
    this.statusCode = status;
    this.keepAlive = isHttp11 ? !connection.includes("close") : connection.includes("keep-alive");
    if (this.exchange?.request.isHead || status === 204 || status === 304) {
      this.finish();
    } else if (isChunked) {
      this.state = ParseState.ChunkSize;
    } else if (contentLength > 0) {
      this.remaining = contentLength;
      this.state = ParseState.Length;
    } else if (contentLength === 0) {
      this.finish();
    } else {
      this.keepAlive = false;
      this.state = ParseState.UntilClose;
    }
  }
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
export class HttpPool {
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
  private connectionCount = 0;
  private connectingCount = 0;
  private isClosed = false;
  private readonly onAllClosed: (() => void)[] = [];

  constructor({ origin, connections, timeoutMs }: HttpPoolOptions) {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`unsupported protocol in "${origin}"`);
    this.isTls = url.protocol === "https:";
    this.host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    this.port = Number(url.port || (this.isTls ? 443 : 80));
    this.maxConnections = connections;
    this.timeoutMs = timeoutMs;
  }

  /** Sends a request; resolves with the status (and the body when `collectBody`), rejects with a coded error. */
  request(request: EncodedRequest, collectBody: boolean): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      if (this.isClosed) {
        reject(new HttpPoolError("ECLOSED", "the pool is closed"));
        return;
      }
      const nowMs = performance.now();
      const exchange = new Exchange(request, collectBody, nowMs + this.timeoutMs, resolve, reject);
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
      if (this.connectionCount < this.maxConnections && this.connectingCount < this.waiting.size) this.connect();
    });
  }

  private connect(): void {
    this.connectionCount++;
    this.connectingCount++;
    const socket = this.isTls
      ? tls.connect({ host: this.host, port: this.port, servername: net.isIP(this.host) ? undefined : this.host })
      : net.connect({ host: this.host, port: this.port });
    new Connection(this, socket);
  }

  settle(exchange: Exchange, response: HttpResponse | null, error: Error | null): void {
    if (exchange.isSettled) return;
    exchange.isSettled = true;
    if (error) exchange.reject(error);
    else exchange.resolve(response as HttpResponse);
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
      exchange.isSettled = true;
      exchange.reject(new HttpPoolError("ETIMEDOUT", `no response within ${this.timeoutMs} ms`));
      // A socket with a late response on its way cannot carry the next request.
      exchange.connection?.socket.destroy();
    }
  };

  /** Closes idle sockets now and busy ones once their response ends; resolves when all are closed. */
  close(): Promise<void> {
    this.isClosed = true;
    for (const connection of this.idle.splice(0)) connection.socket.destroy();
    if (this.connectionCount === 0) {
      if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.onAllClosed.push(resolve));
  }
}
