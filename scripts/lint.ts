/**
 * `npm run lint` (CI's suite `lint`): the shape of the code stays as it is.
 * - Lines: at most MAX_LINE characters in the TypeScript and JavaScript the project writes
 *   (public/ holds a vendored bundle). The code writes one statement a line and wraps prose at
 *   about 100; 220 is where fewer than one line in a thousand ended when the limit came.
 * - Imports: in Biome's order, none unused (biome.json; `npm run lint:fix` sorts them).
 * - Exports: none that nothing imports (knip.json).
 * Each check runs whatever the others found; the exit status is 1 if any failed.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const MAX_LINE = 220;

function longLines(): string[] {
  const files = execFileSync("git", ["ls-files", "-z", "--", "*.ts", "*.tsx", "*.js", "*.mjs", "*.cjs", ":!public/**"], { encoding: "utf8" })
    .split("\0")
    .filter(Boolean);
  const out: string[] = [];
  for (const file of files) {
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((line, i) => {
        const length = [...line].length;
        if (length > MAX_LINE) out.push(`${file}:${i + 1}: ${length} characters (at most ${MAX_LINE})`);
      });
  }
  return out;
}

const failed: string[] = [];

console.log(`lint: lines of at most ${MAX_LINE} characters`);
const long = longLines();
for (const l of long) console.log(`  ${l}`);
if (long.length) failed.push(`${long.length} line(s) too long`);

for (const [what, bin, args] of [
  ["imports (biome)", "node_modules/.bin/biome", ["ci", "--colors=off", "."]],
  ["unused exports (knip)", "node_modules/.bin/knip", ["--no-progress", "--no-config-hints"]],
] as const) {
  console.log(`lint: ${what}`);
  const r = spawnSync(bin, args, { stdio: "inherit" });
  if (r.status !== 0) failed.push(`${what}: ${r.error?.message ?? `exit ${r.status ?? r.signal}`}`);
}

console.log(failed.length ? `lint: failed: ${failed.join("; ")}` : "lint: passed");
process.exitCode = failed.length ? 1 : 0;
