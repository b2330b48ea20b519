// What the ECS agent does with one container definition on Fargate, reproduced with task-container.ts: the user, the
// command (image ENTRYPOINT and CMD unless the definition overrides them), the environment it adds to the definition's,
// the volumes' directories, and the container health check run inside the container.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { BASE_IMAGE, type ImageConfig } from "./dockerfile-image.ts";
import type { ContainerSpec, TaskSpec } from "./production-task.ts";
import { startContainer, type RunningContainer, type Volume } from "./task-container.ts";

export interface StartedContainer {
  container: RunningContainer;
  env: Record<string, string>;
  spec: ContainerSpec;
}

export function hasProgram(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Why this machine cannot isolate a container as task-container.ts does (root, namespaces, the tools), or null. */
export function isolationProblem(): string | null {
  if (process.platform !== "linux") return "not Linux";
  if (process.getuid?.() !== 0) return "not root (mount and network namespaces need it)";
  for (const tool of ["unshare", "nsenter", "chroot", "setpriv", "ip", "mount"]) {
    if (!hasProgram(tool)) return `${tool} is not installed`;
  }
  try {
    execFileSync("unshare", ["--mount", "--net", "--", "sh", "-c", "mount -t tmpfs probe /mnt && ip link set lo up"], { stdio: "pipe" });
  } catch (error) {
    return `unshare --mount --net cannot mount a tmpfs or bring up loopback: ${String((error as { stderr?: Buffer }).stderr ?? error)}`;
  }
  return null;
}

/** The definition's user (or the image's USER) as uid/gid and HOME, which Docker takes from the image's passwd. */
export function userOf(user: string): { uid: number; gid: number; home: string } {
  const [name = "", group] = user.split(":");
  const known = BASE_IMAGE.users[name];
  if (known) return { ...known, gid: group === undefined ? known.gid : Number(group) };
  if (/^\d+$/.test(name)) {
    const entry = Object.values(BASE_IMAGE.users).find((u) => u.uid === Number(name));
    return { uid: Number(name), gid: group === undefined ? (entry?.gid ?? Number(name)) : Number(group), home: entry?.home ?? "/" };
  }
  throw new Error(`user ${user} is not a user of the base image`);
}

/** The command line: the base image's ENTRYPOINT (docker-entrypoint.sh) runs the command itself unless it starts with an option. */
export function argvOf(container: ContainerSpec, image: ImageConfig): string[] {
  const command = container.command ?? image.cmd;
  const entrypoint = container.entryPoint ?? image.entrypoint;
  if (entrypoint.length === 1 && entrypoint[0] === "docker-entrypoint.sh") return command[0]?.startsWith("-") ? ["node", ...command] : command;
  return [...entrypoint, ...command];
}

/** What a container gets besides its definition's environment: the image's ENV, HOME, HOSTNAME and Fargate's AWS_* settings. */
export function runtimeEnvironment(options: { image: ImageConfig; container: ContainerSpec; region: string }): Record<string, string> {
  const octet = () => randomBytes(1)[0]!;
  const { home } = userOf(options.container.user ?? options.image.user);
  return {
    ...options.image.env,
    HOME: home,
    HOSTNAME: `ip-10-0-${octet()}-${octet()}.ec2.internal`,
    AWS_EXECUTION_ENV: "AWS_ECS_FARGATE",
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
  };
}

/**
 * Starts one container of `spec` with `env` (its whole environment): in the task's network, from the materialised
 * image, at the task's volumes (each directory as the image has it, else root 0755 as Fargate creates it).
 */
export function launchContainer(options: {
  spec: TaskSpec;
  container: ContainerSpec;
  image: ImageConfig;
  imageDir: string;
  rootsDir: string;
  networkPid: number;
  env: Record<string, string>;
  name?: string;
  overlays: { hostPath: string; containerPath: string }[];
}): StartedContainer {
  const { spec, container, image } = options;
  const user = userOf(container.user ?? image.user);
  const name = options.name ?? container.name;
  const rootDir = path.join(options.rootsDir, `${name}-${randomBytes(3).toString("hex")}`);
  mkdirSync(rootDir, { recursive: true });
  const imageTops = new Set([...image.files.keys()].map((file) => file.split("/")[1]));
  const volumes: Volume[] = container.mountPoints.map((mount) => {
    const volume = spec.volumes.find((v) => v.name === mount.sourceVolume);
    if (!volume) throw new Error(`${container.name}: mount point ${mount.containerPath} names volume ${mount.sourceVolume}, which the task does not have`);
    if (Object.keys(volume.other).length > 0) throw new Error(`volume ${volume.name}: ${JSON.stringify(volume.other)} is not reproduced (only task-scoped bind volumes are)`);
    // A mount point inside the image's own directories needs its directory there (the image dir is mounted read-only).
    if (imageTops.has(mount.containerPath.split("/")[1])) mkdirSync(path.join(options.imageDir, mount.containerPath), { recursive: true });
    const existing = BASE_IMAGE.directories[mount.containerPath];
    return { containerPath: mount.containerPath, mode: existing?.mode ?? 0o755, uid: existing?.uid ?? 0, gid: existing?.gid ?? 0 };
  });
  const running = startContainer({
    name,
    networkPid: options.networkPid,
    imageDir: options.imageDir,
    rootDir,
    imageDirectories: BASE_IMAGE.directories,
    env: options.env,
    argv: argvOf(container, image),
    uid: user.uid,
    gid: user.gid,
    workdir: container.workingDirectory ?? image.workdir,
    readonlyRootFilesystem: container.readonlyRootFilesystem,
    volumes,
    overlays: options.overlays,
  });
  return { container: running, env: options.env, spec: container };
}

/**
 * The container health check (CMD or CMD-SHELL) run inside the container, as the ECS agent runs it; exit 0 is healthy.
 * When its program is not installed here (the image's busybox has wget), the same GET runs in the image's node instead.
 */
export function runHealthCheck(started: StartedContainer): Promise<{ code: number | null; output: string }> {
  const check = started.spec.healthCheck;
  if (!check) throw new Error(`${started.spec.name} has no health check`);
  const [form, ...rest] = check.command;
  let argv = form === "CMD-SHELL" ? ["/bin/sh", "-c", rest.join(" ")] : rest;
  const program = form === "CMD-SHELL" ? rest.join(" ").split(/\s+/)[0]! : argv[0]!;
  if (!hasProgram(program)) {
    const url = check.command.join(" ").match(/https?:\/\/[^\s'"]+/)?.[0];
    if (!url) throw new Error(`the health check \`${check.command.join(" ")}\` needs ${program}, which is not installed here, and names no URL to ask instead`);
    argv = ["node", "-e", "fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))", url];
  }
  return started.container.exec(argv, { timeoutMs: (check.timeout ?? 5) * 1000 });
}

/**
 * Runs the health check until it passes, the container exits, or the window ECS gives it ends (startPeriod, then
 * retries × interval): asked every 250 ms here, since only passing within the window is the contract.
 */
export async function waitUntilHealthy(
  started: StartedContainer,
): Promise<{ last: { code: number | null; output: string }; exit: { code: number | null; signal: NodeJS.Signals | null } | null }> {
  const check = started.spec.healthCheck!;
  const deadline = Date.now() + ((check.startPeriod ?? 0) + (check.retries ?? 3) * (check.interval ?? 30)) * 1000;
  let last: { code: number | null; output: string } = { code: null, output: "not asked yet" };
  while (Date.now() < deadline) {
    const exit = await Promise.race([started.container.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 250))]);
    if (exit) return { last, exit };
    last = await runHealthCheck(started);
    if (last.code === 0) break;
  }
  return { last, exit: null };
}
