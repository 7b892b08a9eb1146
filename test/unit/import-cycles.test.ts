/**
 * No import cycles under src/ (issue 13): a module never reaches itself through its imports,
 * type-only imports and dynamic import() included — a type cycle still ties two layers together
 * (the limiter and Hono's context were one). The graph is read from the TypeScript sources as
 * text: every `import … from`, `export … from`, bare `import "…"` and `import("…")` of a
 * relative path, resolved to its .ts/.tsx file.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../../src");

const STATIC = /^[ \t]*(?:import|export)\b[^;'"`]*?\bfrom\s*["']([^"']+)["']/gm;
const BARE = /^[ \t]*import\s*["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.tsx?$/.test(name) && !name.endsWith(".d.ts") ? [p] : [];
  });
}

function resolveImport(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec).replace(/\.(?:js|jsx|ts|tsx)$/, "");
  for (const p of [`${base}.ts`, `${base}.tsx`, join(base, "index.ts"), join(base, "index.tsx")]) {
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not this one
    }
  }
  return null;
}

/** file → the files of the tree it imports (relative specifiers only). */
function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(dir)) {
    const text = readFileSync(file, "utf8");
    const deps = new Set<string>();
    for (const re of [STATIC, BARE, DYNAMIC]) {
      for (const m of text.matchAll(re)) {
        if (!m[1]!.startsWith(".")) continue;
        const target = resolveImport(file, m[1]!);
        if (target) deps.add(target);
      }
    }
    graph.set(file, [...deps].sort());
  }
  return graph;
}

/** Cycles as paths relative to `dir` ("a.ts → b.ts → a.ts"): at least one through every cyclic part of the graph. */
function cycles(dir: string): string[] {
  const graph = importGraph(dir);
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const found: string[] = [];
  const visit = (file: string): void => {
    state.set(file, "open");
    stack.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === "open") {
        found.push([...stack.slice(stack.indexOf(dep)), dep].map((f) => relative(dir, f)).join(" → "));
      } else if (!state.has(dep)) {
        visit(dep);
      }
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return found;
}

describe("import cycles", () => {
  it("finds none among the modules of src/", () => {
    expect(importGraph(SRC).size).toBeGreaterThan(50);
    expect(cycles(SRC)).toEqual([]);
  });

  it("finds a cycle closed by a type-only import, a multi-line import list, a re-export or a dynamic import()", () => {
    const dir = mkdtempSync(join(tmpdir(), "hoadon-cycles-"));
    try {
      writeFileSync(join(dir, "a.ts"), 'import type { B } from "./b.js";\nexport type A = B;\n');
      writeFileSync(join(dir, "b.ts"), 'import {\n  type A,\n} from "./a.js";\nexport type B = A | 1;\n');
      writeFileSync(join(dir, "c.ts"), 'export { d } from "./d.js";\nexport const c = 1;\n');
      writeFileSync(join(dir, "d.ts"), 'export const d = async () => (await import("./c.js")).c;\n');
      writeFileSync(join(dir, "e.ts"), '// import { a } from "./a.js" is only a comment\nimport "./a.js";\n');
      expect(cycles(dir)).toEqual(["a.ts → b.ts → a.ts", "c.ts → d.ts → c.ts"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
