// Log lines never hold a cart or order id in clear: a stable reference instead; request ids stay readable.
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { capabilityRef, createLogger, scrubCapabilities } from "./logger.ts";

describe("scrubCapabilities", () => {
  it("replaces every UUID with the same reference for the same id, in fields and messages alike", () => {
    const cartId = randomUUID();
    const line = JSON.stringify({ cartId, msg: `cart ${cartId.toUpperCase()} closed`, nested: { orders: [cartId] } });
    const scrubbed = scrubCapabilities(line);
    expect(scrubbed).not.toMatch(new RegExp(cartId, "i"));
    expect(scrubbed.split(capabilityRef(cartId)).length - 1).toBe(3);
  });

  it("keeps the request id, which opens nothing and correlates lines", () => {
    const requestId = randomUUID();
    expect(scrubCapabilities(JSON.stringify({ requestId }))).toContain(requestId);
  });
});

describe("createLogger", () => {
  it("writes scrubbed lines to its destination", () => {
    const lines: string[] = [];
    const log = createLogger({
      level: "info",
      destination: new Writable({
        write: (chunk, _encoding, done) => {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const orderId = randomUUID();
    log.info({ orderId }, "order.placed");
    expect(lines.join("")).not.toContain(orderId);
    expect(lines.join("")).toContain(capabilityRef(orderId));
  });
});
