// The engine benchmark's target: a raw node:http server answering every request with a small JSON body, in its own process.
// GET /requests-answered (not itself counted) says how many requests it has answered, so a run's count can be checked.
import http from "node:http";
import type { AddressInfo } from "node:net";

const body = JSON.stringify({ hello: "world" });
const length = Buffer.byteLength(body);
/** Kept in step with ANSWERED_PATH in distributed-bench.ts. */
const ANSWERED_PATH = "/requests-answered";
let answered = 0;

const server = http.createServer((request, response) => {
  if (request.url === ANSWERED_PATH) {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ answered }));
    return;
  }
  answered++;
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
