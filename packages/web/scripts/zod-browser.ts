// The browser build's zod without its JSON Schema code. zod 4's classic schemas import the JSON Schema generator and
// processors (core/to-json-schema.js, core/json-schema-processors.js: about 64 kB before minification, a quarter of
// zod) only to offer `.toJSONSchema()` and `~standard.jsonSchema`; the shop's pages only parse. Here each export of those
// two modules becomes a function whose result throws if JSON Schema is ever asked for, so validation is untouched and
// the checkout's first load carries none of it. The server and the tests use zod as it ships.
import { readFileSync } from "node:fs";
import type { Plugin } from "vite";

const JSON_SCHEMA_MODULE = /[\\/]zod[\\/]v4[\\/]core[\\/](json-schema-processors|to-json-schema)\.js$/;

/** The names a module exports (`export function f`, `export const c`, `export { a as b }`). */
export function exportedNames(source: string): string[] {
  const names = new Set<string>();
  for (const match of source.matchAll(/^export (?:async )?(?:function\*?|const|let|var|class) ([A-Za-z_$][\w$]*)/gm)) names.add(match[1] as string);
  for (const match of source.matchAll(/^export \{([^}]*)\}/gm)) {
    for (const part of (match[1] as string).split(",")) {
      const name = part
        .trim()
        .split(/\s+as\s+/)
        .pop();
      if (name) names.add(name);
    }
  }
  return [...names];
}

/** The stand-in module: the same names, each a function returning one that throws (zod calls the outer at build time of a schema). */
export function stubModule(names: readonly string[]): string {
  const notGenerated = `function notGenerated() { throw new Error("zod's JSON Schema support is not in the shop's browser build (packages/web/scripts/zod-browser.ts)"); }`;
  return [notGenerated, "const unavailable = () => notGenerated;", ...names.map((name) => `export const ${name} = unavailable;`)].join("\n");
}

export function zodWithoutJsonSchema(): Plugin {
  return {
    name: "checkout:zod-without-json-schema",
    apply: "build",
    enforce: "pre",
    load(id) {
      const file = id.split("?")[0] as string;
      if (!JSON_SCHEMA_MODULE.test(file)) return null;
      const names = exportedNames(readFileSync(file, "utf8"));
      if (names.length === 0) this.error(`${file}: found no exports to stand in for; zod's layout changed`);
      return stubModule(names);
    },
  };
}
