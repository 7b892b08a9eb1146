/**
 * Property-based fuzzing of the hardened parser (src/xml/parse.ts) and the gate's XML stages
 * after it: random byte mutations of real signed invoices, random XML structures, random bytes.
 * The parser never throws, answers each input in well under a second, refuses only with the
 * parse stage's codes, and when it accepts, the tree it built honours every limit the pre-scan
 * promises (no comment, processing instruction or DOCTYPE node; depth, attribute counts).
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readInvoiceDocument, readSellerSignature } from "../../src/xml/invoice-document.js";
import { DEFAULT_LIMITS, type ParsedXml, parseXml, type XNode } from "../../src/xml/parse.js";
import { verifyProfile } from "../../src/xml/verify.js";
import { buildInvoice } from "../helpers/invoice.js";
import { signInvoice } from "../helpers/sign.js";
import { byteMutation, FUZZ_RUNS, fuzzParams, mutate, serializeTree, xmlTree } from "./arbitraries.js";

const certs = new URL("../../certs/", import.meta.url);
const read = (f: string) => readFileSync(new URL(f, certs), "utf8");
const RSA = { keyPem: read("seller-0100000010-rsa.key"), certPem: read("seller-0100000010-rsa.pem") };
const EC = { keyPem: read("seller-0310000024-ec.key"), certPem: read("seller-0310000024-ec.pem") };

const SEEDS = [
  signInvoice(buildInvoice({ sellerTaxCode: "0100000010", declaration: true }), RSA),
  signInvoice(buildInvoice({ sellerTaxCode: "0310000024" }).replace(/></g, ">\n  <"), { ...EC, c14n: "exclusive", prefix: "ds" }),
  readFileSync(new URL("../fixtures/xmlsec1/0100000010-rsa-sha256-c14n-signingtime.xml", import.meta.url), "utf8"),
].map((x) => Buffer.from(x));

const PARSE_CODES = new Set(["XML_MALFORMED", "XML_FORBIDDEN_CONSTRUCT", "PAYLOAD_TOO_LARGE"]);

/** What an accepted parse promises: the limits hold in the tree, and no forbidden node made it in. */
function checkInvariants(p: ParsedXml): void {
  expect(p.root.localName).toBe("HDon");
  // The scanned tree: elements and character data only (no comment, instruction or DOCTYPE can be represented).
  const stack: [XNode, number][] = [[p.root, 1]];
  let nodes = 0;
  while (stack.length) {
    const [n, depth] = stack.pop()!;
    nodes++;
    expect([1, 3, 4]).toContain(n.nodeType);
    if (n.nodeType === 1) {
      expect(depth).toBeLessThanOrEqual(DEFAULT_LIMITS.maxDepth);
      expect(n.attributes.length).toBeLessThanOrEqual(DEFAULT_LIMITS.maxAttributes);
      expect(p.text.slice(n.start, n.start + 1 + n.tagName.length)).toBe(`<${n.tagName}`);
      for (const c of n.childNodes) stack.push([c, depth + 1]);
    }
  }
  expect(nodes).toBeLessThanOrEqual(DEFAULT_LIMITS.maxNodes * 2 + 2);
  for (const [id, el] of p.ids) expect(el.nodeType, id).toBe(1);
}

/** Parse, then the frame, profile and signature stages: none may throw; each answers in time. */
function throughTheGate(bytes: Uint8Array): void {
  const t0 = performance.now();
  const parsed = parseXml(bytes, "HDon");
  if (!parsed.ok) {
    expect(PARSE_CODES.has(parsed.faults[0]!.code), JSON.stringify(parsed.faults)).toBe(true);
  } else {
    checkInvariants(parsed.value);
    const doc = readInvoiceDocument(parsed.value);
    if (doc.ok) {
      const profile = readSellerSignature(doc.value, true);
      if (profile.ok) verifyProfile(profile.value);
    }
  }
  expect(performance.now() - t0).toBeLessThan(1000);
}

describe("fuzzing the parser and the XML stages of the gate", () => {
  it(`never throws on byte mutations of signed invoices, and keeps its promises when it accepts (${FUZZ_RUNS * 4} runs)`, () => {
    fc.assert(
      fc.property(fc.nat({ max: SEEDS.length - 1 }), fc.array(byteMutation, { minLength: 1, maxLength: 6 }), (i, ops) => {
        throughTheGate(mutate(SEEDS[i]!, ops));
      }),
      fuzzParams(FUZZ_RUNS * 4),
    );
  });

  it(`never throws on random XML structures built from the invoice's vocabulary (${FUZZ_RUNS * 2} runs)`, () => {
    fc.assert(
      fc.property(xmlTree, fc.array(byteMutation, { maxLength: 2 }), (tree, ops) => {
        throughTheGate(mutate(Buffer.from(serializeTree(tree)), ops));
      }),
      fuzzParams(FUZZ_RUNS * 2),
    );
  });

  it(`never throws on random bytes and random text (${FUZZ_RUNS * 2} runs)`, () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), fc.string({ maxLength: 400, unit: "binary" }).map((s) => Buffer.from(`<HDon>${s}</HDon>`))), (bytes) => {
        throughTheGate(bytes);
      }),
      fuzzParams(FUZZ_RUNS * 2),
    );
  });

  it("accepts every seed unchanged (the properties above start from valid invoices)", () => {
    for (const seed of SEEDS) {
      const parsed = parseXml(seed, "HDon");
      expect(parsed.ok).toBe(true);
      if (parsed.ok) checkInvariants(parsed.value);
    }
  });
});
