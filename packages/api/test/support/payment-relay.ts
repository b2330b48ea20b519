// A TCP relay the tests put between the API and the payment sandbox, to make the provider refuse or stall on cue.
import net from "node:net";

export type RelayMode = "up" | "down" | "stall";

/** A TCP relay in front of the sandbox: "down" stops listening (ECONNREFUSED), "stall" accepts and never forwards. */
export function createRelay(targetPort: number, port: number) {
  const sockets = new Set<net.Socket>();
  let mode: RelayMode = "up";
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    if (mode === "stall") return;
    const upstream = net.connect(targetPort, "127.0.0.1");
    sockets.add(upstream);
    upstream.once("close", () => sockets.delete(upstream));
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  return {
    listen,
    async set(next: RelayMode) {
      if (next === mode) return;
      if (mode === "down") await listen();
      if (next === "down") await stopListening();
      // Kept-alive connections from before would still be relayed: a stall starts with fresh ones.
      if (next === "stall" || mode === "stall") for (const socket of sockets) socket.destroy();
      mode = next;
    },
    close: () => (mode === "down" ? Promise.resolve() : stopListening()),
  };
}
