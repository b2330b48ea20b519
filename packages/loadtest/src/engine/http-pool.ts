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

/** Gets the outcome of a request sent with HttpPool.send: exactly one of the two calls, once. */
export interface ResponseReceiver {
  onResponse(statusCode: number, body: string | undefined): void;
  onError(error: Error): void;
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
const HTTP_PREFIX = Buffer.from("HTTP/1.", "latin1");
const CONTENT_LENGTH = Buffer.from("content-length", "latin1");
const TRANSFER_ENCODING = Buffer.from("transfer-encoding", "latin1");
const CONNECTION = Buffer.from("connection", "latin1");
const SPACE = 0x20;
const TAB = 0x09;
const COLON = 0x3a;

function startsWithAt(buffer: Buffer, at: number, prefix: Buffer): boolean {
  for (let i = 0; i < prefix.length; i++) if (buffer[at + i] !== prefix[i]) return false;
  return true;
}

/** ASCII case-insensitive comparison with a lower-case name. */
function equalsIgnoreCase(buffer: Buffer, at: number, lowerName: Buffer): boolean {
  for (let i = 0; i < lowerName.length; i++) {
    const byte = buffer[at + i] ?? 0;
    if ((byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte) !== lowerName[i]) return false;
  }
  return true;
}

/** The digit at `at`, or NaN. */
function digitAt(buffer: Buffer, at: number): number {
  const byte = buffer[at] ?? 0;
  return byte >= 0x30 && byte <= 0x39 ? byte - 0x30 : Number.NaN;
}

/** A non-negative decimal of up to 15 digits, or -1. */
function parseDecimal(buffer: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = digitAt(buffer, i);
    if (Number.isNaN(digit)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

const MAX_HEAD_BYTES = 64 * 1024;
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
    readonly receiver: ResponseReceiver,
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

/** A receiver that throws has a bug of its own: surface it, without leaving a socket half-handled. */
function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
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
    if (pool.isTls) socket.on("data", (data: Buffer) => this.onData(data, data.length));
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
    if (exchange) this.pool.fail(exchange, error);
    this.socket.destroy();
  }

  private finish(): void {
    const exchange = this.exchange;
    if (!exchange) return;
    const chunks = this.bodyChunks;
    const statusCode = this.statusCode;
    const body = chunks ? (chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")) : undefined;
    this.exchange = null;
    this.bodyChunks = null;
    this.state = ParseState.Done;
    // The socket goes back first, so a flow's next request (sent from the receiver) can take it.
    if (!this.keepAlive) this.socket.destroy();
    else if (!this.isDead) this.pool.onIdle(this);
    this.pool.deliver(exchange, statusCode, body);
  }

  /** Parses `data` up to `end` (reads from a plain socket land in the pool's shared buffer, so what is kept is copied). */
  private onData(data: Buffer, end: number): void {
    const exchange = this.exchange;
    if (!exchange) {
      // Bytes nobody asked for: the socket cannot be trusted with the next request.
      this.socket.destroy();
      return;
    }
    let offset = 0;
    try {
      while (offset < end && this.exchange === exchange) offset = this.parse(data, offset, end);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    // Pipelining is off, so a complete response followed by more bytes means a confused server.
    if (offset < end) this.socket.destroy();
  }

  readonly onRead = (length: number, buffer: Uint8Array): boolean => {
    this.onData(buffer as Buffer, length);
    return true;
  };

  private keepBody(data: Buffer, start: number, end: number): void {
    if (this.bodyChunks && end > start) this.bodyChunks.push(Buffer.from(data.subarray(start, end)));
  }

  /** Consumes bytes from `offset`; returns where it stopped. */
  private parse(data: Buffer, offset: number, end: number): number {
    switch (this.state) {
      case ParseState.Head: {
        const pending = this.pendingHead;
        const buffer = pending ? Buffer.concat([pending, data.subarray(offset, end)]) : data;
        const start = pending ? 0 : offset;
        const bufferEnd = pending ? buffer.length : end;
        let headEnd = buffer.indexOf(HEAD_END, start);
        if (headEnd + 4 > bufferEnd) headEnd = -1; // found only in what an earlier read left in the shared buffer
        if (headEnd === -1) {
          if (bufferEnd - start > MAX_HEAD_BYTES) throw parseError("response head larger than 64 kB");
          this.pendingHead = Buffer.from(buffer.subarray(start, bufferEnd));
          return end;
        }
        this.pendingHead = null;
        const next = pending ? offset + headEnd + 4 - pending.length : headEnd + 4;
        this.readHead(buffer, start, headEnd);
        return next;
      }
      case ParseState.Length: {
        const take = Math.min(this.remaining, end - offset);
        this.keepBody(data, offset, offset + take);
        this.remaining -= take;
        if (this.remaining === 0) this.finish();
        return offset + take;
      }
      case ParseState.UntilClose:
        this.keepBody(data, offset, end);
        return end;
      case ParseState.ChunkData: {
        const take = Math.min(this.remaining, end - offset);
        this.keepBody(data, offset, offset + take);
        this.remaining -= take;
        if (this.remaining === 0) this.state = ParseState.ChunkDataEnd;
        return offset + take;
      }
      case ParseState.ChunkSize:
      case ParseState.ChunkDataEnd:
      case ParseState.Trailers: {
        const pending = this.pendingLine;
        const buffer = pending ? Buffer.concat([pending, data.subarray(offset, end)]) : data;
        const start = pending ? 0 : offset;
        const bufferEnd = pending ? buffer.length : end;
        let at = buffer.indexOf(CRLF, start);
        if (at + 2 > bufferEnd) at = -1;
        if (at === -1) {
          if (bufferEnd - start > MAX_HEAD_BYTES) throw parseError("chunk framing line longer than 64 kB");
          this.pendingLine = Buffer.from(buffer.subarray(start, bufferEnd));
          return end;
        }
        this.pendingLine = null;
        const next = pending ? offset + at + 2 - pending.length : at + 2;
        this.onFramingLine(buffer.toString("latin1", start, at));
        return next;
      }
      case ParseState.Done:
        return end;
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

  private readHead(buffer: Buffer, start: number, end: number): void {
    // "HTTP/1.x NNN": checked byte by byte, as are the three headers that frame the message.
    if (end - start < 12 || !startsWithAt(buffer, start, HTTP_PREFIX)) {
      throw parseError(`not an HTTP/1.x response: "${buffer.toString("latin1", start, Math.min(end, start + 40))}"`);
    }
    const status = digitAt(buffer, start + 9) * 100 + digitAt(buffer, start + 10) * 10 + digitAt(buffer, start + 11);
    if (!(status >= 100) || buffer[start + 8] !== SPACE || (end > start + 12 && buffer[start + 12] !== SPACE)) {
      throw parseError(`invalid status line "${buffer.toString("latin1", start, Math.min(end, start + 40))}"`);
    }
    if (status < 200) {
      if (status === 101) throw parseError("the server switched protocols");
      return; // an interim response (100 Continue, 103 Early Hints): the real one follows
    }
    const isHttp11 = buffer[start + 7] === 0x31;
    let contentLength = -1;
    let isChunked = false;
    let connection: "close" | "keep-alive" | "" = "";
    let lineStart = buffer.indexOf(CRLF, start) + 2;
    while (lineStart > 1 && lineStart < end) {
      let lineEnd = buffer.indexOf(CRLF, lineStart);
      if (lineEnd === -1 || lineEnd > end) lineEnd = end;
      const colon = buffer.indexOf(COLON, lineStart);
      if (colon !== -1 && colon < lineEnd) {
        const nameLength = colon - lineStart;
        let valueStart = colon + 1;
        let valueEnd = lineEnd;
        while (valueStart < valueEnd && (buffer[valueStart] === SPACE || buffer[valueStart] === TAB)) valueStart++;
        while (valueEnd > valueStart && (buffer[valueEnd - 1] === SPACE || buffer[valueEnd - 1] === TAB)) valueEnd--;
        if (nameLength === CONTENT_LENGTH.length && equalsIgnoreCase(buffer, lineStart, CONTENT_LENGTH)) {
          const length = parseDecimal(buffer, valueStart, valueEnd);
          if (length < 0 || (contentLength !== -1 && length !== contentLength)) {
            throw parseError(`invalid content-length "${buffer.toString("latin1", valueStart, valueEnd)}"`);
          }
          contentLength = length;
        } else if (nameLength === TRANSFER_ENCODING.length && equalsIgnoreCase(buffer, lineStart, TRANSFER_ENCODING)) {
          isChunked = buffer.toString("latin1", valueStart, valueEnd).toLowerCase().split(",").at(-1)?.trim() === "chunked";
        } else if (nameLength === CONNECTION.length && equalsIgnoreCase(buffer, lineStart, CONNECTION)) {
          const value = buffer.toString("latin1", valueStart, valueEnd).toLowerCase();
          connection = value.includes("close") ? "close" : value.includes("keep-alive") ? "keep-alive" : "";
        }
      }
      lineStart = lineEnd + 2;
    }
    this.statusCode = status;
    this.keepAlive = isHttp11 ? connection !== "close" : connection === "keep-alive";
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
