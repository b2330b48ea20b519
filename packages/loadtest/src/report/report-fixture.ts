// Test helper: a real two-second engine run (50 arrivals/s) against a local node:http server, for the report tests.
import { startTestServer } from "../../test/support/index.ts";
import type { RunResult } from "../engine/run-result.ts";
import { runScript } from "../engine/run-script.ts";
import { quickScript } from "../script/quick-script.ts";

/** Answers after 1–20 ms; every tenth request gets a 404 so the report has more than one status code
 * (a client error: the run's capacity plan still finds a knee, where a 5xx would break every window). */
export async function runBriefLoad(): Promise<RunResult> {
  let served = 0;
  const server = await startTestServer((_request, response) => {
    served++;
    const status = served % 10 === 0 ? 404 : 200;
    setTimeout(
      () => {
        response.statusCode = status;
        response.end("ok");
      },
      1 + (served % 20),
    );
  });
  try {
    return await runScript(quickScript({ url: `${server.url}/checkout?cart=1`, rate: 50, duration: 2 }));
  } finally {
    await server.close();
  }
}
