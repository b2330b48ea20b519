// The engine's HTTP/1.1 client against real sockets: node:http for ordinary traffic, raw net servers for framing edge cases.
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, listen, useTestServers } from "../../test/support/index.ts";
import type { HttpPoolError } from "./http-exchange.ts";
import { HttpPool } from "./http-pool.ts";
import { encodeRequest } from "./http-request.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

const serve = useTestServers();

/** A raw TCP server: `respond` gets each request head and writes whatever bytes it likes. */
async function serveRaw(respond: (socket: net.Socket, head: string) => void): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let buffered = "";
    socket.on("data", (data) => {
      buffered += data.toString("latin1");
      for (let end = buffered.indexOf("\r\n\r\n"); end !== -1; end = buffered.indexOf("\r\n\r\n")) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        respond(socket, head);
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  const port = await listen(server);
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${port}`;
}

function pool(origin: string, options: { connections?: number; timeoutMs?: number } = {}): HttpPool {
  const created = new HttpPool({ origin, connections: options.connections ?? 4, timeoutMs: options.timeoutMs ?? 5000 });
  cleanups.push(() => created.close());
  return created;
}

const get = (path = "/", host = "example.test") => encodeRequest({ method: "GET", path, host, headers: {}, body: undefined });

describe("encodeRequest", () => {
  it("writes the request line, host, headers and a computed content-length", () => {
    const { bytes } = encodeRequest({
      method: "POST",
      path: "/carts?x=1",
      host: "127.0.0.1:3000",
      headers: { "content-type": "application/json", "content-length": "999" },
      body: '{"name":"café"}',
    });
    expect(bytes.toString("utf8")).toBe('POST /carts?x=1 HTTP/1.1\r\nhost: 127.0.0.1:3000\r\ncontent-type: application/json\r\ncontent-length: 16\r\n\r\n{"name":"café"}');
  });

  it("sends content-length 0 for a POST without a body, and a given host instead of the default", () => {
    const { bytes } = encodeRequest({ method: "POST", path: "/", host: "a", headers: { host: "b" }, body: undefined });
    expect(bytes.toString()).toBe("POST / HTTP/1.1\r\nhost: b\r\ncontent-length: 0\r\n\r\n");
  });

  it("refuses header values that would inject lines, and paths with spaces", () => {
    expect(() => encodeRequest({ method: "GET", path: "/", host: "a", headers: { "x-id": "1\r\nx-evil: 1" }, body: undefined })).toThrow(/line break/);
    expect(() => encodeRequest({ method: "GET", path: "/a b", host: "a", headers: {}, body: undefined })).toThrow(/invalid request path/);
  });
});

describe("HttpPool", () => {
  it("reuses keep-alive sockets for sequential requests and returns status and body", async () => {
    const ports = new Set<number>();
    const server = await serve((request, response, body) => {
      ports.add(request.socket.remotePort ?? 0);
      response.statusCode = request.method === "POST" ? 201 : 200;
      response.end(`${request.method} ${request.url} ${request.headers.host} ${body}`);
    });
    const client = pool(server.url);
    for (let i = 0; i < 5; i++) {
      const response = await client.request(get(`/item/${i}`, "shop.test"), true);
      expect(response).toEqual({ statusCode: 200, body: `GET /item/${i} shop.test ` });
    }
    const posted = await client.request(encodeRequest({ method: "POST", path: "/p", host: "h", headers: {}, body: "data" }), true);
    expect(posted).toEqual({ statusCode: 201, body: "POST /p h data" });
    expect(ports.size).toBe(1);
  });

  it("opens no more than its connections and queues the rest", async () => {
    const ports = new Set<number>();
    const server = await serve((request, response) => {
      ports.add(request.socket.remotePort ?? 0);
      setTimeout(() => response.end("ok"), 20);
    });
    const client = pool(server.url, { connections: 3 });
    const responses = await Promise.all(Array.from({ length: 30 }, () => client.request(get(), false)));
    expect(responses.every((r) => r.statusCode === 200 && r.body === undefined)).toBe(true);
    expect(ports.size).toBe(3);
  });

  it("grows past its first 16 sockets when requests keep waiting, up to its limit", async () => {
    // The server answers nothing until 40 requests are held at once: only a pool that grows gets any answer.
    const held: (() => void)[] = [];
    const ports = new Set<number>();
    const server = await serve((request, response) => {
      ports.add(request.socket.remotePort ?? 0);
      held.push(() => response.end("ok"));
      if (held.length === 40) for (const release of held.splice(0)) release();
    });
    const client = pool(server.url, { connections: 100, timeoutMs: 5000 });
    const responses = await Promise.all(Array.from({ length: 40 }, () => client.request(get(), false)));
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    expect(ports.size).toBe(40);
  });

  it("decodes a chunked body split at every byte, with extensions and trailers", async () => {
    const response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nx-trailer: yes\r\n\r\n";
    const origin = await serveRaw((socket) => {
      // One byte per write, with a pause between, so the client sees every possible split.
      let i = 0;
      const next = () => {
        if (i < response.length) socket.write(response[i++] ?? "", () => setImmediate(next));
      };
      next();
    });
    const client = pool(origin);
    expect(await client.request(get(), true)).toEqual({ statusCode: 200, body: "hello, world" });
    expect(await client.request(get(), true)).toEqual({ statusCode: 200, body: "hello, world" });
  });

  it("handles bodiless statuses, HEAD, an interim 100 and a body that ends when the server closes", async () => {
    const origin = await serveRaw((socket, head) => {
      const path = head.split(" ")[1];
      if (path === "/204") socket.write("HTTP/1.1 204 No Content\r\n\r\n");
      else if (path === "/head") socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
      else if (path === "/100") socket.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      else if (path === "/close") socket.end("HTTP/1.1 200 OK\r\n\r\nuntil the end");
      else socket.write("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold");
    });
    const client = pool(origin, { connections: 1 });
    expect(await client.request(get("/204"), true)).toEqual({ statusCode: 204, body: "" });
    expect(await client.request(encodeRequest({ method: "HEAD", path: "/head", host: "h", headers: {}, body: undefined }), true)).toEqual({
      statusCode: 200,
      body: "",
    });
    expect(await client.request(get("/100"), true)).toEqual({ statusCode: 200, body: "ok" });
    expect(await client.request(get("/close"), true)).toEqual({ statusCode: 200, body: "until the end" });
    // HTTP/1.0 without keep-alive: the pool must not reuse the socket, and the next request gets a new one.
    expect(await client.request(get("/old"), true)).toEqual({ statusCode: 200, body: "old" });
    expect(await client.request(get("/204"), false)).toEqual({ statusCode: 204, body: undefined });
  });

  it("fails a request with ECONNRESET when the server closes mid-response, and carries on with a new socket", async () => {
    let count = 0;
    const origin = await serveRaw((socket) => {
      if (++count === 1) socket.end("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
      else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    const client = pool(origin, { connections: 1 });
    await expect(client.request(get(), true)).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(await client.request(get(), true)).toEqual({ statusCode: 200, body: "ok" });
  });

  it("fails a malformed response with EPROTO", async () => {
    const origin = await serveRaw((socket) => socket.write("HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n"));
    await expect(pool(origin).request(get(), false)).rejects.toMatchObject({ code: "EPROTO" });
  });

  it("fails each request to a closed port with ECONNREFUSED", async () => {
    const client = pool(`http://127.0.0.1:${await freePort()}`, { connections: 2 });
    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => client.request(get(), false)));
    expect(outcomes.map((o) => (o.status === "rejected" ? (o.reason as HttpPoolError).code : "fulfilled"))).toEqual(Array(5).fill("ECONNREFUSED"));
  });

  it("times out requests on a socket and in the queue alike, from when they were sent", async () => {
    const origin = await serveRaw(() => {
      // never answers
    });
    const client = pool(origin, { connections: 1, timeoutMs: 150 });
    const outcomes = await Promise.allSettled([client.request(get(), false), client.request(get(), false)]);
    expect(outcomes.map((o) => (o.status === "rejected" ? (o.reason as HttpPoolError).code : "fulfilled"))).toEqual(["ETIMEDOUT", "ETIMEDOUT"]);
  });

  it("closes once the responses in flight have ended", async () => {
    const server = await serve((_request, response) => setTimeout(() => response.end("late"), 50));
    const client = new HttpPool({ origin: server.url, connections: 2, timeoutMs: 5000 });
    const inFlight = client.request(get(), true);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await client.close();
    expect(await inFlight).toEqual({ statusCode: 200, body: "late" });
  });
});
