/**
 * The domain owns its model and its rules (issue 13): no module in src/domain/ imports from
 * storage/ or routes/, nor the HTTP framework (hono, @hono/*) or a database driver (postgres,
 * PGlite). Storage implements the domain's ports (domain/ports.ts); the HTTP edge calls the
 * domain. And one way to fail: neither the domain nor the gate it runs uses ApiError (the edge's
 * error with HTTP statuses) or an HTTP status; they refuse with a Refusal (errors.ts). Imports are read as text — `import … from`, `export … from`, bare `import "…"` and
 * `import("…")`, type-only ones included — and relative ones resolved against the file.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../../src");
const DOMAIN = resolve(SRC, "domain");

const STATIC = /^[ \t]*(?:import|export)\b[^;'"`]*?\bfrom\s*["']([^"']+)["']/gm;
const BARE = /^[ \t]*import\s*["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

/** Every module specifier a source text imports or re-exports. */
function specifiers(text: string): string[] {
  return [STATIC, BARE, DYNAMIC].flatMap((re) => [...text.matchAll(re)].map((m) => m[1]!));
}

/** Why `spec`, imported by `file`, is not allowed in the domain; null when it is. */
function forbidden(file: string, spec: string): string | null {
  if (spec.startsWith(".")) {
    const target = relative(SRC, resolve(dirname(file), spec));
    const top = target.split(/[\\/]/)[0];
    return top === "storage" || top === "routes" ? `${top}/` : null;
  }
  if (spec === "hono" || spec.startsWith("hono/") || spec.startsWith("@hono/")) return "the HTTP framework";
  if (spec === "postgres" || spec.startsWith("@electric-sql/")) return "a database driver";
  return null;
}

function violations(files: { path: string; text: string }[]): string[] {
  return files.flatMap(({ path, text }) =>
    specifiers(text).flatMap((spec) => {
      const why = forbidden(path, spec);
      return why ? [`${relative(SRC, path)} imports ${spec} (${why})`] : [];
    }),
  );
}

const domainFiles = () =>
  readdirSync(DOMAIN, { recursive: true, encoding: "utf8" })
    .filter((n) => /\.tsx?$/.test(n))
    .map((n) => ({ path: resolve(DOMAIN, n), text: readFileSync(resolve(DOMAIN, n), "utf8") }));

/** Where a source names the edge's error or the code → HTTP status mapping (comments left out). */
function edgeErrors(files: { path: string; text: string }[]): string[] {
  return files.flatMap(({ path, text }) => {
    const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, "");
    return [...code.matchAll(/\b(ApiError|httpStatus)\b/g)].map((m) => `${relative(SRC, path)} uses ${m[1]}`);
  });
}

const gateFiles = () =>
  readdirSync(resolve(SRC, "gate"), { encoding: "utf8" })
    .filter((n) => /\.tsx?$/.test(n))
    .map((n) => ({ path: resolve(SRC, "gate", n), text: readFileSync(resolve(SRC, "gate", n), "utf8") }));

describe("the domain's imports", () => {
  it("reach neither storage/, routes/, hono nor a database driver", () => {
    const files = domainFiles();
    expect(files.length).toBeGreaterThan(10);
    expect(violations(files)).toEqual([]);
  });

  it("are all found, type-only, multi-line, re-exported and dynamic ones included (the check can fail)", () => {
    const at = resolve(DOMAIN, "x.ts");
    const text = [
      'import type { Store } from "../storage/store.js";',
      "import {\n  a,\n  b,\n} from '../routes/common.js';",
      'export { sql } from "../storage/db.js";',
      'import "postgres";',
      'const m = await import("hono");',
      'import { z } from "@hono/zod-openapi";',
      'import { PGlite } from "@electric-sql/pglite";',
      'import { keyOf } from "./model.js";',
      'import { ApiError } from "../errors.js";',
    ].join("\n");
    expect(violations([{ path: at, text }])).toEqual([
      "domain/x.ts imports ../storage/store.js (storage/)",
      "domain/x.ts imports ../routes/common.js (routes/)",
      "domain/x.ts imports ../storage/db.js (storage/)",
      "domain/x.ts imports @hono/zod-openapi (the HTTP framework)",
      "domain/x.ts imports @electric-sql/pglite (a database driver)",
      "domain/x.ts imports postgres (a database driver)",
      "domain/x.ts imports hono (the HTTP framework)",
    ]);
  });

  it("never use the edge's ApiError or its HTTP statuses, in domain/ and in the gate", () => {
    expect(edgeErrors([...domainFiles(), ...gateFiles()])).toEqual([]);
    // The check can fail: a domain file that builds an ApiError is found, one that only mentions it in a comment is not.
    const at = resolve(DOMAIN, "x.ts");
    expect(edgeErrors([{ path: at, text: '// not ApiError\nreturn new ApiError("FORBIDDEN");\nconst s = httpStatus(code);' }])).toEqual(["domain/x.ts uses ApiError", "domain/x.ts uses httpStatus"]);
  });
});
