// `--on local`: each generator is a child process on this machine (node running generator-main.ts through tsx), for
// a distributed run without a cloud, and for testing the protocol with real processes and real files.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { GeneratorLauncher, GeneratorSpec, GeneratorState, LaunchedGenerator } from "./launcher.ts";

export interface LocalLauncherOptions {
  /** The generators' environment; default this process's (AWS_* for an S3 store included). */
  env?: NodeJS.ProcessEnv;
  /** Each line a generator prints; default: to this process's stderr, prefixed with the generator's index. */
  onOutput?(index: number, line: string): void;
  /** stopAll's wait between SIGTERM (the generator writes what it has and exits) and SIGKILL. Default 5000 ms. */
  killAfterMs?: number;
}

interface LocalGenerator {
  spec: GeneratorSpec;
  child: ChildProcess;
  state: GeneratorState;
  /** The last lines it printed to stderr, for the reason it failed. */
  lastErrorLines: string[];
}

const GENERATOR_MAIN = fileURLToPath(new URL("./generator-main.ts", import.meta.url));

function exitReason(code: number | null, signal: NodeJS.Signals | null, lastErrorLines: string[]): string | undefined {
  const detail = lastErrorLines.at(-1);
  if (signal) return `killed by ${signal}`;
  if (code !== 0) return `exited with code ${code}${detail ? `: ${detail}` : ""}`;
  return undefined;
}

export class LocalLauncher implements GeneratorLauncher {
  readonly kind = "local" as const;
  private readonly generators: LocalGenerator[] = [];

  constructor(private readonly options: LocalLauncherOptions = {}) {}

  async start(specs: readonly GeneratorSpec[]): Promise<LaunchedGenerator[]> {
    const tsx = import.meta.resolve("tsx");
    const launched = specs.map((spec) => this.spawnGenerator(spec, tsx));
    // A generator counts as started once its process exists; one that could not be spawned is reported by status().
    await Promise.all(launched.map(({ child }) => Promise.race([once(child, "spawn"), once(child, "error")]).catch(() => undefined)));
    if (launched.every((generator) => generator.state.state === "failed")) {
      throw new Error(`no local generator could be started: ${launched[0]?.state.state === "failed" ? launched[0].state.reason : "unknown"}`);
    }
    return launched.map(({ spec, child }) => ({ spec, id: `local pid ${child.pid ?? "none"}` }));
  }

  async status(): Promise<GeneratorState[]> {
    return this.generators.map((generator) => generator.state);
  }

  /** The process id of generator `index`, while it has one. */
  pid(index: number): number | undefined {
    return this.generators.find((generator) => generator.spec.index === index)?.child.pid;
  }

  async stopAll(reason: string): Promise<void> {
    const running = this.generators.filter((generator) => generator.state.state === "running" || generator.state.state === "pending");
    for (const generator of running) generator.child.kill("SIGTERM");
    const killAfterMs = this.options.killAfterMs ?? 5000;
    await Promise.all(
      running.map(async (generator) => {
        const exit = once(generator.child, "exit").catch(() => undefined);
        if (generator.child.exitCode !== null || generator.child.signalCode !== null) return;
        const stopped = await Promise.race([exit.then(() => true), sleep(killAfterMs).then(() => false)]);
        if (!stopped) {
          generator.child.kill("SIGKILL");
          await exit;
          generator.state = { state: "failed", reason: `stopped (${reason}): did not exit within ${killAfterMs} ms of SIGTERM, killed` };
        }
      }),
    );
  }

  private spawnGenerator(spec: GeneratorSpec, tsx: string): LocalGenerator {
    const args = ["--import", tsx, GENERATOR_MAIN, "--store", spec.storeUrl, "--run-id", spec.runId, "--index", String(spec.index), "--count", String(spec.count)];
    const child = spawn(process.execPath, args, { env: this.options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    const generator: LocalGenerator = { spec, child, state: { state: "pending" }, lastErrorLines: [] };
    this.generators.push(generator);
    const onOutput = this.options.onOutput ?? ((index, line) => process.stderr.write(`[generator ${index}] ${line}\n`));
    createInterface({ input: child.stdout! }).on("line", (line) => onOutput(spec.index, line));
    createInterface({ input: child.stderr! }).on("line", (line) => {
      generator.lastErrorLines = [...generator.lastErrorLines.slice(-4), line];
      onOutput(spec.index, line);
    });
    child.once("spawn", () => {
      if (generator.state.state === "pending") generator.state = { state: "running" };
    });
    child.once("error", (error) => {
      generator.state = { state: "failed", reason: `could not start: ${error.message}` };
    });
    // "close" comes after the output has been read to its end, so the reason can quote its last line.
    child.once("close", (code, signal) => {
      if (generator.state.state === "failed") return;
      const reason = exitReason(code, signal, generator.lastErrorLines);
      generator.state = { state: "exited", exitCode: code, ...(reason ? { reason } : {}) };
    });
    return generator;
  }
}
