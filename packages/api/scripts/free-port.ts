// A free TCP port on 127.0.0.1, for a server that must be told its port before it starts (PostgreSQL, a child API
// process, haproxy's backends). Here, not under test/, because the rehearsal scripts need it as much as the tests do.
import net from "node:net";

/** A port nothing listens on at the moment of asking (the OS's pick for port 0, released again). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
