// `--dashboard [PORT]` and `--dashboard-linger SECONDS`, taken out of the arguments before node's parseArgs (which
// has no option with an optional value), and the linger after the verdict.
import { DashboardError } from "./dashboard-server.ts";

export interface DashboardFlags {
  /** 0: a free port. */
  port: number;
  /** Seconds to keep serving the final report after the verdict; 0 (the default) stops with the command. */
  lingerSeconds: number;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) throw new DashboardError(`--dashboard takes a port from 1 to 65535, or nothing (or 0) for a free port; got "${text}"`);
  return port;
}

function parseLinger(text: string | undefined): number {
  const seconds = Number(text);
  if (text === undefined || text.trim() === "" || !Number.isFinite(seconds) || seconds < 0) {
    throw new DashboardError(`--dashboard-linger takes a number of seconds (0 or more); got ${text === undefined ? "nothing" : `"${text}"`}`);
  }
  return seconds;
}

/**
 * Removes the dashboard's flags from `args`: `--dashboard` with an optional port after it (`--dashboard 8080` or
 * `--dashboard=8080`; a bare number after `--dashboard` is always its port), and `--dashboard-linger SECONDS`.
 * Throws DashboardError (exit 2) for a bad value, or a linger without `--dashboard`.
 */
export function takeDashboardFlags(args: readonly string[]): { args: string[]; dashboard: DashboardFlags | undefined } {
  const rest: string[] = [];
  let port: number | undefined;
  let linger: number | undefined;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "--") {
      rest.push(...args.slice(index));
      break;
    }
    if (arg === "--dashboard") {
      const next = args[index + 1];
      const hasPort = next !== undefined && /^\d+$/.test(next);
      port = hasPort ? parsePort(next) : 0;
      if (hasPort) index++;
    } else if (arg.startsWith("--dashboard=")) {
      port = parsePort(arg.slice("--dashboard=".length));
    } else if (arg === "--dashboard-linger") {
      linger = parseLinger(args[++index]);
    } else if (arg.startsWith("--dashboard-linger=")) {
      linger = parseLinger(arg.slice("--dashboard-linger=".length));
    } else {
      rest.push(arg);
    }
  }
  if (linger !== undefined && port === undefined) throw new DashboardError("--dashboard-linger needs --dashboard");
  return { args: rest, dashboard: port === undefined ? undefined : { port, lingerSeconds: linger ?? 0 } };
}

/** Waits `seconds` (the final report stays served meanwhile), or less if the user presses Ctrl-C or the process is told to stop. */
export function linger(seconds: number): Promise<void> {
  if (seconds <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    const timer = setTimeout(done, seconds * 1000);
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
}
