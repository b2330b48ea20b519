// A local HTTP server standing in for a shop's webhook endpoint: records every request and answers
// with the status a test chooses per request (e.g. 500, 500, then 200).
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody } from "../../src/http/body-reader.ts";
import { waitUntil } from "./wait.ts";

const BODY_LIMITS = { maxBytes: 1024 * 1024, timeoutMs: 10_000 };

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Called per request with its 0-based index; the status to answer with. Default 200. */
  respond: (index: number) => number;
  /** Resolves once `count` requests have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(respond: (index: number) => number = () => 200): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const receiver: WebhookReceiver = {
    url: "",
    received,
    respond,
    async waitFor(count, timeoutMs = 10_000) {
      await waitUntil(
        () => `${count} webhook requests (got ${received.length})`,
        () => received.length >= count,
        timeoutMs,
        20,
      );
      return received.slice(0, count);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = createServer((request, response) => {
    // The API's own body reader: a webhook body must arrive whole within the limits, as any request body must.
    readBody(request, BODY_LIMITS).then(
      (body) => {
        const index = received.length;
        received.push({ headers: request.headers, body, receivedAt: Date.now() });
        response.writeHead(receiver.respond(index), { "content-type": "text/plain" }).end("ok");
      },
      () => response.writeHead(400, { "content-type": "text/plain", connection: "close" }).end("bad body"),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/orders`;
  return receiver;
}
