// CPU seconds from Linux /proc, to show who used the shared cores during each measured window.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const ticksPerSecond = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system, all threads) of one process, or null when it is gone or /proc is missing. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return null;
  }
}

/** CPU seconds this process has used. */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** CPU seconds all cores have spent busy (not idle, not waiting for I/O) since boot, or null without /proc. */
export function machineBusyCpuSeconds(): number | null {
  try {
    const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return (fields.reduce((sum, value) => sum + value, 0) - idle) / ticksPerSecond;
  } catch {
    return null;
  }
}

export interface CpuShares {
  /** Percent of one core over the window. */
  generator: number;
  server: number | null;
  /** Everything else on the machine: busy time minus the generator and the server. */
  others: number | null;
}

/** Starts a window; the returned function ends it and gives each party's share of a core. */
export function startCpuWindow(serverPid: number, generatorPid: number | null = null): () => CpuShares {
  const generatorCpu = () => (generatorPid === null ? ownCpuSeconds() : processCpuSeconds(generatorPid));
  const before = { generator: generatorCpu(), server: processCpuSeconds(serverPid), machine: machineBusyCpuSeconds(), at: performance.now() };
  return () => {
    const seconds = (performance.now() - before.at) / 1000;
    const after = { generator: generatorCpu(), server: processCpuSeconds(serverPid), machine: machineBusyCpuSeconds() };
    const percent = (start: number | null, end: number | null) => (start === null || end === null ? null : (100 * (end - start)) / seconds);
    const generator = percent(before.generator, after.generator) ?? 0;
    const server = percent(before.server, after.server);
    const machine = percent(before.machine, after.machine);
    return { generator, server, others: machine === null ? null : Math.max(0, machine - generator - (server ?? 0)) };
  };
}
