/**
 * The documentation's links resolve: every relative link of README.md, docs/ and
 * load-tests/RESULTS.md names a file or directory of the repository, and every #anchor names
 * a heading of its target (GitHub's slugs). The README stays a landing page (< 200 lines).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? markdownFiles(p) : name.endsWith(".md") ? [p] : [];
  });
}

/** GitHub's heading anchor: lower case, punctuation dropped (letters of any script, digits, `-` and `_` kept), spaces to `-`. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*]/g, "")
    .replace(/[^\p{L}\p{M}\p{N}\- _]/gu, "")
    .replace(/ /g, "-");
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of text.matchAll(/^#{1,6} (.+)$/gm)) {
    const s = slug(m[1]!);
    const n = seen.get(s) ?? 0;
    out.add(n === 0 ? s : `${s}-${n}`);
    seen.set(s, n + 1);
  }
  return out;
}

function links(file: string): string[] {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/i.test(l));
}

const files = [join(root, "README.md"), join(root, "load-tests/RESULTS.md"), ...markdownFiles(join(root, "docs"))];

describe("documentation links", () => {
  it("slugs headings as GitHub does", () => {
    expect(slug("The gate, in order, and what each check defends against")).toBe("the-gate-in-order-and-what-each-check-defends-against");
    expect(slug("Tokens: officers and the admin")).toBe("tokens-officers-and-the-admin");
    expect(slug("Error codes as MLoi")).toBe("error-codes-as-mloi");
  });

  for (const file of files) {
    it(`${relative(root, file)}: every relative link resolves`, () => {
      const broken: string[] = [];
      for (const link of links(file)) {
        const [path, anchor] = link.split("#") as [string, string | undefined];
        const target = path === "" ? file : resolve(dirname(file), decodeURIComponent(path));
        if (!existsSync(target)) broken.push(`${link}: no such file`);
        else if (anchor !== undefined && !anchors(target).has(anchor)) broken.push(`${link}: no such heading`);
      }
      expect(broken).toEqual([]);
    });
  }

  it("README.md is a landing page under 200 lines", () => {
    expect(readFileSync(join(root, "README.md"), "utf8").split("\n").length).toBeLessThan(200);
  });
});
