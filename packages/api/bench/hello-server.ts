// The benchmark's baseline: a raw node:http server answering every request with a small JSON body.
import http from "node:http";

const body = JSON.stringify({ hello: "world" });
const length = Buffer.byteLength(body);
const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? "127.0.0.1";

const server = http.createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": length });
  res.end(body);
});

server.listen(port, host);

process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
