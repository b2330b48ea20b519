// The command line of every operator command, bench and script: `--help` / `-h` prints what it does and exits 0 before
// doing anything else; anything the command does not declare (an unknown option, a typo, a stray argument) is refused
// with one line on stderr and exit 2, before the command reads its configuration, opens a database or starts anything.

/** `flag`: an option that takes no value (`--json`); `value`: one that takes one (`--bucket NAME` or `--bucket=NAME`). */
export type OptionKind = "flag" | "value";

export interface CommandSpec<O extends Record<string, OptionKind>> {
  /** How the command is called (`reconcile`, `audit:verify`): the start of every usage error. */
  name: string;
  help: string;
  /** Every option the command takes, by name without the dashes; none when omitted. */
  options?: O;
}

/** What was given: `true` for a flag, the text for a value; absent when not given. */
export type ParsedOptions<O extends Record<string, OptionKind>> = { [K in keyof O]?: O[K] extends "flag" ? true : string };

/** A command line the command does not accept; the message names what is wrong. */
export class UsageError extends Error {
  override name = "UsageError";
}

const isHelp = (arg: string) => arg === "--help" || arg === "-h";

/** Whether `argv` asks for help: `--help` or `-h` anywhere wins over everything else on the line. */
export function asksForHelp(argv: readonly string[]): boolean {
  return argv.some(isHelp);
}

/**
 * The options in `argv`, held to `declared`; throws UsageError for anything else. A bare `--` is skipped: pnpm passes
 * it through (`pnpm reconcile -- --json`), and these commands take no positional arguments it could separate.
 */
export function parseOptions<O extends Record<string, OptionKind>>(declared: O, argv: readonly string[]): ParsedOptions<O> {
  const parsed: Record<string, string | true> = {};
  for (let at = 0; at < argv.length; at++) {
    const arg = argv[at]!;
    if (arg === "--") continue;
    if (!arg.startsWith("-") || arg === "-") throw new UsageError(`unexpected argument ${arg}`);
    if (!arg.startsWith("--")) throw new UsageError(`unknown option ${arg}`);
    const equals = arg.indexOf("=");
    const name = arg.slice(2, equals === -1 ? undefined : equals);
    const kind = Object.hasOwn(declared, name) ? declared[name] : undefined;
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (Object.hasOwn(parsed, name)) throw new UsageError(`--${name} given twice`);
    if (kind === "flag") {
      if (equals !== -1) throw new UsageError(`--${name} takes no value`);
      parsed[name] = true;
      continue;
    }
    const value = equals === -1 ? argv[++at] : arg.slice(equals + 1);
    if (value === undefined || value === "" || (equals === -1 && value.startsWith("-"))) throw new UsageError(`--${name} needs a value`);
    parsed[name] = value;
  }
  return parsed as ParsedOptions<O>;
}

/**
 * The command's options from `argv`. Prints the help and exits 0 when asked for it; prints
 * `<name>: <what is wrong> (see --help)` and exits 2 on anything undeclared.
 */
export function readCommandLine<O extends Record<string, OptionKind> = Record<never, OptionKind>>(
  command: CommandSpec<O>,
  argv: readonly string[] = process.argv.slice(2),
): ParsedOptions<O> {
  if (asksForHelp(argv)) {
    console.log(command.help.trim());
    process.exit(0);
  }
  try {
    return parseOptions(command.options ?? ({} as O), argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${command.name}: ${error.message} (see --help)`);
    process.exit(2);
  }
}
