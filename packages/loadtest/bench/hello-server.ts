// The engine benchmark's target: a raw node:http server answering every request with a small JSON body, in its own process.
import http from "node:http";
import type { AddressInfo } from "node:net";

const body = JSON.stringify({ hello: "world" });
const length = Buffer.byteLength(body);

const server = http.createServer((_request, response) => {
  response.writeHead(200, { "content-type": "application/json", "content-length": length });
  response.end(body);
});
server.keepAliveTimeout = 60_000;

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  // The parent reads the port from this first line.
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});

process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
