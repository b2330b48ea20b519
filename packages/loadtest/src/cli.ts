#!/usr/bin/env -S node --import tsx
// The load tester's command line: run, quick, report, monitor, plan.
console.error("checkout-loadtest: the commands (run, quick, report, monitor, plan) are being built; see packages/loadtest/README.md");
process.exit(2);
