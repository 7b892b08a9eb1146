/**
 * The text canonicalizer (src/xml/canonical-scan.ts) and the stamp's template canonical forms
 * against the reference implementation, xml-crypto's canonicalizers on the DOM (src/xml/c14n.ts):
 * byte for byte wherever the fast path answers, on generated invoices, hand-written edge cases
 * and random trees.
 */
import { createPublicKey, verify as cryptoVerify } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateDevAuthority, authorityKeyFromPem } from "../../src/secrets.js";
import { C14N, DSIG_NS, EXC_C14N, digestBase64 } from "../../src/xml/algorithms.js";
import { canonicalize } from "../../src/xml/c14n.js";
import { canonicalFromText } from "../../src/xml/canonical-scan.js";
import { readInvoiceDocument } from "../../src/xml/invoice-document.js";
import { childElements, parseXml } from "../../src/xml/parse.js";
import { stamp, templateCanonicalApplies } from "../../src/xml/stamp.js";
import { fuzzParams, serializeTree, xmlTree } from "../fuzz/arbitraries.js";
import { buildInvoice } from "../helpers/invoice.js";
import { signInvoice } from "../helpers/sign.js";
import { readFileSync } from "node:fs";

/** Both canonicalizations of the root's first child element, by the text path and by xml-crypto. */
function both(xml: string): { fast: string | null; dom: string; exc: string } {
  const parsed = parseXml(xml, "HDon");
  if (!parsed.ok) throw new Error(`not parsed: ${parsed.faults[0]!.message}`);
  const el = childElements(parsed.value.root)[0]!;
  const child = parsed.value.frame.children[0]!;
  return {
    fast: canonicalFromText(parsed.value.text, child.start, child.end),
    dom: canonicalize(el, C14N),
    exc: canonicalize(el, EXC_C14N),
  };
}

const certs = new URL("../../certs/", import.meta.url);
const read = (f: string) => readFileSync(new URL(f, certs), "utf8");
const seller = { keyPem: read("seller-0100000010-rsa.key"), certPem: read("seller-0100000010-rsa.pem") };

describe("canonicalFromText against xml-crypto", () => {
  it("agrees on signed invoices (C14N and exclusive C14N give the same octets)", () => {
    for (const [i, opts] of [{}, { declaration: true }, { dlhdonId: "DuLieuKy" }, { buyer: null }, { sellerName: "Công ty <A> & \"B\" 'C'" }].entries()) {
      const xml = signInvoice(buildInvoice({ number: i + 1, ...opts }), seller);
      const { fast, dom, exc } = both(xml);
      expect(fast).not.toBeNull();
      expect(fast).toBe(dom);
      expect(fast).toBe(exc);
    }
  });

  const cases: string[] = [
    `<HDon><DLHDon Id="a"><X>a &amp; b &lt; c &gt; d &quot; e &apos; f</X></DLHDon></HDon>`,
    `<HDon><DLHDon Id="a"><X>&#233;&#xE9;&#13;&#10;&#9;&#x3C;&#38;</X></DLHDon></HDon>`,
    `<HDon><DLHDon Id="a"><X><![CDATA[a & b < c > d ]] e]]></X><Y><![CDATA[]]></Y></DLHDon></HDon>`,
    `<HDon><DLHDon  z='1"2' b = "x&amp;y&#9;&#10;&#13;&lt;'" a="&quot;" Id="q" ><E/><F  /><G></G ></DLHDon></HDon>`,
    `<HDon><DLHDon Id="a">text > with gt ]] and \n newlines\n\n   and spaces</DLHDon></HDon>`,
    `<HDon><DLHDon Id="a"><Ten>Hóa đơn giá trị gia tăng — 𝄞 ≥</Ten></DLHDon></HDon>`,
    `<HDon><DLHDon Id="a" B="2" A="1" _c="3" a.b="4" a-b="5"/></HDon>`,
    `<HDon>\n  <DLHDon Id="a">\n    <TTChung>\n      <PBan>2.1.0</PBan>\n    </TTChung>\n  </DLHDon>\n</HDon>`,
    // Where the text path gives way (null): namespaces, whitespace normalization, CR.
    `<HDon><DLHDon Id="a" xmlns:x="urn:x"><x:Y/></DLHDon></HDon>`,
    `<HDon><DLHDon Id="a"><Y xmlns="urn:y"/></DLHDon></HDon>`,
    `<HDon><DLHDon Id="a" t="a\tb\nc"/></HDon>`,
    `<HDon><DLHDon Id="a">a\r\nb\rc</DLHDon></HDon>`,
    `<HDon><DLHDon Id="a"><![CDATA[a\r\nb]]></DLHDon></HDon>`,
    `<HDon><DLHDon Id="a" xml:lang="vi"/></HDon>`,
  ];
  it.each(cases.map((c, i) => [i, c] as const))("edge case %i: equal, or null", (_i, xml) => {
    const { fast, dom } = both(xml);
    if (fast !== null) expect(fast).toBe(dom);
  });

  it("answers null for namespaces and whitespace normalization, and a value for the rest", () => {
    const answered = cases.map((c) => both(c).fast !== null);
    expect(answered).toEqual([true, true, true, true, true, true, true, true, false, false, false, false, false, false]);
  });

  it("agrees on random trees (property)", () => {
    fc.assert(
      fc.property(xmlTree, (tree) => {
        const xml = serializeTree(tree);
        const parsed = parseXml(xml, "HDon");
        fc.pre(parsed.ok);
        const { fast, dom } = both(xml);
        if (fast !== null) expect(fast).toBe(dom);
      }),
      fuzzParams(),
    );
  });

  const piece = fc.constantFrom("a", " ", "\n", "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#233;", "&#x1F600;", "&#13;", "&#9;", "]]", ">", "'", '"', "ệ", "<![CDATA[x&<>]]>", "<B/>", "<C k='v&amp;\"'>t</C>", "<D a=\"2\" b=\"1\"></D>");
  it("agrees on random character data, references and CDATA (property)", () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (parts) => {
        const xml = `<HDon><DLHDon Id="a">${parts.join("")}</DLHDon></HDon>`;
        const parsed = parseXml(xml, "HDon");
        fc.pre(parsed.ok);
        const { fast, dom } = both(xml);
        expect(fast).toBe(dom);
      }),
      fuzzParams(),
    );
  });
});

describe("the stamp's template canonical forms", () => {
  it("give the digests and SignatureValue that xml-crypto's canonicalization of the stamped output verifies (RSA and EC)", async () => {
    for (const kind of ["rsa", "ec"] as const) {
      const dev = await generateDevAuthority(kind);
      const authority = authorityKeyFromPem(dev.keyPem, dev.certPem);
      const parsed = parseXml(signInvoice(buildInvoice(), seller), "HDon");
      if (!parsed.ok) throw new Error("parse");
      const doc = readInvoiceDocument(parsed.value);
      if (!doc.ok) throw new Error("frame");
      const code = "0A" + "1B".repeat(16);
      expect(templateCanonicalApplies(doc.value, code)).toBe(true);
      const dlhdonDigest = digestBase64("sha256", canonicalize(doc.value.dlhdon, C14N));
      const out = stamp(doc.value, code, new Date("2026-11-20T03:00:00Z"), authority, dlhdonDigest);

      const again = parseXml(out.xml, "HDon");
      if (!again.ok) throw new Error("stamped output does not parse");
      const root = again.value.root;
      const mccqt = childElements(root).find((e) => e.localName === "MCCQT")!;
      const sig = again.value.signatures.find((s) => (s.parentNode as Element).localName === "CQT")!;
      const [signedInfo, value, , object] = childElements(sig);
      const digests = Array.from(signedInfo!.getElementsByTagNameNS(DSIG_NS, "DigestValue")).map((d) => d.textContent);
      const dlhdon = childElements(root).find((e) => e.localName === "DLHDon")!;
      expect(digests).toEqual([
        digestBase64("sha256", canonicalize(dlhdon, C14N)),
        digestBase64("sha256", canonicalize(object!, C14N)),
        digestBase64("sha256", canonicalize(mccqt, C14N)),
      ]);
      const sv = Buffer.from(value!.textContent!, "base64");
      const key = createPublicKey(dev.certPem);
      const ok = cryptoVerify("sha256", Buffer.from(canonicalize(signedInfo!, C14N)), kind === "ec" ? { key, dsaEncoding: "ieee-p1363" } : key, sv);
      expect(ok).toBe(true);
    }
  });

  it("leaves a document that declares a namespace on HDon to the DOM path", () => {
    const xml = signInvoice(buildInvoice(), seller).replace("<HDon>", '<HDon xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">');
    const parsed = parseXml(xml, "HDon");
    if (!parsed.ok) throw new Error("parse");
    const doc = readInvoiceDocument(parsed.value);
    if (!doc.ok) throw new Error("frame");
    expect(templateCanonicalApplies(doc.value, "0A" + "1B".repeat(16))).toBe(false);
  });
});
