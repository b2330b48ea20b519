// A TCP relay between the API processes and PostgreSQL for the failover drill's "unreachable" outage: every open
// connection is cut and new ones are accepted but never answered, as when a failover moves the endpoint and the old
// host is gone (new connections wait out the pool's connect timeout instead of being refused at once).
import net from "node:net";

export interface TcpRelay {
  port: number;
  /** Cuts every relayed connection; until `restore`, new connections are held open and never answered. */
  cut(): void;
  /** Drops the held connections and relays new ones again. */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(options: { targetPort: number }): Promise<TcpRelay> {
  const relayed = new Set<net.Socket>();
  const held = new Set<net.Socket>();
  let isCut = false;
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    if (isCut) {
      held.add(socket);
      socket.once("close", () => held.delete(socket));
      return;
    }
    const upstream = net.connect(options.targetPort, "127.0.0.1");
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
    for (const end of [socket, upstream]) {
      relayed.add(end);
      end.once("close", () => relayed.delete(end));
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      isCut = true;
      for (const socket of relayed) socket.destroy();
    },
    restore() {
      isCut = false;
      for (const socket of held) socket.destroy();
    },
    close() {
      for (const socket of [...relayed, ...held]) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
