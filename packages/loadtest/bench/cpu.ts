// Who used the shared cores during each measured window: the load generator, the server and other programs, as
// percent of one core, from the CPU seconds that bench-support reads from Linux /proc.
import { readFileSync } from "node:fs";
import { machineBusyCpuSeconds, ownCpuSeconds, processCpuSeconds } from "@checkout/bench-support";

/**
 * CPU seconds the hypervisor gave this machine's cores to other guests since boot (/proc/stat's steal column), or null
 * without /proc. The machine's busy time counts it, so it is part of "others": a share no program here used.
 */
export function machineStealCpuSeconds(): number | null {
  try {
    const [label, ...ticks] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/);
    const steal = Number(ticks[7]);
    // /proc/stat counts in USER_HZ, 100 per second on Linux.
    return label === "cpu" && Number.isFinite(steal) ? steal / 100 : null;
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
  /** Of `others`, the cores' time the hypervisor gave to other guests (steal). */
  steal: number | null;
}

/** Starts a window; the returned function ends it and gives each party's share of a core. */
export function startCpuWindow(serverPid: number, generatorPid: number | null = null): () => CpuShares {
  const generatorCpu = () => (generatorPid === null ? ownCpuSeconds() : processCpuSeconds(generatorPid));
  const before = { generator: generatorCpu(), server: processCpuSeconds(serverPid), machine: machineBusyCpuSeconds(), steal: machineStealCpuSeconds(), at: performance.now() };
  return () => {
    const seconds = (performance.now() - before.at) / 1000;
    const after = { generator: generatorCpu(), server: processCpuSeconds(serverPid), machine: machineBusyCpuSeconds(), steal: machineStealCpuSeconds() };
    const percent = (start: number | null, end: number | null) => (start === null || end === null ? null : (100 * (end - start)) / seconds);
    const generator = percent(before.generator, after.generator) ?? 0;
    const server = percent(before.server, after.server);
    const machine = percent(before.machine, after.machine);
    return { generator, server, others: machine === null ? null : Math.max(0, machine - generator - (server ?? 0)), steal: percent(before.steal, after.steal) };
  };
}

/** Shares of a window in which the load comes from this process and/or other processes (generators). */
export interface ProcessesShares {
  /** This process (the engine in one process, or the coordinator of a distributed run). */
  own: number;
  server: number | null;
  /** Each generator process, in order; null where /proc did not have it. */
  generators: (number | null)[];
  /** Busy time minus every party above. */
  others: number | null;
  /** Of `others`, the cores' time the hypervisor gave to other guests (steal). */
  steal: number | null;
}

/** Like startCpuWindow, with any number of generator processes beside this one. */
export function startProcessesWindow(serverPid: number, generatorPids: readonly (number | undefined)[]): () => ProcessesShares {
  const read = (pid: number | undefined) => (pid === undefined ? null : processCpuSeconds(pid));
  const before = {
    own: ownCpuSeconds(),
    server: processCpuSeconds(serverPid),
    generators: generatorPids.map(read),
    machine: machineBusyCpuSeconds(),
    steal: machineStealCpuSeconds(),
    at: performance.now(),
  };
  return () => {
    const seconds = (performance.now() - before.at) / 1000;
    const percent = (start: number | null, end: number | null) => (start === null || end === null ? null : (100 * (end - start)) / seconds);
    const own = percent(before.own, ownCpuSeconds()) ?? 0;
    const server = percent(before.server, processCpuSeconds(serverPid));
    const generators = generatorPids.map((pid, at) => percent(before.generators[at] ?? null, read(pid)));
    const machine = percent(before.machine, machineBusyCpuSeconds());
    const known = own + (server ?? 0) + generators.reduce<number>((sum, share) => sum + (share ?? 0), 0);
    return { own, server, generators, others: machine === null ? null : Math.max(0, machine - known), steal: percent(before.steal, machineStealCpuSeconds()) };
  };
}

/** "Other programs" as the tables show it: percent of one core, with the hypervisor's steal in it when there was any. */
export function othersPct(cpu: { others: number | null; steal: number | null }): string {
  if (cpu.others === null) return "n/a";
  // Steal is part of the busy time "others" is left from; over a short window tick rounding can put it above.
  const steal = cpu.steal === null ? 0 : Math.min(cpu.steal, cpu.others);
  return `${Math.round(cpu.others)} %${steal >= 1 ? ` (steal ${Math.round(steal)} %)` : ""}`;
}
