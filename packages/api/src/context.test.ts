// A request's context: its logger is made only when a procedure logs, once, and the services are all there.
import { describe, expect, it } from "vitest";
import { createContext, type Services } from "./context.ts";
import { createLogger } from "./logger.ts";

const services = { log: createLogger({ level: "silent" }), captureMode: "immediate" } as unknown as Services;

describe("createContext", () => {
  it("makes the request's logger on first use only, and only once", () => {
    let made = 0;
    const child = createLogger({ level: "silent" });
    const context = createContext(services, {
      requestId: "r1",
      log: () => {
        made++;
        return child;
      },
    });
    expect(made).toBe(0);
    expect(context.log).toBe(child);
    expect(context.log).toBe(child);
    expect(made).toBe(1);
    // Copied as tRPC copies a context: the copy has the same logger.
    expect({ ...context }.log).toBe(child);
  });

  it("keeps the services, and their logger when the request brings none", () => {
    const context = createContext(services, { requestId: "r2" });
    expect(context.log).toBe(services.log);
    expect(context.captureMode).toBe("immediate");
    expect(context).toMatchObject({ requestId: "r2", origin: {}, authorization: null });
  });
});
