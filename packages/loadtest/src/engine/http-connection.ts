// One keep-alive socket carrying one request at a time, and a minimal HTTP/1.1 response parser working on its bytes:
// status line and the three framing headers read byte by byte, content-length, chunked and until-close bodies.
import type net from "node:net";
import { HttpPoolError, type Exchange } from "./http-exchange.ts";
import { ERROR_BODY_LIMIT_BYTES } from "./failure-causes.ts";

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

enum ParseState {
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

/** What a connection needs from the pool that opened it. */
export interface ConnectionPool {
  readonly isTls: boolean;
  readonly timeoutMs: number;
  onConnected(connection: Connection): void;
  onIdle(connection: Connection): void;
  onClose(connection: Connection): void;
  /** The oldest request still waiting for a socket. */
  takeWaiting(): Exchange | undefined;
  deliver(exchange: Exchange, statusCode: number, body: string | undefined): void;
  fail(exchange: Exchange, error: Error): void;
}

export class Connection {
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
  /**
   * Bytes the body may still add: unlimited when the request asked for it; an error response's (400 and up) is kept
   * anyway, up to ERROR_BODY_LIMIT_BYTES, so a failure can name its error code (a longer one is dropped).
   */
  private bodyBytesLeft = Number.POSITIVE_INFINITY;

  constructor(
    private readonly pool: ConnectionPool,
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
    this.bodyBytesLeft = Number.POSITIVE_INFINITY;
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
    if (!this.bodyChunks || end <= start) return;
    this.bodyBytesLeft -= end - start;
    if (this.bodyBytesLeft < 0) this.bodyChunks = null;
    else this.bodyChunks.push(Buffer.from(data.subarray(start, end)));
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
    if (!this.bodyChunks && status >= 400) {
      this.bodyChunks = [];
      this.bodyBytesLeft = ERROR_BODY_LIMIT_BYTES;
    }
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
