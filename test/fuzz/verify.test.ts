/**
 * Property-based fuzzing of POST /v1/verify (public, so as hostile-input-safe as the gate):
 * byte mutations and the differential's mutations of stamped invoices, and random XML. Never a
 * 5xx, never more than 2 s, and never `valid: true` for a document whose signed data or code is
 * not the issued invoice's.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { C14N, digestBase64 } from "../../src/xml/algorithms.js";
import { canonicalize } from "../../src/xml/canonical.js";
import { readInvoiceDocument } from "../../src/xml/invoice-document.js";
import { parseXml, textOf } from "../../src/xml/parse.js";
import { type Harness, startHarness } from "../helpers/app.js";
import { MUTATIONS, prng } from "../helpers/generate.js";
import { expectIssued } from "../helpers/refusal.js";
import { byteMutation, FUZZ_RUNS, fuzzParams, mutate, serializeTree, xmlTree } from "./arbitraries.js";

let h: Harness;
const seeds: { bytes: Buffer; code: string; digest: string }[] = [];

beforeAll(async () => {
  h = await startHarness({ rateLimits: { publicPerMinute: 0 } });
  const rsa = await h.seller();
  const ec = await h.seller({ keyType: "ec" });
  for (const [seller, opts] of [
    [rsa, {}],
    [rsa, { c14n: "exclusive" as const, prefix: "ds" as const }],
    [ec, { signingTime: null }],
  ] as const) {
    const issued = await expectIssued(h, seller.invoice({ declaration: true }, opts), seller.apiKey);
    seeds.push({ bytes: Buffer.from(issued.xml), code: issued.code, digest: issued.digest });
  }
}, 60_000);
afterAll(async () => h?.close());

/** The DLHDon digest and MCCQT of a document, or null when it has no readable frame. */
function identity(body: Uint8Array): { digest: string; code: string } | null {
  const parsed = parseXml(body, "HDon");
  if (!parsed.ok) return null;
  const doc = readInvoiceDocument(parsed.value);
  if (!doc.ok || !doc.value.mccqt) return null;
  return { digest: digestBase64("sha256", canonicalize(doc.value.dlhdon, C14N)), code: textOf(doc.value.mccqt).trim() };
}

async function verify(body: Uint8Array): Promise<{ status: number; text: string }> {
  const res = await h.app.request("/v1/verify", { method: "POST", headers: { "content-type": "application/xml" }, body: body as BodyInit });
  return { status: res.status, text: await res.text() };
}

/** A verdict of `valid` is only ever given to the issued invoice's own signed data under its own code. */
function expectHonest(r: { status: number; text: string }, body: Uint8Array, seed: (typeof seeds)[number]): void {
  expect(r.status, r.text.slice(0, 500)).toBeLessThan(500);
  if (r.status !== 200) return;
  const v = JSON.parse(r.text) as { valid: boolean };
  if (v.valid) expect(identity(body), "valid only for the issued invoice's signed data and code").toEqual({ digest: seed.digest, code: seed.code });
}

describe("fuzzing POST /v1/verify", () => {
  it(`answers byte mutations of stamped invoices without a 5xx and calls valid only the issued data (${FUZZ_RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: seeds.length - 1 }), fc.array(byteMutation, { minLength: 1, maxLength: 4 }), async (i, ops) => {
        const body = mutate(seeds[i]!.bytes, ops);
        expectHonest(await verify(body), body, seeds[i]!);
      }),
      fuzzParams(FUZZ_RUNS),
    );
  });

  it(`calls valid a chain of the differential's mutations only when the signed data and code are unchanged (${FUZZ_RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: seeds.length - 1 }), fc.array(fc.nat({ max: MUTATIONS.length - 1 }), { minLength: 1, maxLength: 3 }), fc.nat(), async (i, picks, salt) => {
        const r = prng(salt);
        let xml = seeds[i]!.bytes.toString("utf8");
        for (const k of picks) xml = MUTATIONS[k]!.apply(xml, r) ?? xml;
        const body = Buffer.from(xml);
        expectHonest(await verify(body), body, seeds[i]!);
      }),
      fuzzParams(FUZZ_RUNS),
    );
  });

  it(`answers random XML structures without a 5xx, never valid (${Math.ceil(FUZZ_RUNS / 2)} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(xmlTree, fc.array(byteMutation, { maxLength: 2 }), async (tree, ops) => {
        const r = await verify(mutate(Buffer.from(serializeTree(tree)), ops));
        expect(r.status, r.text.slice(0, 500)).toBeLessThan(500);
              if (r.status === 200) expect((JSON.parse(r.text) as { valid: boolean }).valid).toBe(false);
      }),
      fuzzParams(Math.ceil(FUZZ_RUNS / 2)),
    );
  });

  it("calls every seed valid unchanged (the properties above start from genuine invoices)", async () => {
    for (const seed of seeds) {
      const r = await verify(seed.bytes);
      expect(JSON.parse(r.text)).toMatchObject({ valid: true, code: seed.code });
    }
  });
});
