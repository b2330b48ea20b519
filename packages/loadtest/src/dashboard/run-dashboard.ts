// What `run` and `quick` call for `--dashboard`: the dashboard started before the load with its address on stderr,
// each interval published, and at the end the final report shown, kept served for `--dashboard-linger`, then stopped.
import type { ProgressSnapshot } from "../engine/run-script.ts";
import type { SavedRun } from "../report/saved-run.ts";
import { startDashboard } from "./dashboard.ts";
import { linger, type DashboardFlags } from "./dashboard-flags.ts";

export { takeDashboardFlags, type DashboardFlags } from "./dashboard-flags.ts";
export { DashboardError } from "./dashboard-server.ts";

export interface RunDashboard {
  url: string;
  /** For the engine's onProgress. */
  publish(snapshot: ProgressSnapshot): void;
  /** After the verdict: the page shows the final report, which stays served `lingerSeconds`; then the dashboard stops. */
  end(saved: SavedRun): Promise<void>;
}

/** Starts the dashboard; rejects with DashboardError (exit 2) when its port cannot be had. `title`: the script's file or the URL. */
export async function startRunDashboard(flags: DashboardFlags, title: string, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<RunDashboard> {
  const dashboard = await startDashboard({ port: flags.port, title });
  log(`dashboard: ${dashboard.url}`);
  return {
    url: dashboard.url,
    publish: (snapshot) => dashboard.publish(snapshot),
    async end(saved) {
      await dashboard.finish(saved);
      if (flags.lingerSeconds > 0) log(`dashboard: the final report stays at ${dashboard.url} for ${flags.lingerSeconds} s (Ctrl-C to stop now)`);
      await linger(flags.lingerSeconds);
      await dashboard.close();
    },
  };
}
