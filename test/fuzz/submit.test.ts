/**
 * Property-based fuzzing of POST /v1/invoices through the real app and store: random byte
 * mutations of valid signed invoices, and random XML structures. Never a 5xx, never more than
 * 2 s for one request, and never an acceptance the oracle refuses: whatever is accepted must
 * verify with xml-crypto's SignedXml against the seller's certificate and carry exactly the
 * signed DLHDon (same canonical digest) the seller signed.
 */
import { performance } from "node:perf_hooks";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { C14N, digestBase64 } from "../../src/xml/algorithms.js";
import { canonicalize } from "../../src/xml/canonical.js";
import { readInvoiceDocument } from "../../src/xml/invoice-document.js";
import { parseXml } from "../../src/xml/parse.js";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { MUTATIONS, prng } from "../helpers/generate.js";
import { signedXmlVerifies } from "../helpers/oracle.js";
import { byteMutation, FUZZ_RUNS, fuzzParams, mutate, serializeTree, xmlTree } from "./arbitraries.js";

let h: Harness;
interface Seed {
  seller: TestSeller;
  bytes: Buffer;
  digest: string;
}
const seeds: Seed[] = [];

/** The digest the service reports for an invoice: SHA-256 of the signed DLHDon under C14N 1.0. */
function dlhdonDigest(xml: string): string {
  const parsed = parseXml(xml, "HDon");
  if (!parsed.ok) throw new Error("seed does not parse");
  const doc = readInvoiceDocument(parsed.value);
  if (!doc.ok) throw new Error("seed has no frame");
  return digestBase64("sha256", canonicalize(doc.value.dlhdon, C14N));
}

beforeAll(async () => {
  h = await startHarness({ rateLimits: { refusalLimit: 0 } });
  const rsa = await h.seller();
  const ec = await h.seller({ keyType: "ec" });
  for (const [seller, opts] of [
    [rsa, {}],
    [rsa, { c14n: "exclusive" as const, prefix: "ds" as const }],
    [ec, { signingTime: null }],
    [ec, {}],
  ] as const) {
    const xml = seller.invoice({ declaration: true }, opts);
    seeds.push({ seller, bytes: Buffer.from(xml), digest: dlhdonDigest(xml) });
  }
}, 60_000);
afterAll(async () => h?.close());

const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false });

async function post(body: Uint8Array, key: string): Promise<{ status: number; text: string; ms: number }> {
  const t0 = performance.now();
  const res = await h.submit(body, key);
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - t0 };
}

describe("fuzzing POST /v1/invoices", () => {
  it(`answers byte mutations of signed invoices without a 5xx, within 2 s, and accepts only what the oracle verifies as the same signed data (${FUZZ_RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 3 }), fc.array(byteMutation, { minLength: 1, maxLength: 4 }), async (i, ops) => {
        const seed = seeds[i]!;
        const body = mutate(seed.bytes, ops);
        const r = await post(body, seed.seller.apiKey);
        expect(r.status, r.text.slice(0, 500)).toBeLessThan(500);
        expect(r.ms).toBeLessThan(2000);
        if (r.status === 200 || r.status === 201) {
          const answer = JSON.parse(r.text) as { digest: string };
          expect(answer.digest, "an accepted mutation carries exactly the DLHDon the seller signed").toBe(seed.digest);
          expect(signedXmlVerifies(decoder.decode(body), seed.seller.certPem), "the oracle verifies what the gate accepted").toBe(true);
        } else {
          expect((JSON.parse(r.text) as { error: { code: string } }).error.code).toMatch(/^[A-Z_]+$/);
        }
      }),
      fuzzParams(FUZZ_RUNS),
    );
  });

  it(`accepts a chain of the differential's mutations only when the oracle verifies it with the signed data unchanged, and never refuses as SIGNATURE_INVALID what the oracle verifies (${FUZZ_RUNS} runs)`, async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 3 }), fc.array(fc.nat({ max: MUTATIONS.length - 1 }), { minLength: 1, maxLength: 3 }), fc.nat(), async (i, picks, salt) => {
        const seed = seeds[i]!;
        const r = prng(salt);
        let xml = seed.bytes.toString("utf8");
        for (const k of picks) xml = MUTATIONS[k]!.apply(xml, r) ?? xml;
        const res = await post(Buffer.from(xml), seed.seller.apiKey);
        expect(res.status, res.text.slice(0, 500)).toBeLessThan(500);
        expect(res.ms).toBeLessThan(2000);
        const oracle = signedXmlVerifies(xml, seed.seller.certPem);
        if (res.status === 200 || res.status === 201) {
          accepted++;
          expect((JSON.parse(res.text) as { digest: string }).digest).toBe(seed.digest);
          expect(oracle, "the oracle verifies what the gate accepted").toBe(true);
        } else if (oracle) {
          // The oracle knows only the cryptography: the gate may refuse more (its profile), never less.
          expect((JSON.parse(res.text) as { error: { code: string } }).error.code).not.toBe("SIGNATURE_INVALID");
        }
      }),
      fuzzParams(FUZZ_RUNS),
    );
    // Not vacuous: chains of canonical-form-keeping mutations were accepted (replays of the seeds).
    expect(accepted).toBeGreaterThan(0);
  });

  it(`answers random XML structures without a 5xx, within 2 s, and never accepts one (${Math.ceil(FUZZ_RUNS / 2)} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(xmlTree, fc.array(byteMutation, { maxLength: 2 }), async (tree, ops) => {
        const r = await post(mutate(Buffer.from(serializeTree(tree)), ops), seeds[0]!.seller.apiKey);
        expect(r.status, r.text.slice(0, 500)).toBeLessThan(500);
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.ms).toBeLessThan(2000);
      }),
      fuzzParams(Math.ceil(FUZZ_RUNS / 2)),
    );
  });

  it("accepts every seed unchanged (the properties above start from valid invoices)", async () => {
    for (const seed of seeds) {
      const r = await post(seed.bytes, seed.seller.apiKey);
      expect([200, 201], r.text.slice(0, 300)).toContain(r.status);
      expect((JSON.parse(r.text) as { digest: string }).digest).toBe(seed.digest);
    }
  });
});
