// `--dashboard` through the command line: a real `quick` run against a local server, its page read as an event stream
// while the load runs, the final report after the verdict, the linger ended by Ctrl-C; and its usage errors.
import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectOutput, exited, listen, repoRoot, runToExit, startTestServer, waitUntil, type TestServer } from "../../test/support/index.ts";
import type { DashboardState } from "./dashboard-page.ts";

const cli = path.resolve(import.meta.dirname, "../cli.ts");
const args = (rest: string[]) => ["--import", "tsx", cli, ...rest];

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer((_request, response) => response.end("ok"));
});
afterAll(async () => {
  await server.close();
});

/** Every `state` event of the stream until the finished one. */
async function statesUntilFinished(url: string): Promise<DashboardState[]> {
  const response = await fetch(new URL("/events", url));
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const states: DashboardState[] = [];
  let buffer = "";
  while (states.at(-1)?.phase !== "finished") {
    const { value, done } = await reader.read();
    if (done) throw new Error("the event stream ended before the final report");
    buffer += value;
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const data = buffer
        .slice(0, end)
        .split("\n")
        .find((line) => line.startsWith("data: "));
      if (data) states.push(JSON.parse(data.slice("data: ".length)) as DashboardState);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
    }
  }
  await reader.cancel();
  return states;
}

describe("quick --dashboard", () => {
  it("serves the run as it goes and its final report, until Ctrl-C ends the linger", { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, args(["quick", "--rate", "20", "--duration", "2", "--dashboard", "--dashboard-linger", "60", `${server.url}/`]), {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output = collectOutput(child);
    try {
      const url = await waitUntil("the dashboard's address on stderr", () => output.stderr().match(/^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m)?.[1], {
        timeoutMs: 20_000,
        intervalMs: 50,
      });
      const states = await statesUntilFinished(url);
      expect(states.some((state) => state.phase === "running")).toBe(true);
      const final = states.at(-1)!;
      await waitUntil("the lingering line", () => output.stderr().includes(`dashboard: the final report stays at ${url} for 60 s (Ctrl-C to stop now)`), {
        timeoutMs: 10_000,
        intervalMs: 50,
      });
      // The verdict is printed before the page gets the final report; the command waits, serving it.
      expect(output.stdout()).toMatch(/verdict: (PASS|FAIL)/);
      expect(child.exitCode).toBeNull();
      expect((await fetch(url)).status).toBe(200);
      child.kill("SIGINT");
      const code = await exited(child);
      expect([0, 1]).toContain(code);
      expect(final.passed).toBe(code === 0);
      expect(final.status).toBe(code === 0 ? "Finished: PASS" : "Finished: FAIL");
      expect(final.body).toContain("<h2>Endpoints</h2>");
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("refuses a bad port, a linger without the dashboard and a taken port, exit 2 with one line", async () => {
    const blocker = net.createServer();
    const port = await listen(blocker);
    try {
      const cases: [string[], string][] = [
        [
          ["quick", "--dashboard=abc", `${server.url}/`],
          'quick: --dashboard takes a port from 1 to 65535, or nothing (or 0) for a free port; got "abc" (see checkout-loadtest quick --help)',
        ],
        [["run", "x.yml", "--dashboard-linger", "5"], "run: --dashboard-linger needs --dashboard (see checkout-loadtest run --help)"],
        [
          ["quick", "--count", "1", "--dashboard", String(port), `${server.url}/`],
          `quick: --dashboard: port ${port} on 127.0.0.1 is in use; give another port, or none for a free one (see checkout-loadtest quick --help)`,
        ],
        // Only run and quick have a dashboard.
        [["report", "result.json", "--dashboard"], "report: unknown option --dashboard (see checkout-loadtest report --help)"],
      ];
      const runs = await Promise.all(cases.map(([argv]) => runToExit(process.execPath, args(argv), process.env)));
      runs.forEach((run, index) => {
        expect(run.code, cases[index]![0].join(" ")).toBe(2);
        expect(run.stderr.trim()).toBe(cases[index]![1]);
      });
    } finally {
      blocker.close();
    }
  });
});
