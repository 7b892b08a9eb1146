/**
 * An element whose text is already canonical is digested as it stands (src/xml/canonical.ts
 * verbatimCanonical): on every element of generated invoices in every variant (namespaces on HDon,
 * xml:* attributes, nested declarations, whitespace, CRLF) and of their mutations, under both
 * algorithms, the octets must be those the renderer writes one by one; and the plain invoice
 * a careful signer writes must take that way. Each document is read from its text and from its
 * bytes.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { C14N, EXC_C14N } from "../../src/xml/algorithms.js";
import { canonicalBytes, verbatimCanonical } from "../../src/xml/canonical.js";
import { parseAnyRoot } from "../../src/xml/parse.js";
import type { XElement } from "../../src/xml/scan.js";
import { generateCase, MUTATIONS, pick, prng, type SigningKey } from "../helpers/generate.js";
import { buildInvoice } from "../helpers/invoice.js";
import { signInvoice } from "../helpers/sign.js";

const certs = new URL("../../certs/", import.meta.url);
const read = (f: string) => readFileSync(new URL(f, certs), "utf8");
const KEYS: SigningKey[] = [{ name: "certs/rsa", type: "rsa", taxCode: "0100000010", keyPem: read("seller-0100000010-rsa.key"), certPem: read("seller-0100000010-rsa.pem") }];

function* elements(el: XElement): Generator<XElement> {
  yield el;
  for (const c of el.elements) yield* elements(c);
}

const DLHDON = (xml: string): XElement => {
  const parsed = parseAnyRoot(xml);
  if (!parsed.ok) throw new Error(parsed.faults[0]!.message);
  return parsed.value.root.elements.find((e) => e.localName === "DLHDon")!;
};

/**
 * Every element of `xml` under both algorithms: the octets as taken and as rendered agree. Answers
 * how many were taken verbatim. Parsed from the text, and from its bytes after a byte-order mark
 * (the verbatim octets are then a slice of those bytes, src/xml/source-bytes.ts).
 */
function agree(xml: string): number {
  const fromText = agreeIn(xml);
  expect(agreeIn(Buffer.from(`\uFEFF${xml}`))).toBe(fromText);
  return fromText;
}

function agreeIn(body: string | Uint8Array): number {
  const parsed = parseAnyRoot(body);
  if (!parsed.ok) return 0;
  let taken = 0;
  const signature = parsed.value.signatures[0] ?? null;
  for (const el of elements(parsed.value.root)) {
    for (const alg of [C14N, EXC_C14N]) {
      for (const exclude of [null, signature]) {
        const rendered = canonicalBytes(el, alg, { exclude, verbatim: false });
        const same = verbatimCanonical(el, exclude);
        if (same !== null) {
          taken++;
          expect(Buffer.from(same).equals(Buffer.from(rendered)), `${el.tagName} under ${alg}`).toBe(true);
        }
        expect(Buffer.from(canonicalBytes(el, alg, { exclude })).equals(Buffer.from(rendered))).toBe(true);
      }
    }
  }
  return taken;
}

describe("the canonical form of an element already written canonically", () => {
  it("is the element's own text for the invoice a careful signer writes, signed or not", () => {
    const lines = Array.from({ length: 12 }, (_, i) => ({ name: `Mặt hàng số ${i + 1} — linh kiện`, unit: "Cái", quantity: i + 1, unitPrice: 125_000, taxRate: "10%" as const }));
    const unsigned = buildInvoice({ sellerTaxCode: "0100000010", lines });
    const signed = signInvoice(unsigned, { keyPem: KEYS[0]!.keyPem, certPem: KEYS[0]!.certPem });
    for (const xml of [unsigned, signed]) {
      const d = DLHDON(xml);
      const same = verbatimCanonical(d);
      expect(same).not.toBeNull();
      expect(Buffer.from(same!).toString("utf8")).toBe(xml.slice(xml.indexOf("<DLHDon"), xml.indexOf("</DLHDon>") + 9));
      expect(agree(xml)).toBeGreaterThan(0);
    }
  });

  it.each([
    ["a namespace declared on HDon", (x: string) => x.replace("<HDon>", '<HDon xmlns:x="urn:x">')],
    ["a default namespace on HDon", (x: string) => x.replace("<HDon>", '<HDon xmlns="urn:x">')],
    ["xml:lang on HDon (inclusive C14N inherits it)", (x: string) => x.replace("<HDon>", '<HDon xml:lang="vi">')],
    ["a declaration inside", (x: string) => x.replace("<NBan>", '<NBan xmlns:y="urn:y">')],
    ["xmlns=\"\" inside", (x: string) => x.replace("<NBan>", '<NBan xmlns="">')],
    ["a prefixed element inside", (x: string) => x.replace("<NBan>", '<y:E xmlns:y="urn:y"/><NBan>')],
    ["an xml:* attribute inside", (x: string) => x.replace("<NBan>", '<NBan xml:lang="vi">')],
    ["an empty-element tag", (x: string) => x.replace("<NBan>", "<Ghi/><NBan>")],
    ["attributes out of order", (x: string) => x.replace("<NBan>", '<NBan b="1" a="2">')],
    ["attributes in order", (x: string) => x.replace("<NBan>", '<NBan a="1" b="2">')],
    ["two spaces before an attribute", (x: string) => x.replace("<NBan>", '<NBan  a="1">')],
    ["a space before =", (x: string) => x.replace("<NBan>", '<NBan a ="1">')],
    ["a line break before an attribute", (x: string) => x.replace("<NBan>", '<NBan\na="1">')],
    ["a single-quoted value", (x: string) => x.replace("<NBan>", "<NBan a='1'>")],
    ["a value with &lt; &amp; &quot;", (x: string) => x.replace("<NBan>", '<NBan a="&lt;&amp;&quot;">')],
    ["a value with &gt;", (x: string) => x.replace("<NBan>", '<NBan a="&gt;">')],
    ["a value with &apos;", (x: string) => x.replace("<NBan>", '<NBan a="&apos;">')],
    ["a value with a character reference", (x: string) => x.replace("<NBan>", '<NBan a="&#x9;">')],
    ["a value with a TAB", (x: string) => x.replace("<NBan>", '<NBan a="x\ty">')],
    ["a value with '>'", (x: string) => x.replace("<NBan>", '<NBan a="x>y">')],
    ["a space before > in a start tag", (x: string) => x.replace("<NBan>", "<NBan >")],
    ["a space before > in an end tag", (x: string) => x.replace("</NBan>", "</NBan >")],
    ["'>' in text", (x: string) => x.replace(/<Ten>/, "<Ten>a > b ")],
    ["&amp; &lt; &gt; in text", (x: string) => x.replace(/<Ten>/, "<Ten>a &amp; b &lt;c&gt; ")],
    ["&quot; in text", (x: string) => x.replace(/<Ten>/, "<Ten>&quot;a&quot; ")],
    ["&apos; in text", (x: string) => x.replace(/<Ten>/, "<Ten>&apos;a ")],
    ["an & in text that ends the text", (x: string) => x.replace(/<Ten>/, "<Ten>a &amp;")],
    ["a character reference in text", (x: string) => x.replace(/<Ten>/, "<Ten>&#x41;")],
    ["a CR in text", (x: string) => x.replace(/<Ten>/, "<Ten>a\r\nb ")],
    ["a CDATA section", (x: string) => x.replace(/<Ten>/, "<Ten><![CDATA[a]]>")],
    ["whitespace between elements", (x: string) => x.replace("<NBan>", "\n  <NBan>")],
  ])("takes the renderer's way, or its own with the same octets, with %s", (_name, change) => {
    const base = buildInvoice({ sellerTaxCode: "0100000010", lines: [{ name: "Gạo", unit: "Kg", quantity: 1, unitPrice: 10_000, taxRate: "5%" }] });
    const xml = change(base);
    expect(xml).not.toBe(base);
    const d = DLHDON(xml);
    const same = verbatimCanonical(d);
    for (const alg of [C14N, EXC_C14N]) {
      const rendered = Buffer.from(canonicalBytes(d, alg, { verbatim: false }));
      if (same !== null) expect(Buffer.from(same).equals(rendered)).toBe(true);
      expect(Buffer.from(canonicalBytes(d, alg)).equals(rendered)).toBe(true);
    }
    // The cases above that are not canonical as written must leave the verbatim way.
    const stillCanonical = /attributes in order|whitespace between elements|a value with '>'|a value with &lt; &amp; &quot;|&amp; &lt; &gt; in text|ends the text/.test(_name);
    expect(same !== null).toBe(stillCanonical);
  });

  it("agrees with the renderer on every element of 150 generated invoices and their mutations, under both algorithms", () => {
    const seed = Number(process.env.HOADON_DIFF_SEED ?? 20261205);
    const r = prng(seed);
    let taken = 0;
    for (let i = 0; i < 150; i++) {
      const c = generateCase(seed, i, KEYS);
      taken += agree(c.unsigned);
      const signed = signInvoice(c.unsigned, c.sign);
      taken += agree(signed);
      const mutated = pick(r, MUTATIONS).apply(signed, r);
      if (mutated !== null) taken += agree(mutated);
    }
    // Most elements of most variants are written canonically: the verbatim way was exercised.
    expect(taken).toBeGreaterThan(5_000);
  });
});
