// The shopper probe of attack-tools.ts, with a signal: a test can wait until the shoppers have made a given number of
// requests instead of sleeping a fixed time to get a fair number in. The same shoppers (browse, create a cart, add a
// line, read it back, each on its own keep-alive connection) and the same report; nothing in here is timed.
import http from "node:http";
import { callProcedure, type Answer, type ProbeOptions, type ProbeReport, type ProbeSample, type ShopperProbe, type Target } from "./attack-tools.ts";

export interface CountedShopperProbe extends ShopperProbe {
  /** Requests the shoppers have had answered so far. */
  attempts(): number;
  /** Resolves once the shoppers have had `count` requests answered, or after `timeoutMs` (the report then tells). */
  whenAttempts(count: number, timeoutMs?: number): Promise<void>;
}

/** startShopperProbe with `attempts()` and `whenAttempts()`; the same defaults (two shoppers from 127.0.0.1, 20 ms pauses). */
export function startCountedShopperProbe(target: Target, options: ProbeOptions = {}): CountedShopperProbe {
  const addresses = options.localAddresses ?? ["127.0.0.1"];
  const perAddress = options.shoppersPerAddress ?? 2;
  const pauseMs = options.pauseMs ?? 20;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const samples: ProbeSample[] = [];
  const failures: string[] = [];
  let isRunning = true;
  const agents: http.Agent[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];

  function wake(): void {
    for (const waiter of [...waiters]) {
      if (samples.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  async function step(procedure: string, call: () => Promise<Answer>): Promise<Answer> {
    const started = performance.now();
    const answer = await call();
    const isOk = answer.status === 200 && answer.text.startsWith('{"result"');
    samples.push({ procedure, isOk, ms: performance.now() - started });
    if (!isOk && failures.length < 20) failures.push(`${procedure}: ${answer.status} ${answer.failure ?? answer.text.slice(0, 160)}`);
    wake();
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    return answer;
  }

  async function shopper(localAddress: string): Promise<void> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    const common = { localAddress, agent, timeoutMs };
    while (isRunning) {
      await step("catalog.list", () => callProcedure(target, "catalog.list", { currency: "USD" }, { ...common, method: "GET" }));
      if (!isRunning) break;
      const created = await step("cart.create", () => callProcedure(target, "cart.create", { currency: "USD" }, common));
      if (created.status !== 200 || !isRunning) continue;
      const cartId = (JSON.parse(created.text) as { result: { data: { id: string } } }).result.data.id;
      await step("cart.addLine", () => callProcedure(target, "cart.addLine", { cartId, sku: "TEE-BLA-M", quantity: 1 }, common));
      if (!isRunning) break;
      await step("cart.get", () => callProcedure(target, "cart.get", { cartId }, common));
    }
  }

  const running = Promise.all(addresses.flatMap((address) => Array.from({ length: perAddress }, () => shopper(address))));
  return {
    attempts: () => samples.length,
    whenAttempts(count, waitMs = 30_000) {
      if (samples.length >= count) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          resolve();
        }, waitMs);
        waiters.push(waiter);
      });
    },
    async stop() {
      isRunning = false;
      await running;
      for (const agent of agents) agent.destroy();
      for (const waiter of waiters.splice(0)) waiter.resolve();
      const succeeded = samples.filter((sample) => sample.isOk).length;
      return { attempts: samples.length, succeeded, successRate: samples.length === 0 ? 0 : succeeded / samples.length, failures, samples } satisfies ProbeReport;
    },
  };
}
