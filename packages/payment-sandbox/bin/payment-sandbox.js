#!/usr/bin/env node
// The `payment-sandbox` command. The package ships TypeScript, like the rest of the workspace: tsx loads it.
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
