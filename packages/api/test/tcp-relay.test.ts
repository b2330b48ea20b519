// The failover drill's "unreachable" database: the relay cuts open connections, holds new ones without ever reaching
// the server behind it, and relays again once restored.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTcpRelay, type TcpRelay } from "../scripts/rehearse/tcp-relay.ts";

let upstreamConnections = 0;
const echo = net.createServer((socket) => {
  upstreamConnections += 1;
  socket.on("error", () => {});
  socket.pipe(socket);
});
let relay: TcpRelay;

beforeAll(async () => {
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", () => resolve()));
  relay = await startTcpRelay({ targetPort: (echo.address() as net.AddressInfo).port });
});
afterAll(async () => {
  await relay?.close();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(relay.port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

function roundTrip(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    socket.once("data", (chunk: Buffer) => resolve(chunk.toString()));
    socket.write(text);
  });
}

const closed = (socket: net.Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once("close", () => resolve())));

describe("startTcpRelay", () => {
  it("relays, cuts open connections and holds new ones away from the server, then relays again", async () => {
    const before = await connect();
    before.on("error", () => {});
    expect(await roundTrip(before, "ping")).toBe("ping");
    expect(upstreamConnections).toBe(1);

    relay.cut();
    await closed(before);
    // Accepted, but the server behind never sees it: what a client of a vanished host waits on.
    const held = await connect();
    held.on("error", () => {});
    held.write("hello?");
    const received: string[] = [];
    held.on("data", (chunk: Buffer) => received.push(chunk.toString()));

    relay.restore();
    await closed(held);
    expect(received).toEqual([]);
    expect(upstreamConnections).toBe(1);

    const after = await connect();
    expect(await roundTrip(after, "pong")).toBe("pong");
    expect(upstreamConnections).toBe(2);
    after.destroy();
  });
});
