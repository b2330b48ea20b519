// Admission control on a real socket: a connection shed three times in a row is closed after the third 503, so a
// client that retries at once (ignoring Retry-After) pays a reconnect; an admitted request resets the count.
import http from "node:http";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { CLOSE_AFTER_CONSECUTIVE_SHEDS, createAdmission } from "../src/http/admission.ts";

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
});

/** One slot; `/hold` keeps it until `/release`, everything else answers 200 at once when admitted. */
async function start() {
  let release: (() => void) | null = null;
  let onHeld = () => {};
  const admission = createAdmission({ maxInFlight: 1, maxQueue: 0, queueTimeoutMs: 1000, retryAfterSeconds: 1 });
  server = http.createServer((req, res) => {
    if (req.url === "/release") {
      release?.();
      res.end("released");
      return;
    }
    admission.admit(req, res, req.url ?? "", () => {
      if (req.url === "/hold") {
        release = () => res.end("held");
        onHeld();
      } else res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  /** Sends /hold and resolves once it holds the slot (waiting on the event, not a guessed delay, on a busy machine). */
  const hold = async () => {
    const isHeld = new Promise<void>((resolve) => (onHeld = resolve));
    const answer = fetch(`http://127.0.0.1:${port}/hold`).then(
      (r) => r.text(),
      (error: unknown) => String(error),
    );
    await isHeld;
    return { answer };
  };
  return { port, hold };
}

/** Sends requests one after another on one keep-alive socket; each answer's status line, connection header, and whether the socket closed. */
async function onOneSocket(port: number, count: number) {
  const socket = net.connect(port, "127.0.0.1");
  let buffer = "";
  let closed = false;
  socket.on("data", (chunk: Buffer) => (buffer += chunk.toString()));
  socket.on("close", () => (closed = true));
  const answers: { status: string; connection: string | null }[] = [];
  for (let i = 0; i < count && !closed; i += 1) {
    buffer = "";
    socket.write(`GET /try HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`);
    const deadline = Date.now() + 5000;
    while (!/\r\n\r\n[\s\S]*\}$|\r\n\r\nok$/.test(buffer) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    const connection = /^connection: (.+)$/im.exec(buffer)?.[1]?.trim() ?? null;
    answers.push({ status: buffer.split("\r\n")[0] ?? "", connection });
    // The server said it closes: no further request on this socket (it would race the close).
    if (connection === "close") break;
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.destroy();
  return { answers, closed };
}

describe("admission control on a keep-alive connection", () => {
  it(`closes a connection after ${CLOSE_AFTER_CONSECUTIVE_SHEDS} consecutive 503s, and not before`, async () => {
    const { port, hold } = await start();
    const { answer: held } = await hold();
    const { answers, closed } = await onOneSocket(port, 5);
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: CLOSE_AFTER_CONSECUTIVE_SHEDS }, () => "HTTP/1.1 503 Service Unavailable"));
    expect(answers.map((a) => a.connection)).toEqual([...Array.from({ length: CLOSE_AFTER_CONSECUTIVE_SHEDS - 1 }, () => "keep-alive"), "close"]);
    expect(closed).toBe(true);
    await fetch(`http://127.0.0.1:${port}/release`);
    expect(await held).toBe("held");
  });

  it("keeps a connection whose requests get through between sheds", async () => {
    const { port, hold } = await start();
    const socket = net.connect(port, "127.0.0.1");
    let buffer = "";
    let closed = false;
    socket.on("data", (chunk: Buffer) => (buffer += chunk.toString()));
    socket.on("close", () => (closed = true));
    const ask = async () => {
      buffer = "";
      socket.write(`GET /try HTTP/1.1\r\nHost: x\r\n\r\n`);
      while (!/\r\n\r\n[\s\S]*(\}|ok)$/.test(buffer)) await new Promise((resolve) => setTimeout(resolve, 5));
      return buffer.split("\r\n")[0];
    };
    const statuses: (string | undefined)[] = [];
    for (let round = 0; round < 3; round += 1) {
      // Two sheds while the slot is held, then one admitted request once it is free: never three sheds in a row.
      const { answer: held } = await hold();
      statuses.push(await ask(), await ask());
      await fetch(`http://127.0.0.1:${port}/release`);
      await held;
      statuses.push(await ask());
    }
    expect(statuses).toEqual(Array.from({ length: 3 }, () => ["HTTP/1.1 503 Service Unavailable", "HTTP/1.1 503 Service Unavailable", "HTTP/1.1 200 OK"]).flat());
    expect(closed).toBe(false);
    socket.destroy();
  });
});
