#!/usr/bin/env -S node --import tsx
// The entry a launcher starts for one generator (`node --import tsx generator-main.ts --store … --run-id … --index …
// --count …`): the generator command alone, without the rest of the command line.
import { parseArgs } from "node:util";
import { executeGenerator, GENERATOR_HELP, GENERATOR_SYNOPSIS, GeneratorUsageError } from "./generator-command.ts";

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(`Usage: ${GENERATOR_SYNOPSIS}\n\n${GENERATOR_HELP}`);
    return 0;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { store: { type: "string" }, "run-id": { type: "string" }, index: { type: "string" }, count: { type: "string" } },
    }));
  } catch (error) {
    throw new GeneratorUsageError(error instanceof Error ? error.message : String(error));
  }
  return executeGenerator(values);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof GeneratorUsageError) {
      console.error(`generator: ${error.message} (see --help)`);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  },
);
