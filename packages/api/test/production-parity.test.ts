// Production parity: the prod stage's API task definition, read from the synthesized template, run here as ECS would
// run it — the bundle in the image's files, every container in dependency order in the task's own network namespace,
// the task definition's environment, command and port, its secrets injected from a stand-in secret store, as the
// image's non-root user on a read-only root filesystem (writable only at the task's volumes), PostgreSQL over TLS
// verified against a CA this test makes — then a purchase, its email over SMTP, an operator's call, a signed payment
// webhook, both health checks, the stop timeout and the audit anchor through it. Only what names an AWS endpoint is
// replaced by a local stand-in: `standIn` (environment), `operatorSecret` (the operator's secrets) and the S3 endpoint
// and keys in `environmentOf`.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDb, seedCatalog } from "@checkout/core";
import { startPaymentSandbox, type PaymentSandbox } from "@checkout/payment-sandbox";
import { materialise, readImage, type ImageConfig } from "./support/dockerfile-image.ts";
import { isolationProblem, launchContainer, runtimeEnvironment, userOf, waitUntilHealthy, type StartedContainer } from "./support/ecs-task.ts";
import { startSmtpServer, type SmtpServer } from "./support/smtp-server.ts";
import { fillSecretStore, injectSecrets, plainEnvironment, readProductionTask, startOrder, type ContainerSpec, type Resolved, type TaskSpec } from "./support/production-task.ts";
import { startTaskNetwork, type TaskNetwork } from "./support/task-network.ts";
import { createServerCertificate, createTestCa, startTlsPostgres, type TlsPostgres } from "./support/tls-postgres.ts";
import { createAdminClient, createClient, readyCart, tokenizeCard } from "./support/app.ts";

const STAGE = "prod";
const apiRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const run = promisify(execFile);
const THREE_D_SECURE_CARD = "4000002760003184";
const SUCCESS_CARD = "4242424242424242";
/** Container-definition settings outside the process's view: where logs go, CPU and memory shares, labels. */
const UNREPRODUCED_BUT_INERT = new Set(["LogConfiguration", "Cpu", "Memory", "MemoryReservation", "DockerLabels"]);
/** s3rver (no types of its own): the S3 API over HTTP, standing in for the audit anchor bucket. */
interface S3Server {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
/** Every request reaches a task through CloudFront, which always sends the viewer's address (stacks/edge-origin.ts). */
const VIEWER = { "cloudfront-viewer-address": "198.51.100.23:51234" };

const problem = isolationProblem();
const mustRun = process.env.CI === "true";
if (problem && !mustRun) console.warn(`[production-parity] skipped: ${problem}. In CI (CI=true) this fails instead.`);

describe.skipIf(problem !== null && !mustRun)("the prod task definition, run here as ECS runs it", () => {
  let dir: string;
  let spec: TaskSpec;
  let image: ImageConfig;
  let imageDir: string;
  let database: TlsPostgres;
  let smtp: SmtpServer;
  let sandbox: PaymentSandbox;
  let s3: S3Server | null = null;
  let s3Port = 0;
  let network: TaskNetwork;
  let secrets = new Map<string, string>();
  const operator = {
    paymentSecretKey: `sk_live_${randomBytes(16).toString("hex")}`,
    webhookSecret: `whsec_${randomBytes(24).toString("hex")}`,
    smtpUser: `AKIA${randomBytes(8).toString("hex").toUpperCase()}`,
    smtpPassword: randomBytes(30).toString("base64"),
  };
  const notes: string[] = [];
  const started = new Map<string, StartedContainer>();
  let app: StartedContainer | undefined;
  let base = "";

  /** The local stand-in for each environment value that names an AWS resource; anything else has none (a failure). */
  function standIn(name: string, value: Exclude<Resolved, string>): string | undefined {
    if (!("ref" in value)) return undefined;
    const { type, attribute } = value.ref;
    if (type === "AWS::RDS::DBInstance" && attribute === "Endpoint.Address") return "localhost";
    if (type === "AWS::RDS::DBInstance" && attribute === "Endpoint.Port") return "5432";
    if (type === "AWS::S3::Bucket" && attribute === undefined && name === "AUDIT_ANCHOR_BUCKET") return "audit-anchor-parity";
    return undefined;
  }

  /** The secrets the operator creates before a deploy (docs/DEPLOY.md), by Secrets Manager name. */
  function operatorSecret(name: string): string | undefined {
    const values: Record<string, Record<string, string>> = {
      // The provider's API is the payment sandbox (http: a local stand-in has no certificate Node would trust).
      [`checkout/${STAGE}/payment-provider`]: { url: `http://localhost:${sandbox.port}`, secretKey: operator.paymentSecretKey, webhookSecret: operator.webhookSecret },
      // SES's SMTP interface (smtps://USER:PASS@email-smtp.<region>.amazonaws.com:465) is the local SMTP server: the
      // same credentials, plain smtp: for the same reason.
      [`checkout/${STAGE}/smtp`]: { url: `smtp://${encodeURIComponent(operator.smtpUser)}:${encodeURIComponent(operator.smtpPassword)}@localhost:${smtp.port}` },
    };
    return values[name] === undefined ? undefined : JSON.stringify(values[name]);
  }

  function environmentOf(container: ContainerSpec): Record<string, string> {
    const plain = plainEnvironment(container, standIn);
    const injected = injectSecrets(container, secrets);
    const clashes = Object.keys(injected).filter((name) => name in plain);
    if (clashes.length > 0) throw new Error(`${container.name}: ${clashes.join(", ")} both in Environment and Secrets (ECS refuses the task definition)`);
    const env = { ...runtimeEnvironment({ image, container, region: spec.region }), ...plain, ...injected };
    if (env.AUDIT_ANCHOR_BUCKET && s3) {
      // s3rver stands in for S3 (path-style endpoint, env.ts AUDIT_ANCHOR_ENDPOINT) and static keys for the task role's.
      Object.assign(env, { AUDIT_ANCHOR_ENDPOINT: `http://localhost:${S3_TASK_PORT}`, AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" });
    }
    return env;
  }

  /** Starts a container as the task definition has it; the test CA stands in for the RDS bundle at DATABASE_SSL_CA. */
  function launch(container: ContainerSpec, options: { name?: string; overlays?: { hostPath: string; containerPath: string }[] } = {}): StartedContainer {
    const env = environmentOf(container);
    const caPath = env.DATABASE_SSL_CA;
    const overlays = options.overlays ?? (caPath && image.files.has(caPath) ? [{ hostPath: database.caPath, containerPath: caPath }] : []);
    return launchContainer({
      spec,
      container,
      image,
      imageDir,
      rootsDir: path.join(dir, "roots"),
      networkPid: network.pid,
      env,
      overlays,
      ...(options.name ? { name: options.name } : {}),
    });
  }

  const S3_TASK_PORT = 9000;

  beforeAll(async () => {
    if (problem) throw new Error(`the production-parity test cannot isolate the container on this machine: ${problem}`);
    dir = mkdtempSync(path.join(os.tmpdir(), "checkout-parity-"));
    // The synthesis (a child process, ~15 s) and the bundle build run side by side.
    imageDir = path.join(dir, "image");
    const bundled = (async () => {
      // Bundled into a build context of its own, so bundle.test.ts rebuilding packages/api/dist never races it.
      const context = path.join(dir, "context");
      await run(process.execPath, ["--import", "tsx", "scripts/bundle.ts"], { cwd: apiRoot, env: { ...process.env, BUNDLE_CONTEXT_DIR: context } });
      return materialise(readImage({ dockerfile: path.join(apiRoot, "Dockerfile"), context }), imageDir);
    })();
    const synthesisStarted = Date.now();
    [spec, image] = await Promise.all([readProductionTask({ stage: STAGE }).finally(() => notes.push(`synthesis: ${Date.now() - synthesisStarted} ms`)), bundled]);
    // PostgreSQL runs as its own user (tls-postgres.ts) and must reach its data directory under this one.
    chmodSync(dir, 0o755);

    // Secrets Manager as it would stand after a deploy: the stack's generated secrets filled in as GenerateSecretString
    // does, the database's master secret given the keys RDS adds, the operator's secrets as docs/DEPLOY.md has them.
    smtp = await startSmtpServer();
    const publicOrigin = new URL((spec.containers.flatMap((c) => c.environment).find((e) => e.name === "PUBLIC_URL")?.value as string) ?? "https://shop.example.com").origin;
    sandbox = await startPaymentSandbox({
      port: 0,
      host: "127.0.0.1",
      secretKey: operator.paymentSecretKey,
      allowedParentOrigins: [publicOrigin],
      webhookSecret: operator.webhookSecret,
    });
    secrets = fillSecretStore({ secrets: Object.values(spec.secrets), operatorSecret });
    const master = Object.values(spec.secrets).find((source) => source.attachedTo === "AWS::RDS::DBInstance");
    if (!master || !secrets.has(master.id)) throw new Error(`the template attaches no generated secret to the database instance: ${JSON.stringify(spec.secrets)}`);
    const masterValue = JSON.parse(secrets.get(master.id)!) as { username: string; password: string };
    const databaseName = spec.containers.flatMap((c) => c.environment).find((e) => e.name === "DATABASE_NAME")?.value;
    const databaseStarted = Date.now();
    database = await startTlsPostgres({
      dir: path.join(dir, "postgres"),
      database: typeof databaseName === "string" ? databaseName : "checkout",
      ownerUser: masterValue.username,
      ownerPassword: masterValue.password,
    });
    notes.push(`TLS PostgreSQL: ${Date.now() - databaseStarted} ms`);
    secrets.set(master.id, JSON.stringify({ ...masterValue, engine: "postgres", host: "localhost", port: 5432, dbname: database.database }));

    const anchored = spec.containers.some((c) => c.environment.some((e) => e.name === "AUDIT_ANCHOR_BUCKET"));
    if (anchored) {
      const { default: S3rver } = (await import("s3rver" as string)) as { default: new (options: Record<string, unknown>) => S3Server };
      s3 = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: path.join(dir, "s3"), configureBuckets: [{ name: "audit-anchor-parity", configs: [] }] });
      s3Port = (await s3.run()).port;
    } else notes.push("the task definition sets no AUDIT_ANCHOR_BUCKET: no S3 stand-in started");

    const databasePorts = new Set(
      spec.containers
        .flatMap((c) => c.environment)
        .filter((e) => e.name === "DATABASE_PORT" && typeof e.value === "string")
        .map((e) => Number(e.value)),
    );
    if (databasePorts.size === 0) databasePorts.add(5432);
    network = await startTaskNetwork({
      dir: path.join(dir, "sockets"),
      outbound: [
        ...[...databasePorts].map((taskPort) => ({ taskPort, host: "127.0.0.1", port: database.port })),
        { taskPort: sandbox.port, host: "127.0.0.1", port: sandbox.port },
        { taskPort: smtp.port, host: "127.0.0.1", port: smtp.port },
        ...(s3 ? [{ taskPort: S3_TASK_PORT, host: "127.0.0.1", port: s3Port }] : []),
      ],
      published: [...new Set(spec.containers.flatMap((c) => c.portMappings.map((m) => m.containerPort)))],
    });
  }, 240_000);

  afterAll(async () => {
    for (const { container } of started.values()) container.kill("SIGKILL");
    await network?.close();
    await sandbox?.close();
    await smtp?.close();
    await s3?.close();
    await database?.stop();
    if (notes.length > 0) console.info(`[production-parity] notes:\n  ${notes.join("\n  ")}`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** The app container, once it has passed its health check (the tests that talk to it need that). */
  function requireApp() {
    if (!app || base === "") throw new Error("the app container never became healthy (see the first failure above)");
    return app;
  }

  it("reads a task definition the image can run: non-root, read-only root, its port, /health checks, a stop timeout", () => {
    const ordered = startOrder(spec);
    const serving = ordered.filter((container) => container.portMappings.length > 0);
    expect(
      serving.map((c) => c.name),
      "exactly one container takes traffic",
    ).toHaveLength(1);
    const container = serving[0]!;
    const env = Object.fromEntries(container.environment.map((e) => [e.name, e.value]));
    for (const each of ordered) {
      // Container settings this run does not reproduce must not change what the process sees (tmpfs, capabilities…).
      expect
        .soft(
          Object.keys(each.other).filter((key) => !UNREPRODUCED_BUT_INERT.has(key)),
          `${each.name}: container settings not reproduced here`,
        )
        .toEqual([]);
      expect.soft(userOf(each.user ?? image.user).uid, `${each.name} runs as a non-root user`).not.toBe(0);
      expect.soft(each.readonlyRootFilesystem, `${each.name} has a read-only root filesystem`).toBe(true);
    }
    const port = container.portMappings[0]!.containerPort;
    expect.soft(env.PORT, "PORT is the port mapping's").toBe(String(port));
    expect.soft(image.exposed, "the image EXPOSEs the port mapping's port").toContain(port);
    expect(container.healthCheck, "the container has a health check").toBeDefined();
    const url = container.healthCheck!.command.join(" ").match(/https?:\/\/[^\s'"]+/)?.[0];
    expect(url, "the health check asks a URL").toBeDefined();
    expect.soft(new URL(url!).port, "the health check asks the container's own port").toBe(String(port));
    expect.soft(new URL(url!).pathname, "the container health check is liveness (/health)").toBe("/health");
    for (const group of spec.targetGroups) {
      expect.soft(group.port, `${group.logicalId} sends to the container port`).toBe(port);
      expect.soft(group.healthCheck.path, `${group.logicalId} checks liveness (/health), never the database`).toBe("/health");
    }
    expect.soft(container.stopTimeout, "a stop timeout longer than the drain").toBeGreaterThan(Number(env.SHUTDOWN_TIMEOUT_MS ?? 0) / 1000);
    for (const each of ordered) {
      for (const dependency of each.dependsOn) {
        const other = ordered.find((c) => c.name === dependency.containerName)!;
        if (dependency.condition === "SUCCESS" || dependency.condition === "COMPLETE") expect.soft(other.essential, `${other.name} exits, so it must be non-essential`).toBe(false);
      }
    }
  });

  it("starts every container in dependency order with its environment and secrets, and the app passes its container health check", async () => {
    for (const container of startOrder(spec)) {
      const running = launch(container);
      started.set(container.name, running);
      const waitedOn = spec.containers
        .flatMap((c) => c.dependsOn)
        .filter((d) => d.containerName === container.name)
        .map((d) => d.condition);
      if (waitedOn.includes("SUCCESS") || waitedOn.includes("COMPLETE")) {
        const exit = await Promise.race([running.container.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 90_000))]);
        expect(exit, `${container.name} exits within 90 s:\n${running.container.output()}`).not.toBeNull();
        if (waitedOn.includes("SUCCESS")) expect(exit!.code, `${container.name} exits 0 (SUCCESS):\n${running.container.output()}`).toBe(0);
        continue;
      }
      // Every other container with a health check must pass it in the window ECS gives it (essential ones stop the task).
      if (container.healthCheck) {
        const health = await waitUntilHealthy(running);
        if (health.exit)
          expect.fail(`${container.name} exited (${JSON.stringify(health.exit)}) before passing its health check; its output:\n${running.container.output().slice(-4000)}`);
        expect(
          health.last.code,
          `${container.name} passes \`${container.healthCheck.command.join(" ")}\` (last: ${health.last.output.trim()}); its output:\n${running.container.output().slice(-4000)}`,
        ).toBe(0);
      } else if (waitedOn.includes("HEALTHY")) expect.fail(`another container waits for ${container.name} to be HEALTHY, but it has no health check`);
      if (container.portMappings.length === 0) continue;
      expect(container.healthCheck, `${container.name} takes traffic and has a health check`).toBeDefined();
      app = running;
      const published = network.published(container.portMappings[0]!.containerPort);
      base = `http://${published.host}:${published.port}`;
    }
    expect(app, "a container takes traffic").toBeDefined();
  }, 240_000);

  it("answers the target group's health check", async () => {
    requireApp();
    for (const group of spec.targetGroups) {
      const { path: checkPath, healthyThreshold = 5, timeoutSeconds = 5, matcher } = group.healthCheck;
      const codes = String((matcher as { HttpCode?: string } | undefined)?.HttpCode ?? "200").split(",");
      for (let i = 0; i < healthyThreshold; i++) {
        const response = await fetch(`${base}${checkPath}`, { signal: AbortSignal.timeout(timeoutSeconds * 1000) });
        expect(codes, `${group.logicalId}: GET ${checkPath} answered ${response.status}`).toContain(String(response.status));
      }
    }
  });

  let placed: { id: string; number: string; total: unknown } | undefined;

  it("takes a purchase from cart to placed order, with the catalogue an operator loaded", async () => {
    requireApp();
    // SEED_CATALOG is false in prod: the operator loads the catalogue, here as the master user over verified TLS.
    const owner = createDb({ connectionString: database.url(), max: 1, applicationName: "parity-operator" });
    try {
      await seedCatalog(owner);
    } finally {
      await owner.destroy();
    }
    const client = createClient(base, VIEWER);
    const { products } = await client.catalog.list.query();
    expect(products.length).toBeGreaterThan(0);
    const cartId = await readyCart(client, [{ sku: "TEE-BLA-M", quantity: 1 }]);
    const quote = await client.checkout.quote.mutate({ cartId });
    const order = await client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await tokenizeCard(sandbox.url, SUCCESS_CARD) });
    expect(order.status, requireApp().container.output().slice(-4000)).toBe("captured");
    expect(order.total).toEqual(quote.total);
    placed = order;
  });

  it("delivers the confirmation email over SMTP with the credentials from the secret", async () => {
    expect(placed, "a purchase was placed").toBeDefined();
    await vi
      .waitFor(() => expect(smtp.messages.some((m) => m.data.includes(placed!.number))).toBe(true), { timeout: 20_000, interval: 200 })
      .catch(() => {
        throw new Error(`no email for order ${placed!.number} reached the SMTP server; the app's output:\n${requireApp().container.output().slice(-6000)}`);
      });
    const message = smtp.messages.find((m) => m.data.includes(placed!.number))!;
    expect(message.to).toEqual(["ada@example.com"]);
    expect(message.login).toEqual({ user: operator.smtpUser, password: operator.smtpPassword });
    expect(message.data).toMatch(new RegExp(`^Subject: Order ${placed!.number} confirmed\\r$`, "m"));
    const from = requireApp().env.MAIL_FROM;
    expect.soft(from, "MAIL_FROM is set (the SES identity's address)").toBeDefined();
    if (from) expect(message.from).toBe(/<([^>]+)>/.exec(from)?.[1] ?? from);
  });

  it("lets an operator in with a token from the ADMIN_API_TOKENS secret (order view, refund), and nobody without one", async () => {
    expect(placed, "a purchase was placed").toBeDefined();
    const tokens = requireApp().env.ADMIN_API_TOKENS;
    expect(tokens, "the app container is given ADMIN_API_TOKENS").toBeDefined();
    const [name, token] = tokens!.split(",")[0]!.split(/:(.*)/s) as [string, string];
    const admin = createAdminClient(base, token, VIEWER);
    const view = await admin.admin.orders.get.query({ orderId: placed!.id });
    expect(view.order).toMatchObject({ id: placed!.id, number: placed!.number, status: "captured" });
    // A refund goes through the payment provider with the secret's key, as an operator's would.
    const refunded = await admin.admin.orders.refund.mutate({ orderId: placed!.id, amount: 100, reason: "production-parity check" });
    expect(refunded.status).toBe("partially_refunded");
    const anonymous = await fetch(`${base}/trpc/admin.orders.list`, { method: "POST", headers: { ...VIEWER, "content-type": "application/json" }, body: "{}" });
    expect(anonymous.status).toBe(401);
    // Audited under the token's name, from the viewer address CloudFront vouched for (VIEWER_ADDRESS_HEADER).
    const audited = await superQuery<{ actor: string; ip: string }>(
      `select actor, origin->>'ip' as ip from audit_log where action = 'admin.order_viewed' and data->>'orderId' = '${placed!.id}'`,
    );
    expect(audited).toEqual([{ actor: `admin:${name}`, ip: VIEWER["cloudfront-viewer-address"].split(":")[0] }]);
  });

  it("settles a 3-D Secure order from the provider's signed webhook on /webhooks/payments, and refuses a forged one", async () => {
    requireApp();
    sandbox.setWebhookTarget(`${base}/webhooks/payments`, operator.webhookSecret);
    const client = createClient(base, VIEWER);
    const cartId = await readyCart(client, [{ sku: "MUG-SLA", quantity: 1 }]);
    const quote = await client.checkout.quote.mutate({ cartId });
    const order = await client.checkout.placeOrder.mutate({ cartId, quoteId: quote.id, paymentToken: await tokenizeCard(sandbox.url, THREE_D_SECURE_CARD) });
    const challenge = new URL(order.payment?.nextActionUrl ?? "");
    const answered = await fetch(new URL(challenge.pathname, sandbox.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ result: "authenticated" }),
    });
    expect(answered.status).toBe(200);
    await vi.waitFor(async () => expect((await client.order.get.query({ orderId: order.id })).status).toBe("captured"), { timeout: 15_000, interval: 200 });
    const events = await superQuery<{ type: string }>("select type from payment_webhook_event where processed_at is not null");
    expect(events.map((e) => e.type)).toContain("authorization.succeeded");

    const forged = await fetch(`${base}/webhooks/payments`, {
      method: "POST",
      headers: { "content-type": "application/json", "sandbox-signature": `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}` },
      body: JSON.stringify({ id: "evt_forged", type: "authorization.succeeded", created: 0, data: {} }),
    });
    expect(forged.status).toBe(400);
  });

  it("reaches the database only over TLS with verify-full, as a service role that cannot rewrite the audit log", async () => {
    const running = requireApp();
    const sessions = await superQuery<{ usename: string; ssl: boolean }>(
      "select a.usename, s.ssl from pg_stat_activity a join pg_stat_ssl s using (pid) where a.application_name like 'checkout-api%'",
    );
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.every((s) => s.ssl)).toBe(true);
    expect([...new Set(sessions.map((s) => s.usename))]).toEqual([running.env.DATABASE_USER]);
    expect.soft(running.env.DATABASE_SSL, "the task asks for a verified certificate").toBe("verify-full");
    expect.soft(running.env.DATABASE_SSL_CA, "the task names the CA bundle").toBeDefined();
    if (running.env.DATABASE_SSL_CA) expect.soft(image.files.has(running.env.DATABASE_SSL_CA), `the image ships ${running.env.DATABASE_SSL_CA}`).toBe(true);
    const master = Object.values(spec.secrets).find((source) => source.attachedTo === "AWS::RDS::DBInstance")!;
    const user = running.spec.secrets.find((secret) => secret.name === "DATABASE_USER");
    expect.soft(user?.secretId, "the service does not connect as the database's master user").not.toBe(master.id);
    // What the service's own credentials may do to the audit chain: each attempt in a transaction rolled back.
    const attempts = {
      update: "update audit_log set action = action where false",
      delete: "delete from audit_log where false",
      truncate: "truncate audit_log",
      "disable triggers": "alter table audit_log disable trigger all",
    };
    const allowed: string[] = [];
    const client = new pg.Client({ connectionString: database.url({ user: running.env.DATABASE_USER, password: running.env.DATABASE_PASSWORD }) });
    await client.connect();
    try {
      for (const [name, sql] of Object.entries(attempts)) {
        await client.query("begin");
        try {
          await client.query(sql);
          allowed.push(name);
        } catch {
          // Refused, as it must be.
        } finally {
          await client.query("rollback");
        }
      }
    } finally {
      await client.end();
    }
    expect.soft(allowed, `the service's database user (${running.env.DATABASE_USER}) may do these to audit_log`).toEqual([]);
  });

  it("wrote nothing outside its volumes and logged no refused write and no failed background job", () => {
    const output = [...started.values()].map((s) => s.container.output()).join("\n");
    expect(output).not.toContain("background job failed");
    // A refused write shows as EROFS, EACCES or EPERM, or (on some kernels, for a directory under a read-only root) ENOENT.
    expect(output).not.toMatch(/\b(EROFS|EACCES|EPERM)\b|read-only file system|ENOENT: no such file or directory, (mkdir|open)/i);
  });

  it("stops on SIGTERM and exits 0 within the task definition's stop timeout", async () => {
    const running = requireApp();
    const stopTimeout = running.spec.stopTimeout ?? 30;
    running.container.kill("SIGTERM");
    const exit = await Promise.race([running.container.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), stopTimeout * 1000))]);
    expect(exit, `still running ${stopTimeout} s after SIGTERM (ECS would SIGKILL it)`).not.toBeNull();
    expect(exit, running.container.output().slice(-3000)).toEqual({ code: 0, signal: null });
  }, 120_000);

  it("starts a second task on the migrated database, and the chain's head ends up anchored in the bucket", async () => {
    requireApp();
    if (!s3) {
      notes.push("no AUDIT_ANCHOR_BUCKET in the task definition: the anchor was not checked");
      return;
    }
    // As ECS replaces a task: the whole task again, its migrate container first (nothing to apply, grants again).
    let second: StartedContainer | undefined;
    for (const container of startOrder(spec)) {
      const running = launch(container, { name: `${container.name}-second` });
      started.set(`${container.name}-second`, running);
      const waitedOn = spec.containers
        .flatMap((c) => c.dependsOn)
        .filter((d) => d.containerName === container.name)
        .map((d) => d.condition);
      if (waitedOn.includes("SUCCESS") || waitedOn.includes("COMPLETE")) {
        expect(await running.container.exited, running.container.output()).toEqual({ code: 0, signal: null });
        continue;
      }
      if (container.healthCheck) expect((await waitUntilHealthy(running)).last.code, running.container.output().slice(-3000)).toBe(0);
      if (container.portMappings.length > 0) second = running;
    }
    // The anchor job runs at each task's start and then every interval, one writer at a time: the second task anchors
    // the head the first task's orders left, unless the first one's own tick (60 s after its start, on a slow run)
    // already did. Either way the bucket must come to hold the chain's head, written by the task definition's settings.
    const bucket = "audit-anchor-parity";
    const head = (await superQuery<{ head: string | null }>(`select max(seq)::text as head from audit_log where not (entity = 'audit' and action = 'audit.anchored')`))[0]?.head;
    expect(Number(head), "the purchases above left audit rows").toBeGreaterThan(0);
    await vi
      .waitFor(
        async () => {
          const listing = await (await fetch(`http://127.0.0.1:${s3Port}/${bucket}?list-type=2`)).text();
          const anchoredSeqs = [...listing.matchAll(/<Key>audit-anchors\/[^<]*-(\d{12})\.json<\/Key>/g)].map((match) => Number(match[1]));
          expect(anchoredSeqs).toContain(Number(head));
        },
        { timeout: 15_000, interval: 250 },
      )
      .catch(() => {
        throw new Error(`the chain's head (seq ${head}) was not anchored in the bucket; the second task's output:\n${second?.container.output().slice(-4000)}`);
      });
    for (const [name, running] of started)
      expect(running.container.output(), `${name} logged no anchor failure`).not.toMatch(
        /"job":"audit-anchor"[^\n]*"level":"(error|warn)"|"level":"(error|warn)"[^\n]*"job":"audit-anchor"/,
      );
    second!.container.kill("SIGTERM");
    expect(await second!.container.exited).toEqual({ code: 0, signal: null });
  }, 120_000);

  it("refuses to start against a database whose certificate another CA signed (verify-full is real)", async () => {
    const running = requireApp();
    const caPath = running.env.DATABASE_SSL_CA;
    expect(caPath && image.files.has(caPath), "the image ships DATABASE_SSL_CA").toBe(true);
    const otherCa = createTestCa({ dir: path.join(dir, "other-ca") });
    // A second server certificate would be needed to prove the name check; the chain check is what the CA bundle is for.
    createServerCertificate({ ca: otherCa, dir: path.join(dir, "other-ca"), names: ["localhost"] });
    const impostor = launch(running.spec, { name: "wrong-ca", overlays: [{ hostPath: otherCa.certPath, containerPath: caPath! }] });
    started.set("wrong-ca", impostor);
    const exit = await Promise.race([impostor.container.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 30_000))]);
    impostor.container.kill("SIGKILL");
    expect(exit, `the app started although the database's certificate is not signed by ${caPath}:\n${impostor.container.output().slice(-3000)}`).not.toBeNull();
    expect(exit!.code).not.toBe(0);
    expect(impostor.container.output()).toMatch(/certificate|self[- ]signed|unable to verify/i);
  }, 60_000);

  async function superQuery<T>(sql: string): Promise<T[]> {
    const client = new pg.Client({ connectionString: database.url({ user: database.superUser, password: database.superPassword }) });
    await client.connect();
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  }
});
