// Log lines never hold a cart or order id in clear: a stable reference instead; request ids stay readable.
import { spawn } from "node:child_process";
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

describe("createLogger on stdout", () => {
  const loggerPath = new URL("./logger.ts", import.meta.url).pathname;

  /** Runs `body` in a Node process with the logger on its real stdout, and collects the lines it printed. */
  function runWithLogger(body: string, until: (lines: string[]) => boolean): Promise<{ lines: string[]; code: number | null }> {
    const script = `import { createLogger } from ${JSON.stringify(loggerPath)}; const log = createLogger({ level: "info" }); ${body}`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const lines: string[] = [];
    let rest = "";
    return new Promise((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        const parts = (rest + chunk.toString()).split("\n");
        rest = parts.pop() ?? "";
        lines.push(...parts.filter(Boolean));
        if (until(lines)) {
          child.kill("SIGKILL");
        }
      });
      child.once("error", reject);
      // "close", not "exit": the pipe may still hold the last lines when the process exits.
      child.once("close", (code) => resolve({ lines, code }));
    });
  }

  it("writes a quiet server's line without waiting for more lines or for the process to end", async () => {
    // One short line, far below the batch size, then the process stays up (the timer keeps it alive): the line must
    // still arrive, from the periodic flush. The test kills the process as soon as the line is read.
    const { lines } = await runWithLogger(`log.info({ n: 1 }, "only line"); setInterval(() => {}, 1000);`, (seen) => seen.some((line) => line.includes("only line")));
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(["only line"]);
  }, 20_000);

  it("writes every waiting line when the process exits", async () => {
    const { lines, code } = await runWithLogger(`for (let n = 0; n < 50; n++) log.info({ n }, "line"); process.exit(0);`, () => false);
    expect(code).toBe(0);
    expect(lines.map((line) => JSON.parse(line).n)).toEqual(Array.from({ length: 50 }, (_, n) => n));
  }, 20_000);
});
