// The `payment-sandbox` command: one sandbox on its own port until SIGTERM or Ctrl-C, for pointing an API started with
// PAYMENT_SANDBOX=false at it. `pnpm start` does not need it: the API starts the same sandbox in its own process.
import { parseArgs } from "node:util";
import { LOCAL_SANDBOX_SECRET_KEY } from "@checkout/payment-protocol";
import { startPaymentSandbox } from "./sandbox-server.ts";

export const HELP = `
payment-sandbox: the local stand-in for a card processor (card field page, tokens, a Stripe-like API, 3-D Secure
challenges, signed webhooks), on its own port and origin. For development and tests only; it keeps everything in memory.

Usage: payment-sandbox [options]     (in the repository: pnpm --filter @checkout/payment-sandbox start [options])

  --port <n>               port to listen on (env PAYMENT_SANDBOX_PORT; default 3001; 0 picks a free one)
  --host <address>         address to listen on (default 127.0.0.1)
  --secret-key <key>       the key API calls must send as Bearer (env PAYMENT_SECRET_KEY; default the local account's key)
  --allowed-origin <url>   a shop origin allowed to embed the card field and 3-D Secure pages; repeat for more
                           (default http://localhost:3000, http://127.0.0.1:3000 and http://localhost:5173)
  --public-url <url>       the origin browsers reach the sandbox at (default the listening URL, with localhost)
  --webhook-url <url>      where signed events are POSTed, e.g. http://localhost:3000/webhooks/payments
  --webhook-secret <s>     the secret they are signed with (env PAYMENT_WEBHOOK_SECRET; needed with --webhook-url)
  --slow-card-delay-ms <n> how late the slow test card is answered (env PAYMENT_SANDBOX_SLOW_CARD_DELAY_MS; default 15000)
  -h, --help               print this and exit

The API then needs PAYMENT_SANDBOX=false, PAYMENT_PROVIDER_URL (this URL), PAYMENT_SECRET_KEY and PAYMENT_WEBHOOK_SECRET.
`;

const DEFAULT_ALLOWED_ORIGINS = ["http://localhost:3000", "http://127.0.0.1:3000", "http://localhost:5173"];

/** Exit code for a bad command line (sysexits EX_USAGE). */
const EX_USAGE = 64;

class UsageError extends Error {}

function wholeNumber(name: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${name} must be a whole number, not '${text}'`);
  return Number(text);
}

function optionsFrom(argv: string[], env: NodeJS.ProcessEnv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "secret-key": { type: "string" },
      "allowed-origin": { type: "string", multiple: true },
      "public-url": { type: "string" },
      "webhook-url": { type: "string" },
      "webhook-secret": { type: "string" },
      "slow-card-delay-ms": { type: "string" },
    },
  });
  const port = wholeNumber("--port", values.port ?? env.PAYMENT_SANDBOX_PORT ?? "3001");
  if (port > 65535) throw new UsageError(`--port must be at most 65535, not ${port}`);
  const webhookUrl = values["webhook-url"];
  const webhookSecret = values["webhook-secret"] ?? env.PAYMENT_WEBHOOK_SECRET;
  if (webhookUrl && !webhookSecret) throw new UsageError("--webhook-url needs --webhook-secret (or PAYMENT_WEBHOOK_SECRET)");
  const publicUrl = values["public-url"];
  const delay = values["slow-card-delay-ms"] ?? env.PAYMENT_SANDBOX_SLOW_CARD_DELAY_MS;
  return {
    port,
    host: values.host ?? "127.0.0.1",
    secretKey: values["secret-key"] ?? env.PAYMENT_SECRET_KEY ?? LOCAL_SANDBOX_SECRET_KEY,
    allowedParentOrigins: values["allowed-origin"] ?? DEFAULT_ALLOWED_ORIGINS,
    publicUrl: publicUrl ?? ((listeningUrl: string) => listeningUrl.replace("127.0.0.1", "localhost")),
    ...(webhookUrl ? { webhookUrl, webhookSecret } : {}),
    ...(delay !== undefined ? { slowCardDelayMs: wholeNumber("--slow-card-delay-ms", delay) } : {}),
  };
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(HELP.trim());
    return;
  }
  let options;
  try {
    options = optionsFrom(argv, process.env);
  } catch (error) {
    if (!(error instanceof UsageError) && (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS") !== true) throw error;
    console.error(`payment-sandbox: ${(error as Error).message} (--help lists the options)`);
    process.exit(EX_USAGE);
  }
  const sandbox = await startPaymentSandbox(options);
  console.log(`payment sandbox listening at ${sandbox.url} (browsers: ${sandbox.publicUrl}); Ctrl-C to stop`);
  let isStopping = false;
  const stop = () => {
    if (isStopping) return;
    isStopping = true;
    sandbox.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

// `pnpm start -- --port 0` hands the script the `--` as well.
const argv = process.argv.slice(2);
main(argv[0] === "--" ? argv.slice(1) : argv).catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
