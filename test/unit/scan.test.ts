/**
 * The one-pass scanner (src/xml/scan.ts) and the canonicalizer over its tree (src/xml/canonical.ts):
 * their cost is linear in the input whatever its constructs (counted, not timed: the scanner counts
 * its steps, and the canonical output of a subtree is bounded by its text), inclusive C14N carries
 * inherited xml:* attributes (C14N 1.0 §2.4), and namespace rendering follows both recommendations.
 */

import { DOMParser } from "@xmldom/xmldom";
import { describe, expect, it } from "vitest";
import { C14N, EXC_C14N } from "../../src/xml/algorithms.js";
import { canonicalize as oracleCanonicalize } from "../../src/xml/c14n.js";
import { CanonicalTooLarge, canonicalBytes, canonicalize, MAX_CANONICAL_BYTES } from "../../src/xml/canonical.js";
import { DEFAULT_LIMITS, scanXml } from "../../src/xml/scan.js";
import { ADVERSARIAL } from "../helpers/adversarial.js";

const TWO_MB = 2 * 1024 * 1024 - 4096;

function scanned(xml: string) {
  const s = scanXml(xml, DEFAULT_LIMITS);
  if (!s.ok) throw new Error(JSON.stringify(s.faults));
  return s.value;
}

describe("the scanner's cost is linear in its input", () => {
  for (const [name, make] of Object.entries(ADVERSARIAL)) {
    it(`${name}: ~2 MB within the limits is scanned in at most one step per 2 characters, and canonicalized to at most a bounded multiple of its size`, () => {
      const xml = make(TWO_MB);
      expect(Buffer.byteLength(xml)).toBeLessThanOrEqual(DEFAULT_LIMITS.maxBytes);
      const s = scanXml(xml, DEFAULT_LIMITS);
      if (!s.ok) throw new Error(`${name} is not within the limits: ${JSON.stringify(s.faults)}`);
      // A step is a tag, an attribute, a declaration or a reference: each spans two characters at least (`<E/>`: two steps).
      expect(s.value.steps).toBeLessThanOrEqual(xml.length / 2);
      const dlhdon = s.value.root.elements[0]!;
      // Inclusive C14N renders, below the apex, only the declarations that change a value: the output
      // never exceeds the input by more than the apex's in-scope namespaces and the added end tags.
      expect(canonicalize(dlhdon, C14N).length).toBeLessThanOrEqual(2 * xml.length);
      // Exclusive C14N repeats the declarations each element uses: bounded by the cap, or refused.
      try {
        expect(canonicalize(dlhdon, EXC_C14N).length).toBeLessThanOrEqual(MAX_CANONICAL_BYTES);
      } catch (e) {
        expect(e).toBeInstanceOf(CanonicalTooLarge);
      }
    });
  }

  it("counts a step per tag and attribute: steps per character stay the same from 200 KB to 2 MB of nested namespace declarations (past the per-document limit)", () => {
    // 60 levels, each declaring 31 prefixes again, repeated: scanned with the per-document limit on
    // declarations lifted, so that the scope's undo log is shown linear beyond what the limit lets in.
    const decls = (level: number) => Array.from({ length: 31 }, (_, k) => ` xmlns:p${k}="urn:x:${level}:${k}"`).join("");
    let block = "";
    for (let d = 0; d < 60; d++) block += `<p${d % 31}:E${d}${decls(d)}>`;
    block += "x";
    for (let d = 59; d >= 0; d--) block += `</p${d % 31}:E${d}>`;
    const perChar = (bytes: number) => {
      const xml = `<HDon><DLHDon Id="data">${block.repeat(Math.floor(bytes / block.length))}</DLHDon></HDon>`;
      const s = scanXml(xml, { ...DEFAULT_LIMITS, maxDocumentAttributes: Number.MAX_SAFE_INTEGER });
      if (!s.ok) throw new Error(JSON.stringify(s.faults));
      return s.value.steps / s.value.text.length;
    };
    const ratio = perChar(TWO_MB) / perChar(200_000);
    expect(ratio).toBeGreaterThan(0.9);
    expect(ratio).toBeLessThan(1.1);
  });
});

describe("canonical form over the scanned tree", () => {
  it("C14N 1.0 carries xml:* attributes inherited from ancestors onto the apex (nearest wins), exclusive C14N does not", () => {
    const xml = `<HDon xml:lang="vi" xml:space="preserve"><A xml:lang="en"><DLHDon Id="d"><X>1</X></DLHDon></A></HDon>`;
    const d = scanned(xml).root.elements[0]!.elements[0]!;
    expect(canonicalize(d, C14N)).toBe(`<DLHDon Id="d" xml:lang="en" xml:space="preserve"><X>1</X></DLHDon>`);
    expect(canonicalize(d, EXC_C14N)).toBe(`<DLHDon Id="d"><X>1</X></DLHDon>`);
  });

  it("agrees with the (corrected) xml-crypto oracle on namespaces: in scope, redeclared, unused, xmlns=\"\"", () => {
    const xml =
      `<HDon xmlns:a="urn:a" xmlns:b="urn:b" xml:lang="vi"><DLHDon Id="d" xmlns:c="urn:c" b:x="1" z="2">` +
      `<a:P xmlns:a="urn:a"><Q xmlns="urn:q"><R xmlns=""/><a:S xmlns:a="urn:a2" xmlns:d="urn:d"/></Q></a:P><T attr="&#9;&#10;&#13;&amp;&lt;&quot;">x&#13;&gt;&amp;</T></DLHDon></HDon>`;
    const d = scanned(xml).root.elements[0]!;
    const dom = new DOMParser().parseFromString(xml, "application/xml") as unknown as Document;
    const domD = dom.getElementsByTagName("DLHDon")[0]!;
    for (const [alg, prefixList] of [[C14N, []], [EXC_C14N, []], [EXC_C14N, ["b", "#default"]], [EXC_C14N, ["a", "c"]]] as const) {
      expect(canonicalize(d, alg, { prefixList }), `${alg} ${prefixList.join(",")}`).toBe(oracleCanonicalize(domD, alg, { prefixList: [...prefixList] }));
    }
  });

  it("writes the octets the (corrected) xml-crypto oracle writes: escapes, references, line ends, CDATA, non-ASCII runs, surrogate pairs, every adversarial document", () => {
    const xml =
      `<HDon xmlns:a="urn:a" xml:lang="vi"><DLHDon Id="d" a:t="tab&#9;nl&#10;cr&#13;q&quot;lt&lt;amp&amp;gt>é😀" b='sq"x&#x22;\t\r\ny'>` +
      `Hóa đơn &amp; &lt;x&gt; &#13; 😀 ]]&gt; \r\n\r<a:X a:y="Điện thoại 😀&#9;&#x1F600;">Ư&#x1F600;ư&#65;&#x41;</a:X><![CDATA[<raw> & é\r\n]]>` +
      // A long text with nothing to escape (written in one piece), and one with a '>' at its end.
      `<V>${"Hóa đơn 😀 ".repeat(40)}</V><W>${"Hóa đơn 😀 ".repeat(40)}></W></DLHDon></HDon>`;
    // manyAttributes is left to the next test: xml-crypto orders attributes by namespace URI and local
    // name concatenated ("urn:a:10" + "v" before "urn:a:1" + "v"), not by URI first as C14N says.
    const docs = [xml, ...Object.entries(ADVERSARIAL).flatMap(([name, make]) => (name === "manyAttributes" ? [] : [make(20_000)]))];
    for (const doc of docs) {
      const d = scanned(doc).root.elements[0]!;
      const dom = new DOMParser().parseFromString(doc, "application/xml") as unknown as Document;
      const domD = dom.documentElement.getElementsByTagName("DLHDon")[0]!;
      for (const [alg, prefixList] of [[C14N, []], [EXC_C14N, []], [EXC_C14N, ["a", "#default"]]] as const) {
        const bytes = canonicalBytes(d, alg, { prefixList });
        expect(Buffer.from(bytes).toString("utf8"), `${alg} ${doc.slice(0, 40)}`).toBe(oracleCanonicalize(domD, alg, { prefixList: [...prefixList] }));
      }
    }
  });


  it("orders attributes by namespace URI, then local name (C14N 1.0 §2.2), where one URI is a prefix of another too", () => {
    const d = scanned(ADVERSARIAL.manyAttributes(20_000)).root.elements[0]!;
    const first = d.elements[0]!;
    const expected = [...first.attributes]
      .sort((x, y) => (x.namespaceURI! < y.namespaceURI! ? -1 : x.namespaceURI! > y.namespaceURI! ? 1 : 0))
      .map((a) => ` ${a.name}="${a.value}"`)
      .join("");
    expect(expected).toMatch(/^ a0:v="0" a1:v="1" a10:v="10"/);
    for (const alg of [C14N, EXC_C14N]) expect(canonicalize(d, alg)).toContain(`${expected}></E>`);
  });

  it("caps a canonical form at four times its document and 64 KiB: exclusive C14N's repeated declarations stop there, escaping never reaches it", () => {
    const uri = `urn:${"x".repeat(1000)}`;
    const repeated = scanned(`<HDon xmlns:p="${uri}"><DLHDon Id="d">${"<p:E/>".repeat(2000)}</DLHDon></HDon>`);
    const d = repeated.root.elements[0]!;
    expect(() => canonicalBytes(d, EXC_C14N)).toThrow(CanonicalTooLarge);
    expect(canonicalBytes(d, C14N).length).toBeLessThan(4 * repeated.text.length);
    // Every '>' of a text becomes "&gt;": four times the characters, the most escaping can make.
    const gt = scanned(`<HDon><DLHDon Id="d"><T>${">".repeat(500_000)}</T></DLHDon></HDon>`);
    for (const alg of [C14N, EXC_C14N]) expect(canonicalize(gt.root.elements[0]!, alg)).toBe(`<DLHDon Id="d"><T>${"&gt;".repeat(500_000)}</T></DLHDon>`);
  });
});
