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
