// One container of a task, run as ECS runs it but without Docker: in the task's network namespace, in a mount
// namespace of its own whose root is a tmpfs holding the host's system directories and the image's files, read-only
// when the task definition says so, writable only at its volumes; as the image's user, in its WORKDIR, with exactly the
// given environment. Needs root, `unshare`, `nsenter`, `chroot`, `setpriv` and GNU `env`.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readlinkSync } from "node:fs";

export interface Volume {
  containerPath: string;
  /** The directory's mode and owner when the task starts (what the image had at that path, or root 0755). */
  mode: number;
  uid: number;
  gid: number;
}

export interface ContainerOptions {
  name: string;
  /** The task network's namespace holder (TaskNetwork.pid). */
  networkPid: number;
  /** A directory laid out by container path (materialise), mounted read-only over the root. */
  imageDir: string;
  /** An empty directory: the mount point of the container's root tmpfs (only this namespace sees it). */
  rootDir: string;
  /** Directories the image has that are not files (mode and owner), e.g. /tmp. */
  imageDirectories: Record<string, { mode: number; uid: number; gid: number }>;
  env: Record<string, string>;
  argv: string[];
  uid: number;
  gid: number;
  workdir: string;
  readonlyRootFilesystem: boolean;
  volumes: Volume[];
  /** Host files bind-mounted read-only over a file the image has (the test CA over the RDS bundle). */
  overlays: { hostPath: string; containerPath: string }[];
}

export interface RunningContainer {
  name: string;
  pid: number;
  /** Everything it has written to stdout and stderr (what awslogs would ship). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  /** Runs a command inside the container (its namespaces, root, user and environment), as ECS runs a health check. */
  exec(argv: string[], options: { timeoutMs: number }): Promise<{ code: number | null; output: string }>;
}

/** Host directories the container sees (read-only, except the kernel's): the image's OS stands in for Alpine's. */
const SYSTEM_DIRECTORIES = ["usr", "etc"];
const KERNEL_DIRECTORIES = ["dev", "proc", "sys"];
const SYSTEM_LINKS = ["bin", "sbin", "lib", "lib64"];

// Runs as root inside the new mount namespace; every step is a mount only this namespace sees. Positional parameters:
// root image uid gid workdir readonly(1|0) links volumes overlays, then the command. Every step execs the next, so the
// spawned process becomes the command itself, as PID 1 is in a container (SIGTERM reaches node); --pdeathsig only ends
// it if the test run dies first.
const INIT_SCRIPT = String.raw`
set -eu
root=$1 image=$2 uid=$3 gid=$4 workdir=$5 readonly=$6 links=$7 volumes=$8 overlays=$9
shift 9
# The set-up's own PATH; the container's (from its environment) is put back before the command runs.
set +u; container_path=$PATH; set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
chroot_bin=$(command -v chroot) setpriv_bin=$(command -v setpriv) env_bin=$(command -v env)
mount -t tmpfs -o mode=0755 container-root "$root"
for dir in ${SYSTEM_DIRECTORIES.join(" ")} ${KERNEL_DIRECTORIES.join(" ")}; do mkdir "$root/$dir"; mount --rbind "/$dir" "$root/$dir"; done
for dir in ${SYSTEM_DIRECTORIES.join(" ")}; do mount -o remount,bind,ro "$root/$dir"; done
mount -o remount,bind,ro "$root/sys"
printf '%s\n' "$links" | while read -r name target; do
  [ -z "$name" ] && continue
  if [ -n "$target" ]; then ln -s "$target" "$root/$name"; else mkdir "$root/$name"; mount --rbind "/$name" "$root/$name"; mount -o remount,bind,ro "$root/$name"; fi
done
for entry in "$image"/*; do
  name=$(basename "$entry")
  mkdir "$root/$name"
  mount --bind "$entry" "$root/$name"
  mount -o remount,bind,ro "$root/$name"
done
printf '%s\n' "$volumes" | while read -r dir mode owner group; do
  [ -z "$dir" ] && continue
  mkdir -p "$root$dir"
  mount -t tmpfs -o "mode=$mode,uid=$owner,gid=$group" volume "$root$dir"
done
printf '%s\n' "$overlays" | while IFS='|' read -r host target; do
  [ -z "$host" ] && continue
  mount --bind "$host" "$root$target"
  mount -o remount,bind,ro "$root$target"
done
if [ "$readonly" = 1 ]; then mount -o remount,ro "$root"; fi
PATH=$container_path
exec "$chroot_bin" "$root" "$setpriv_bin" --reuid="$uid" --regid="$gid" --clear-groups --pdeathsig SIGKILL "$env_bin" -u PWD -u OLDPWD -C "$workdir" "$@"
`;

function linksOfHost(): string {
  return SYSTEM_LINKS.filter((name) => existsSync(`/${name}`))
    .map((name) => (lstatSync(`/${name}`).isSymbolicLink() ? `${name} ${readlinkSync(`/${name}`)}` : name))
    .join("\n");
}

/** The image's directories (e.g. /tmp 1777) are created in the root tmpfs before it turns read-only. */
function directoriesScript(directories: ContainerOptions["imageDirectories"]): string {
  return Object.entries(directories)
    .map(([dir, { mode, uid, gid }]) => `mkdir -p "$root${dir}" && chmod ${mode.toString(8)} "$root${dir}" && chown ${uid}:${gid} "$root${dir}"`)
    .join("\n");
}

export function startContainer(options: ContainerOptions): RunningContainer {
  for (const entry of readdirSync(options.imageDir)) {
    if ([...SYSTEM_DIRECTORIES, ...KERNEL_DIRECTORIES, ...SYSTEM_LINKS].includes(entry)) throw new Error(`the image's /${entry} would hide the system's (not reproduced)`);
  }
  const script = INIT_SCRIPT.replace('if [ "$readonly" = 1 ]', `${directoriesScript(options.imageDirectories)}\nif [ "$readonly" = 1 ]`);
  const volumes = options.volumes.map((v) => `${v.containerPath} ${v.mode.toString(8)} ${v.uid} ${v.gid}`).join("\n");
  const overlays = options.overlays.map((o) => `${o.hostPath}|${o.containerPath}`).join("\n");
  const child: ChildProcess = spawn(
    "nsenter",
    [
      `--net=/proc/${options.networkPid}/ns/net`,
      "--",
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "--",
      "sh",
      "-c",
      script,
      "container-init",
      options.rootDir,
      options.imageDir,
      String(options.uid),
      String(options.gid),
      options.workdir,
      options.readonlyRootFilesystem ? "1" : "0",
      linksOfHost(),
      volumes,
      overlays,
      ...options.argv,
    ],
    { env: options.env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return {
    name: options.name,
    pid: child.pid!,
    output: () => output,
    exited,
    kill: (signal) => child.kill(signal),
    exec(argv, { timeoutMs }) {
      // nsenter into this container's namespaces and root (-r) and WORKDIR (-w), then its user and environment.
      const probe = spawn(
        "nsenter",
        [`--target=${child.pid}`, "--mount", "--net", "--root", "--wd", "--", "setpriv", `--reuid=${options.uid}`, `--regid=${options.gid}`, "--clear-groups", ...argv],
        { env: options.env, stdio: ["ignore", "pipe", "pipe"] },
      );
      let text = "";
      probe.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
      probe.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
      return new Promise((resolve) => {
        const timer = setTimeout(() => probe.kill("SIGKILL"), timeoutMs);
        probe.once("exit", (code) => {
          clearTimeout(timer);
          resolve({ code, output: text });
        });
      });
    },
  };
}
