/**
 * No function literal assigned to a property on the request path.
 *
 * V8's parser marks a function literal assigned to a property (`x.y = () => …`, `x[k] = function…`)
 * as long-lived, and every tier but TurboFan allocates such a closure in the old generation at
 * once. Its pointer to its young context then keeps that context, and all it reaches, alive
 * through every young-generation collection until a full one: in the service that was each
 * query's arguments, each transaction's callback, the group's invoices and their stamped XMLs,
 * ≈ 20 KB an invoice promoted to the old generation (load-tests/RESULTS.md, "2026-12-06, evening";
 * scripts/gc-promotion.ts shows it in isolation). The same closure through a local
 * (`const f = () => …; x.y = f`) is allocated young like any other.
 *
 * Postgres.js made such closures for every query and transaction; patches/postgres+3.4.9.patch
 * makes them through locals. This holds the three builds of Postgres.js and our own src/ to a list
 * of the sites that remain, each run once (at load, per connection, per custom type) or on a path
 * the service does not take. An upgrade of Postgres.js without the patch, or a new such site on
 * the request path, fails here; a site that is truly off the hot path joins the list with its
 * reason.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** `a.b = (…) =>`, `a.b = x =>`, `a[k] = async (…) =>`, `a.b = function`: a literal assigned to a property. */
const ASSIGNED_LITERAL = /(?:\.[A-Za-z_$#][\w$]*|\])\s*=\s*(?:async\s*)?(?:\([^()]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>|function\b)/;

/**
 * Lines the pattern matches that are no such site: comments; CommonJS exports, made once at load;
 * class fields (`readonly f: T["k"] = () => …`), whose initializers V8 allocates young (measured
 * 2026-12-06: objects of a class with the field `f = () => this.k` promoted nothing).
 */
const NOT_A_SITE = /^\s*(?:\/\/|\*|(?:const|let|var)\s+[\w$]+\s*=\s*module\.exports\.|module\.exports\.|exports\.|(?:(?:private|protected|public|readonly|static|override)\s+)+[\w$#]+\??\s*:)/;

function sites(files: string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!ASSIGNED_LITERAL.test(line) || NOT_A_SITE.test(line)) continue;
      found.push(`${relative(root, file)}: ${line.trim()}`);
    }
  }
  return found;
}

const sources = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((n) => /\.tsx?$/.test(n))
    .map((n) => join(dir, n));

/** Postgres.js's remaining sites, the same in each build (src, cjs, cf), with why each may stay. */
const POSTGRES_ALLOWED = [
  // bytes.js: the message builders, made once at load.
  "acc[x] = () => {",
  // connection.js, fetchArrayTypes: once per connection, and per array type it learns.
  "query.resolve = ([[a], [b]]) => {",
  "options.parsers[typarray] = (xs) => arrayParser(xs, parser, typarray)",
  "options.serializers[typarray] = (xs) => arraySerializer(xs, options.serializers[oid], options, typarray)",
  // index.js, reserve(): sql.reserve(), which the service does not call.
  "c.reserved = () => queue.length",
  "sql.release = () => {",
  // query.js, cursor(): cursors, which the service does not use.
  "this.cursorFn = value => {",
  "this.resolve = () => (this.active = false, resolve({ done: true }))",
  "this.reject = x => (this.active = false, reject(x))",
  // subscribe.js: logical replication, which the service does not use.
  "sql.end = async() => {",
  "sql.close = async() => {",
];

describe("function literals assigned to properties (V8 allocates them in the old generation)", () => {
  it.each(["src", "cjs/src", "cf/src"])("Postgres.js (%s) has none on the query and transaction paths", (build) => {
    const dir = join(root, "node_modules/postgres", build);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".js"))
      .map((f) => join(dir, f));
    const found = sites(files).map((s) => s.slice(s.indexOf(": ") + 2));
    expect(found.filter((s) => !POSTGRES_ALLOWED.includes(s))).toEqual([]);
    // The patch's own sites are made through locals: the query resolves through its prototype.
    const query = readFileSync(join(dir, "query.js"), "utf8");
    expect(query).toContain("this[settle] = { resolve, reject }");
  });

  it("src/ has none on the request path", () => {
    const found = sites(sources(join(root, "src"))).sort();
    expect(found).toEqual([
      // The schema's table of conditions, built once at load.
      "src/domain/invoice.ts: hhdVu.condition = (r, at, counts, texts) => {",
      "src/domain/invoice.ts: ltSuat.condition = (r, at, _counts, texts) => {",
      "src/domain/invoice.ts: ttChung.condition = (r, at, counts, texts) => {",
      // xml-crypto's SignedXml taught C14N 1.0's inherited xml:* attributes: the test signer's only.
      "src/xml/c14n.ts: s.canonicalize = (transforms, node, ...rest) => {",
    ]);
  });
});
