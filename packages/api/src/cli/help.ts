// `--help` / `-h` on any command: print what it does and how to run it, then exit 0 before doing anything else.

/** Prints `text` and exits 0 when the command line asks for help; returns otherwise. */
export function exitWithHelpIfAsked(text: string, argv: readonly string[] = process.argv.slice(2)): void {
  if (!argv.includes("--help") && !argv.includes("-h")) return;
  console.log(text.trim());
  process.exit(0);
}
