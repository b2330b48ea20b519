// Local ports and servers for tests: a free port, a server listening on one, a node:http server with its body read.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import net from "node:net";
import { afterEach } from "vitest";

/** Starts `server` listening on 127.0.0.1 (on a port the system picks unless one is given) and returns its port. */
export function listen(server: net.Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** A port nothing listens on (the system picks it, then it is released): another process may take it before it is used. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** A real node:http server on a free port; `handle` gets each request once its body has been read. */
export async function startTestServer(handle: (request: IncomingMessage, response: ServerResponse, body: string) => void): Promise<TestServer> {
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => handle(request, response, body));
  });
  server.keepAliveTimeout = 60_000;
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** startTestServer for one test file (call it at the file's top level): each server closes after its test. */
export function useTestServers(): typeof startTestServer {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return async (handle) => {
    const server = await startTestServer(handle);
    servers.push(server);
    return server;
  };
}
