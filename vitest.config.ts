// One test run for the whole monorepo: pure unit tests, API integration tests against a real
// PostgreSQL, and the browser test in real Chromium.
import { configDefaults, defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { SERVER_INDEPENDENT_TESTS, systemPostgresVersion } from "./packages/api/test/system-postgres.ts";

/**
 * The files that take longest (a fresh-clone run's figures, longest first). They start first, whatever their project, so
 * the run does not end with one of them alone on a worker while the others sit idle; the rest follow in vitest's order.
 */
const SLOWEST_FILES = [
  "packages/api/test/bench-smoke.test.ts",
  "packages/loadtest/test/parity.test.ts",
  "packages/web/e2e/express-checkout.test.ts",
  "packages/web/e2e/promo-3ds.test.ts",
  "packages/web/e2e/currency-switch.test.ts",
  "packages/web/e2e/one-page-checkout.test.ts",
  "packages/api/test/failover-drill.test.ts",
  "packages/loadtest/src/engine/run-script.test.ts",
  "packages/api/test/rehearsal.test.ts",
  "packages/web/e2e/address-lookup.test.ts",
  "packages/web/e2e/first-load.test.ts",
  "packages/web/e2e/locale-address.test.ts",
  "packages/api/test/crash-recovery.test.ts",
  "packages/web/e2e/card-field.test.ts",
  "packages/web/e2e/product-and-confirmation.test.ts",
  "packages/api/test/abuse.test.ts",
  "packages/api/test/bench-cli-arguments.test.ts",
];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const at = SLOWEST_FILES.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
      return at === -1 ? SLOWEST_FILES.length : at;
    };
    const sorted = await super.sort(files);
    return sorted
      .map((spec, at) => ({ spec, at, rank: rank(spec) }))
      .sort((a, b) => a.rank - b.rank || a.at - b.at)
      .map(({ spec }) => spec);
  }
}

// The API integration tests run a second time against an external PostgreSQL (this machine kind's 15 at
// 127.0.0.1:5432, or SYSTEM_DATABASE_URL) when one answers: a project of its own, sharing the workers with the rest.
const hasSystemPostgres = (await systemPostgresVersion()) !== null;

export default defineConfig({
  test: {
    reporters: process.env.CI ? ["default"] : ["default"],
    // Two files at a time (vitest's default on 2 cores is one): most files wait on sockets, timers and child
    // processes (load runs, drills, Artillery, Chromium), not on the CPU. Tests assert no timings, so sharing is safe.
    // Three were tried: the cores were already busy nine tenths of the run, and the run took 7 % longer.
    maxWorkers: 2,
    sequence: { sequencer: SlowestFirst },
    projects: [
      {
        test: {
          name: "core",
          root: "packages/core",
          include: ["src/**/*.test.ts"],
          environment: "node",
          // Pure unit tests with no module state to leak (no mocks, no env changes): one import of the modules per worker.
          isolate: false,
        },
      },
      {
        test: {
          // Core's rules against a real PostgreSQL (embedded, or TEST_DATABASE_URL) with a fake payment provider: no HTTP.
          name: "core-db",
          root: "packages/core",
          include: ["test/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/support/postgres.global-setup.ts"],
          isolate: false,
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "api",
          root: "packages/api",
          include: ["src/**/*.test.ts", "test/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/postgres.global-setup.ts"],
          // Each file makes its own database, app and ports and restores any environment it changes, so the files of
          // one worker share its process and modules (isolate: false): the app's modules load once per worker, not
          // once per file (a third less CPU for these projects).
          isolate: false,
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      ...(hasSystemPostgres
        ? [
            {
              test: {
                name: "api-system-postgres",
                root: "packages/api",
                include: ["test/**/*.test.ts"],
                exclude: [...configDefaults.exclude, ...SERVER_INDEPENDENT_TESTS],
                environment: "node",
                globalSetup: ["test/system-postgres.global-setup.ts"],
                isolate: false,
                testTimeout: 30_000,
                hookTimeout: 120_000,
              },
            },
          ]
        : []),
      {
        test: {
          name: "payment-sandbox",
          root: "packages/payment-sandbox",
          include: ["src/**/*.test.ts"],
          environment: "node",
          isolate: false,
          // The bin's test starts it as a child process (tsx): seconds on a busy machine, nothing timed.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "payment-protocol",
          root: "packages/payment-protocol",
          include: ["src/**/*.test.ts"],
          environment: "node",
          isolate: false,
        },
      },
      {
        test: {
          name: "stacks",
          root: ".",
          include: ["stacks/**/*.test.ts"],
          environment: "node",
          // Synthesis is CPU-bound; SST's project state is per process and each file writes its own folder
          // (stacks/test/support.ts), so files run beside the others, filling the CPU the waiting ones leave.
          // Files share their worker's modules (isolate: false), so the whole app is synthesized once per stage per
          // worker, not once per file: what a test reads comes from its own synthesis's record (support.ts), never
          // from SST's per-process "last app built" state.
          isolate: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          env: { NODE_ENV: "test" },
        },
      },
      {
        test: {
          name: "bench-support",
          root: "packages/bench-support",
          include: ["src/**/*.test.ts"],
          environment: "node",
          isolate: false,
        },
      },
      {
        test: {
          name: "loadtest",
          root: "packages/loadtest",
          include: ["src/**/*.test.ts"],
          environment: "node",
          isolate: false,
          testTimeout: 60_000,
        },
      },
      {
        test: {
          // The load tester against the real service: the shipped scripts' ci runs. Their error budgets are the shipped
          // ones, so the file runs alone at the end (its own project, fileParallelism false) rather than beside files
          // that would starve its virtual users of CPU.
          name: "loadtest-service",
          root: "packages/loadtest",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, "test/parity.test.ts", "test/distributed*.test.ts"],
          environment: "node",
          globalSetup: ["../api/test/postgres.global-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          maxConcurrency: 2,
        },
      },
      {
        test: {
          // Distributed runs (local generator processes against local test servers, counts and merges judged, never
          // timings): beside the other files, not in the service project's lane at the end.
          name: "loadtest-distributed",
          root: "packages/loadtest",
          include: ["test/distributed*.test.ts"],
          environment: "node",
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          // Artillery parity against the real service: tens of users, judged on counters, so it runs beside the others.
          name: "loadtest-service-parity",
          root: "packages/loadtest",
          include: ["test/parity.test.ts"],
          environment: "node",
          globalSetup: ["../api/test/postgres.global-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          // Four cases at a time: each is mostly Artillery's start-up and its wait for its own report, not CPU.
          maxConcurrency: 4,
        },
      },
      {
        test: {
          // The release pipeline offline: the workflows linted, their run steps resolved, the release scripts run.
          name: "release",
          root: ".",
          include: ["scripts/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "browser",
          root: "packages/web",
          include: ["e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["../api/test/postgres.global-setup.ts", "e2e/browser.global-setup.ts"],
          // Each file starts its own shop (database, port, Chromium), so they run beside the other projects' files
          // instead of alone at the end; nothing in them is timed, and the budgets leave room for a busy machine.
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
