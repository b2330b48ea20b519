// One request, its whole answer, and a deadline for the whole exchange: what the provider client relies on.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exchange } from "./http-exchange.ts";

let server: http.Server;
let base: string;
const seen: { method?: string; body: string; headers: http.IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      seen.push({ method: req.method, body, headers: req.headers });
      if (req.url === "/stall") {
        // Headers now, the rest of the answer never: only a deadline on the whole exchange ends this.
        res.writeHead(200, { "content-type": "application/json" });
        res.write("{");
        return;
      }
      res.writeHead(req.url === "/missing" ? 404 : 201, { "content-type": "application/json" });
      res.end(JSON.stringify({ echoed: body }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("exchange", () => {
  it("sends the method, headers and body, and answers with the status and the whole text", async () => {
    const answer = await exchange(`${base}/v1/things`, { method: "POST", headers: { "Idempotency-Key": "k1" }, body: '{"a":"é"}', timeoutMs: 5000 });
    expect(answer).toEqual({ status: 201, text: JSON.stringify({ echoed: '{"a":"é"}' }) });
    const request = seen.at(-1);
    expect(request?.method).toBe("POST");
    expect(request?.headers["idempotency-key"]).toBe("k1");
    expect(request?.headers["content-length"]).toBe(String(Buffer.byteLength('{"a":"é"}')));
  });

  it("answers a 4xx like any other status", async () => {
    expect((await exchange(`${base}/missing`, { method: "GET", headers: {}, timeoutMs: 5000 })).status).toBe(404);
  });

  it("fails with a TimeoutError when the whole answer has not arrived by the deadline, though its headers did", async () => {
    await expect(exchange(`${base}/stall`, { method: "GET", headers: {}, timeoutMs: 300 })).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("fails when nothing listens", async () => {
    await expect(exchange("http://127.0.0.1:1/", { method: "GET", headers: {}, timeoutMs: 5000 })).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});
