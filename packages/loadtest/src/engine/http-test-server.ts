// Test helpers: a real node:http server on port 0 and a minimal valid script around it.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Phase, Scenario, Script } from "../script/script-types.ts";

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

export async function startTestServer(
  handle: (request: IncomingMessage, response: ServerResponse, body: string) => void,
): Promise<TestServer> {
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => handle(request, response, body));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function buildScript({
  target,
  phases,
  scenarios,
  timeoutSeconds = 10,
}: {
  target: string;
  phases: Phase[];
  scenarios: Scenario[];
  timeoutSeconds?: number;
}): Script {
  return {
    target,
    phases,
    http: { timeoutSeconds },
    defaults: { headers: {} },
    variables: {},
    payloads: [],
    ensure: { thresholds: [], conditions: [] },
    scenarios,
  };
}
