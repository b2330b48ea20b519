// Test helper: a real two-second engine run (40 arrivals/s) against a local node:http server, with the progress
// snapshots the engine handed out as it went and the run saved as `run --output` saves it (judged verdicts included).
import { startTestServer } from "../../test/support/index.ts";
import { evaluateEnsure } from "../engine/ensure.ts";
import { runScript, type ProgressSnapshot } from "../engine/run-script.ts";
import type { SavedRun } from "../report/saved-run.ts";
import { quickScript } from "../script/quick-script.ts";

export interface RecordedRun {
  snapshots: ProgressSnapshot[];
  saved: SavedRun;
}

/** Answers after 1–15 ms, every eighth request a 404; `withHistograms` as the engine's `progressHistograms`. */
export async function recordRun({ withHistograms = true } = {}): Promise<RecordedRun> {
  let served = 0;
  const server = await startTestServer((_request, response) => {
    served++;
    setTimeout(
      () => {
        response.statusCode = served % 8 === 0 ? 404 : 200;
        response.end("ok");
      },
      1 + (served % 15),
    );
  });
  try {
    const script = quickScript({ url: `${server.url}/cart?id=1`, rate: 40, duration: 2 });
    script.ensure = { thresholds: [{ metric: "http.response_time.p99", max: 10_000 }], conditions: [] };
    const snapshots: ProgressSnapshot[] = [];
    const result = await runScript(script, { progressHistograms: withHistograms, onProgress: (snapshot) => snapshots.push(snapshot) });
    const { verdicts } = evaluateEnsure({ ensure: script.ensure, result });
    return { snapshots, saved: { ...result, verdicts, ensure: script.ensure } };
  } finally {
    await server.close();
  }
}
