// Who used the shared cores during each measured window: the load generator, the server and other programs, as
// percent of one core, from the CPU seconds that bench-support reads from Linux /proc.
import { machineBusyCpuSeconds, ownCpuSeconds, processCpuSeconds } from "@checkout/bench-support";

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

/** Shares of a window in which the load comes from this process and/or other processes (generators). */
export interface ProcessesShares {
  /** This process (the engine in one process, or the coordinator of a distributed run). */
  own: number;
  server: number | null;
  /** Each generator process, in order; null where /proc did not have it. */
  generators: (number | null)[];
  /** Busy time minus every party above. */
  others: number | null;
}

/** Like startCpuWindow, with any number of generator processes beside this one. */
export function startProcessesWindow(serverPid: number, generatorPids: readonly (number | undefined)[]): () => ProcessesShares {
  const read = (pid: number | undefined) => (pid === undefined ? null : processCpuSeconds(pid));
  const before = { own: ownCpuSeconds(), server: processCpuSeconds(serverPid), generators: generatorPids.map(read), machine: machineBusyCpuSeconds(), at: performance.now() };
  return () => {
    const seconds = (performance.now() - before.at) / 1000;
    const percent = (start: number | null, end: number | null) => (start === null || end === null ? null : (100 * (end - start)) / seconds);
    const own = percent(before.own, ownCpuSeconds()) ?? 0;
    const server = percent(before.server, processCpuSeconds(serverPid));
    const generators = generatorPids.map((pid, at) => percent(before.generators[at] ?? null, read(pid)));
    const machine = percent(before.machine, machineBusyCpuSeconds());
    const known = own + (server ?? 0) + generators.reduce<number>((sum, share) => sum + (share ?? 0), 0);
    return { own, server, generators, others: machine === null ? null : Math.max(0, machine - known) };
  };
}
