/**
 * Documents within every parser limit built from constructs whose cost is super-linear in naive
 * implementations (test/unit/scan.test.ts counts the scanner's steps on them; scripts/bench-scan.ts
 * measures their CPU). Each is an HDon of about `bytes` bytes.
 */
const pad = (n: number) => String(n).padStart(4, "0");

/** Namespace declarations nested inside DLHDon: every level declares 31 prefixes again, 60 levels deep, repeated. */
export function nestedNamespaces(bytes: number): string {
  const decls = (level: number) => Array.from({ length: 31 }, (_, k) => ` xmlns:p${k}="urn:x:${level}:${k}"`).join("");
  let block = "";
  for (let d = 0; d < 60; d++) block += `<p${d % 31}:E${d}${decls(d)}>`;
  block += "x";
  for (let d = 59; d >= 0; d--) block += `</p${d % 31}:E${d}>`;
  const parts: string[] = [];
  let size = 0;
  while (size + block.length < bytes - 200) {
    parts.push(block);
    size += block.length;
  }
  return `<HDon><DLHDon Id="data">${parts.join("")}</DLHDon><DSCKS><NBan/></DSCKS></HDon>`;
}

/** Many prefixed attributes on many elements, each in its own namespace (expanded-name duplicate checks). */
export function manyAttributes(bytes: number): string {
  const attrs = Array.from({ length: 31 }, (_, k) => ` a${k}:v="${k}"`).join("");
  const decls = Array.from({ length: 31 }, (_, k) => ` xmlns:a${k}="urn:a:${k}"`).join("");
  const el = `<E${attrs}/>`;
  const n = Math.floor((bytes - 2000) / el.length);
  return `<HDon${decls}><DLHDon Id="data">${el.repeat(n)}</DLHDon><DSCKS><NBan/></DSCKS></HDon>`;
}

/** Deep nesting, wide: 63 levels repeated (end-tag matching, depth tracking). */
export function deepNesting(bytes: number): string {
  let block = "";
  for (let d = 0; d < 62; d++) block += `<D${pad(d)}>`;
  for (let d = 61; d >= 0; d--) block += `</D${pad(d)}>`;
  const n = Math.floor((bytes - 200) / block.length);
  return `<HDon><DLHDon Id="data">${block.repeat(n)}</DLHDon><DSCKS><NBan/></DSCKS></HDon>`;
}

/** Text full of references, CRs and ']]' (decoding, line ends, the ']]>' check). */
export function referenceText(bytes: number): string {
  const chunk = "a&amp;b&#x1F600;\r\nc]]&gt;&lt;d\r";
  const n = Math.floor((bytes - 200) / chunk.length);
  return `<HDon><DLHDon Id="data"><T>${chunk.repeat(n)}</T></DLHDon><DSCKS><NBan/></DSCKS></HDon>`;
}

/** Many small elements with Ids (the Id map). */
export function manyIds(bytes: number): string {
  const n = Math.floor((bytes - 200) / 22);
  const els: string[] = [];
  for (let i = 0; i < Math.min(n, 190_000); i++) els.push(`<I Id="i${i}"/>`);
  return `<HDon><DLHDon Id="data">${els.join("")}</DLHDon><DSCKS><NBan/></DSCKS></HDon>`;
}

export const ADVERSARIAL = { nestedNamespaces, manyAttributes, deepNesting, referenceText, manyIds } as const;
