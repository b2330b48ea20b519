// CPU seconds used by processes and by the whole machine, read from Linux /proc, to show who used the shared cores
// during a measured window.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const clockTicksPerSecond = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  ppid: number;
  cpuSeconds: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(fields[1]);
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (![ppid, utime, stime].every(Number.isFinite)) return null;
    return { ppid, cpuSeconds: (utime + stime) / clockTicksPerSecond };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) of one process, or null where /proc is unavailable. */
export function processCpuSeconds(pid: number): number | null {
  return readStat(pid)?.cpuSeconds ?? null;
}

/** CPU seconds of a process and its direct children (PostgreSQL's postmaster and its backends). */
export function processTreeCpuSeconds(rootPid: number): number | null {
  const root = readStat(rootPid);
  if (!root) return null;
  let total = root.cpuSeconds;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.ppid === rootPid) total += stat.cpuSeconds;
  }
  return total;
}

/** CPU seconds of each direct child of a process, by pid (a sampler adds up children that come and go). */
export function childrenCpuSeconds(rootPid: number): Map<number, number> {
  const children = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.ppid === rootPid) children.set(Number(entry), stat.cpuSeconds);
  }
  return children;
}

/**
 * Samples a process tree's CPU while something runs whose children come and go (a benchmark's own database
 * connections): the root's own CPU plus, for each child seen, what it used between its first and last sample (from 0
 * for a child born during the window). A child's last `intervalMs` before it exits is missed.
 */
export function sampleProcessTreeCpu(rootPid: number, intervalMs = 200): { stop(): number | null } {
  const root = processCpuSeconds(rootPid);
  if (root === null) return { stop: () => null };
  const before = childrenCpuSeconds(rootPid);
  const last = new Map(before);
  const sample = () => {
    for (const [pid, seconds] of childrenCpuSeconds(rootPid)) last.set(pid, seconds);
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const rootAfter = processCpuSeconds(rootPid);
      if (rootAfter === null) return null;
      let total = rootAfter - root;
      for (const [pid, seconds] of last) total += seconds - (before.get(pid) ?? 0);
      return total;
    },
  };
}

/** CPU seconds this process (the load generator) has used. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** CPU seconds all cores of the machine have spent busy (not idle or waiting for I/O) since boot. */
export function machineBusyCpuSeconds(): number | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const [label, ...ticks] = line.trim().split(/\s+/);
    if (label !== "cpu") return null;
    // user nice system idle iowait irq softirq steal …: everything but idle and iowait is busy.
    const values = ticks.map(Number);
    const busy = values.reduce((sum, value, index) => (index === 3 || index === 4 || index > 7 ? sum : sum + value), 0);
    return busy / clockTicksPerSecond;
  } catch {
    return null;
  }
}
