// The API image without Docker: packages/api/Dockerfile read instruction by instruction into the files it would hold
// (materialised in a directory, by container path), its environment, WORKDIR, USER, CMD and HEALTHCHECK. An instruction
// this cannot reproduce is an error, so a Dockerfile change cannot silently leave the parity test behind.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

export interface ImageConfig {
  /** Files by absolute container path → the host file (a copy made by materialise). */
  files: Map<string, string>;
  env: Record<string, string>;
  workdir: string;
  user: string;
  cmd: string[];
  entrypoint: string[];
  healthcheck: string | null;
  exposed: number[];
}

/** What the node:20-alpine base image brings that the Dockerfile relies on (its ENV and the directories it owns). */
export const BASE_IMAGE = {
  name: /^node:20-alpine\b/,
  env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NODE_VERSION: process.versions.node },
  users: { root: { uid: 0, gid: 0, home: "/root" }, node: { uid: 1000, gid: 1000, home: "/home/node" } } as Record<string, { uid: number; gid: number; home: string }>,
  directories: {
    "/tmp": { mode: 0o1777, uid: 0, gid: 0 },
    "/var/tmp": { mode: 0o1777, uid: 0, gid: 0 },
    "/home/node": { mode: 0o755, uid: 1000, gid: 1000 },
  } as Record<string, { mode: number; uid: number; gid: number }>,
};

interface Instruction {
  keyword: string;
  args: string;
}

function instructionsOf(text: string): Instruction[] {
  return text
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [keyword = "", ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });
}

/** Exec form (a JSON array) or shell form (run by /bin/sh -c, as Docker does). */
function commandOf(args: string): string[] {
  return args.trim().startsWith("[") ? (JSON.parse(args) as string[]) : ["/bin/sh", "-c", args];
}

/** ENV key=value pairs (quotes allowed) or the legacy `ENV key value`. */
function envOf(args: string): Record<string, string> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
    const [key = "", ...value] = args.split(/\s+/);
    return { [key]: value.join(" ") };
  }
  const env: Record<string, string> = {};
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|'([^']*)'|(\S*))/g)) env[match[1]!] = match[3] ?? match[4] ?? match[5] ?? "";
  return env;
}

/** Every file under a host path, as [relative path, host path]. */
function filesUnder(hostPath: string): [string, string][] {
  if (!statSync(hostPath).isDirectory()) return [["", hostPath]];
  return readdirSync(hostPath, { recursive: true, encoding: "utf8" })
    .map((relative) => [relative, path.join(hostPath, relative)] as [string, string])
    .filter(([, file]) => statSync(file).isFile());
}

/**
 * Reads the Dockerfile and builds the last stage's files from `context` (packages/api). RUN is reproduced only for
 * `node --check <file>` (run here against the stage's copy); any other RUN, ADD or an unknown base image throws.
 */
export function readImage(options: { dockerfile: string; context: string }): ImageConfig {
  const stages: { name: string | null; files: Map<string, string>; config: ImageConfig }[] = [];
  for (const { keyword, args } of instructionsOf(readFileSync(options.dockerfile, "utf8"))) {
    if (keyword === "FROM") {
      const [image = "", as, name] = args.split(/\s+/);
      if (!BASE_IMAGE.name.test(image)) throw new Error(`Dockerfile: base image ${image} is not one the parity test knows (${BASE_IMAGE.name})`);
      const files = new Map<string, string>();
      const config: ImageConfig = {
        files,
        env: { ...BASE_IMAGE.env },
        workdir: "/",
        user: "root",
        cmd: ["node"],
        entrypoint: ["docker-entrypoint.sh"],
        healthcheck: null,
        exposed: [],
      };
      stages.push({ name: as?.toUpperCase() === "AS" ? (name ?? null) : null, files, config });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile: ${keyword} before FROM`);
    const { config } = stage;
    const containerPath = (p: string) => path.posix.resolve(config.workdir, p);
    switch (keyword) {
      case "WORKDIR":
        config.workdir = containerPath(args);
        break;
      case "ENV":
        Object.assign(config.env, envOf(args));
        break;
      case "USER":
        config.user = args.trim();
        break;
      case "EXPOSE":
        config.exposed.push(...args.split(/\s+/).map((port) => Number.parseInt(port, 10)));
        break;
      case "CMD":
        config.cmd = commandOf(args);
        break;
      case "ENTRYPOINT":
        config.entrypoint = commandOf(args);
        break;
      case "HEALTHCHECK":
        config.healthcheck = args;
        break;
      case "COPY": {
        const words = args.split(/\s+/);
        const from = words.find((word) => word.startsWith("--from="))?.slice("--from=".length);
        const paths = words.filter((word) => !word.startsWith("--"));
        const destination = paths.pop()!;
        const isDirectoryDestination = destination.endsWith("/") || paths.length > 1;
        const target = containerPath(destination);
        for (const source of paths) {
          if (from !== undefined) {
            const origin = stages.find((s) => s.name === from);
            if (!origin) throw new Error(`Dockerfile: COPY --from=${from}: no such stage`);
            const prefix = path.posix.resolve(origin.config.workdir, source);
            for (const [file, host] of origin.files) {
              if (file === prefix) stage.files.set(isDirectoryDestination ? path.posix.join(target, path.posix.basename(file)) : target, host);
              else if (file.startsWith(`${prefix}/`)) stage.files.set(path.posix.join(target, file.slice(prefix.length + 1)), host);
            }
          } else {
            const host = path.join(options.context, source);
            if (!existsSync(host)) throw new Error(`Dockerfile: COPY ${source}: ${host} does not exist (run \`pnpm --filter @checkout/api bundle\`)`);
            for (const [relative, file] of filesUnder(host)) {
              const into = relative === "" ? (isDirectoryDestination ? path.posix.join(target, path.basename(host)) : target) : path.posix.join(target, relative);
              stage.files.set(into, file);
            }
          }
        }
        break;
      }
      case "RUN": {
        const check = /^node --check (\S+)$/.exec(args.trim());
        if (!check) throw new Error(`Dockerfile: RUN ${args}: the parity test reproduces only \`node --check <file>\``);
        const host = stage.files.get(containerPath(check[1]!));
        if (!host) throw new Error(`Dockerfile: RUN ${args}: ${check[1]} is not in the image`);
        execFileSync(process.execPath, ["--check", host], { stdio: "pipe" });
        break;
      }
      default:
        throw new Error(`Dockerfile: ${keyword} is not an instruction the parity test reproduces`);
    }
  }
  const last = stages.at(-1);
  if (!last) throw new Error("Dockerfile: no FROM");
  return last.config;
}

/** Copies the image's files into `dir` by container path (/app/dist/server.mjs → <dir>/app/dist/server.mjs), root-owned. */
export function materialise(image: ImageConfig, dir: string): ImageConfig {
  const files = new Map<string, string>();
  for (const [containerPath, host] of image.files) {
    const copy = path.join(dir, containerPath);
    mkdirSync(path.dirname(copy), { recursive: true });
    cpSync(host, copy);
    files.set(containerPath, copy);
  }
  return { ...image, files };
}
