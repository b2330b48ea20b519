// The image's notice of the third-party packages bundled into dist/server.mjs: each package (name, version, licence)
// from the build's metafile, after whatever legal comments esbuild kept. Written whatever the bundle holds, so the file
// the Dockerfile copies always exists (esbuild writes its own only when some module carries a legal comment).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

interface PackageInfo {
  name: string;
  version: string;
  license: string;
}

/** The bundled packages, from the metafile's input paths (…/node_modules/<name or @scope/name>/…), sorted by name. */
export function bundledPackages(inputs: readonly string[], absWorkingDir: string): PackageInfo[] {
  const roots = new Set<string>();
  for (const input of inputs) {
    const parts = input.split("/");
    const at = parts.lastIndexOf("node_modules");
    if (at === -1) continue;
    const length = parts[at + 1]?.startsWith("@") ? 2 : 1;
    roots.add(parts.slice(0, at + 1 + length).join("/"));
  }
  const packages = new Map<string, PackageInfo>();
  for (const root of roots) {
    const manifest = path.resolve(absWorkingDir, root, "package.json");
    if (!existsSync(manifest)) continue;
    const json = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; version?: string; license?: unknown };
    if (!json.name) continue;
    const license = typeof json.license === "string" ? json.license : "see the package";
    packages.set(`${json.name}@${json.version}`, { name: json.name, version: json.version ?? "?", license });
  }
  return [...packages.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

export function writeThirdPartyNotices(input: { file: string; inputs: readonly string[]; absWorkingDir: string }): number {
  const legalComments = existsSync(input.file) ? readFileSync(input.file, "utf8").trimEnd() : "";
  const packages = bundledPackages(input.inputs, input.absWorkingDir);
  const list = packages.map((p) => `${p.name}@${p.version}  ${p.license}`).join("\n");
  const text = [
    "Third-party packages bundled into server.mjs (name@version, licence as the package declares it):",
    "",
    list,
    ...(legalComments ? ["", "Legal comments kept from the bundled code:", "", legalComments] : []),
    "",
  ].join("\n");
  writeFileSync(input.file, text);
  return packages.length;
}
