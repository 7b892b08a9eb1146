/**
 * The per-document limits of the parse (attributes and namespace declarations: 20,000; Id
 * attributes: 10,000; docs/security.md) against the real messages: every production sample in
 * ../shared/interop, and the largest legitimate messages that fit 2 MiB — a T-VAN 203 of signed
 * invoices, a 206 of 1,000 cash-register invoices, a 400 of signed summary tables (an invoice
 * of 9,000 lines carries 13 attributes). Each stays under half of each limit, so a tighter limit
 * that refused a real message would fail here first.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, ID_LOCAL_NAMES, scanXml, type XElement, XMLNS_NS } from "../../src/xml/scan.js";
import { buildInvoice } from "../helpers/invoice.js";
import { signInvoice } from "../helpers/sign.js";
import { packageTdiep, signPackage, signSummary, summaryTable } from "../helpers/tvan.js";

const certs = new URL("../../certs/", import.meta.url);
const read = (f: string) => readFileSync(new URL(f, certs), "utf8");
const KEY = { keyPem: read("seller-0100000010-rsa.key"), certPem: read("seller-0100000010-rsa.pem") };
const MAX = DEFAULT_LIMITS.maxBytes;
const ONE_LINE = [{ name: "Hàng", unit: "cái", quantity: "1", unitPrice: "1000", taxRate: "10%" as const, code: "M1" }];

/** Attributes with declarations, and Id attributes, counted over the scanned tree. */
function counts(xml: string | Uint8Array): { attributes: number; ids: number; bytes: number } {
  const s = scanXml(xml, { ...DEFAULT_LIMITS, maxBytes: Number.MAX_SAFE_INTEGER, maxDocumentAttributes: Number.MAX_SAFE_INTEGER, maxIds: Number.MAX_SAFE_INTEGER });
  if (!s.ok) throw new Error(JSON.stringify(s.faults));
  let attributes = 0;
  let ids = 0;
  const walk = (e: XElement): void => {
    for (const a of e.attributes) {
      attributes++;
      if (a.namespaceURI !== XMLNS_NS && ID_LOCAL_NAMES.has(a.localName)) ids++;
    }
    for (const c of e.elements) walk(c);
  };
  walk(s.value.root);
  return { attributes, ids, bytes: typeof xml === "string" ? Buffer.byteLength(xml) : xml.byteLength };
}

/** As many copies of `item` in a package as fit `MAX` bytes (at most 1,000: tvan.md §2). */
function fill(type: string, item: string): string {
  const n = Math.min(1000, Math.floor((MAX - 2000) / Buffer.byteLength(item)));
  return packageTdiep(type, Array(n).fill(item), { mst: "0100000010" }).xml;
}

describe("the per-document limits leave every real message far inside them", () => {
  const within = (name: string, c: ReturnType<typeof counts>) => {
    expect(c.bytes, name).toBeLessThanOrEqual(MAX);
    expect(c.attributes, `${name}: attributes and declarations`).toBeLessThan(DEFAULT_LIMITS.maxDocumentAttributes / 2);
    expect(c.ids, `${name}: Ids`).toBeLessThan(DEFAULT_LIMITS.maxIds / 2);
  };

  it("every production sample in ../shared/interop", () => {
    const dir = new URL("../../../shared/interop/", import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith(".xml"));
    expect(files.length).toBeGreaterThanOrEqual(13);
    for (const f of files) within(f, counts(readFileSync(new URL(f, dir))));
  });

  it("the largest legitimate messages that fit 2 MiB: a 203 of signed invoices, a 206 of 1,000 cash-register invoices, a 400 of signed summaries", () => {
    const invoice = signInvoice(buildInvoice({ sellerTaxCode: "0100000010", symbol: "K26TAA", number: 1, buyer: null, lines: ONE_LINE }), KEY);
    const c203 = counts(fill("203", invoice));
    within("203", c203);
    const cash = buildInvoice({ sellerTaxCode: "0100000010", symbol: "C26MAA", number: 1, buyer: null, lines: ONE_LINE });
    within("206", counts(signPackage(packageTdiep("206", Array(1000).fill(cash), { mst: "0100000010" }).xml, KEY)));
    const summary = signSummary(summaryTable({ mst: "0100000010" }, [{ STT: "1", KHMSHDon: "1", KHHDon: "K26TAA", SHDon: "1" }]), KEY);
    const c400 = counts(fill("400", summary));
    within("400", c400);
    // The packages are the attribute-heaviest real messages: a signature's worth of attributes per item.
    expect(Math.max(c203.attributes, c400.attributes)).toBeGreaterThan(5000);
  }, 60_000);
});
