/**
 * Attack corpus, part 1: the signature profile. Signature wrapping, References that point
 * elsewhere, forbidden transforms, duplicate Ids, extra Signatures and SignedInfos, and the
 * algorithm allow-list. The documents are built by test/helpers/attack-corpus.ts (SIGNATURE_ATTACKS),
 * which test/interop/check-xmlsec1.test.ts also runs through `hoadon check` and xmlsec1. Every
 * fixture is a real signed invoice, tampered and — where the attack needs it — re-signed with the
 * attacker's key, so that only the check under test stands between it and a code. Each expects
 * its stable code and that nothing was stored.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { type AttackContext, SIGNATURE_ATTACKS } from "../helpers/attack-corpus.js";
import { resign } from "../helpers/attacks.js";
import { expectIssued, expectRefused } from "../helpers/refusal.js";

let h: Harness;
let s: TestSeller;

beforeAll(async () => {
  h = await startHarness();
  s = await h.seller();
});
afterAll(async () => h?.close());

/** A fresh signed invoice of the file's seller, with an amount worth forging. */
const signed = (opts: Parameters<TestSeller["invoice"]>[1] = {}) =>
  s.invoice({ lines: [{ name: "Máy chủ", quantity: 1, unitPrice: 1_000_000, taxRate: "10%" }] }, opts);

const context = (): AttackContext => ({ signed, keyPem: s.keyPem, certPem: s.certPem });

describe("the signature attacks of the corpus", () => {
  for (const attack of SIGNATURE_ATTACKS) {
    it(`refuses ${attack.name}`, async () => {
      await expectRefused(h, attack.build(context()), attack.code, s.apiKey);
    });
  }
});

describe("algorithms the operator may allow, and mixes the allow-list accepts", () => {
  it("accepts rsa-sha1 with sha1 digests when the operator enables legacy SHA-1 (refused by default: the corpus)", async () => {
    const legacy = await startHarness({ allowSha1: true });
    try {
      const t = await legacy.seller();
      await expectIssued(legacy, t.invoice({}, { algorithm: "rsa-sha1", digest: "http://www.w3.org/2000/09/xmldsig#sha1" }), t.apiKey);
    } finally {
      await legacy.close();
    }
  });

  it("accepts allowed signature and digest algorithms mixed (rsa-sha256 over sha512 digests): both are in the allow-list", async () => {
    await expectIssued(h, signed({ digest: "http://www.w3.org/2001/04/xmlenc#sha512" }), s.apiKey);
  });

  it("still accepts the untouched invoice these attacks start from (the attacks fail for their own reason)", async () => {
    await expectIssued(h, signed(), s.apiKey);
    await expectIssued(h, resign(signed(), s.keyPem), s.apiKey);
  });
});
