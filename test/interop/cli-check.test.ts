/**
 * `hoadon check` reports every signature of a file on its own, and its verdicts agree with
 * xmlsec1's, signature by signature: on every real message of ../shared/interop and on a
 * generated corpus (RSA and EC, both C14Ns, `ds:` prefix, xml-crypto and xmlsec1 as signers,
 * each also tampered). The one known disagreement is listed with its reason: libxml2's C14N
 * (xmlsec1) emits a spurious xmlns="" in the seller's SigningTime Object of samples 01 and 03
 * (../shared/interop README); the interop README and xml-crypto say those signatures are valid.
 * By design, an enveloped-signature transform on the SigningTime Reference is read as .NET and
 * the service read it (the Object digested), where xmlsec1 digests nothing: that case is listed too.
 * The command itself: one JSON line per file in the issue's shape, exit 0 only when all pass.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSignatures } from "../../src/cli/check.js";
import { buildInvoice, nextNumber } from "../helpers/invoice.js";
import { issueSellerCert, type IssuedCert } from "../helpers/pki.js";
import { signInvoice, signWithXmlsec1, xmlsec1Available } from "../helpers/sign.js";
import { ROOT } from "../helpers/process.js";

const INTEROP = join(ROOT, "../shared/interop");
const interopDir = [INTEROP, "/work/shared/interop"].find((d) => {
  try {
    return readdirSync(d).length > 0;
  } catch {
    return false;
  }
});

/** Files whose signature i xmlsec1 judges wrongly, with why (must stay exactly these). */
const KNOWN_XMLSEC1_DISAGREEMENTS: Record<string, string> = {
  "01_msg200_invoice_sent_for_code_seller_signed.xml#0": "libxml2's C14N adds xmlns=\"\" inside the SigningTime Object; xml-crypto (and .NET) verify it",
  "03_msg202_invoice_with_MCCQT_and_CQT_signature.xml#0": "the same seller signature as 01 (the invoice stamped): the same libxml2 xmlns=\"\" on its SigningTime Object",
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "hoadon-cli-"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** xmlsec1's verdict on the i-th Signature of the file (chain not checked: --insecure; Ids of every kind the messages use). */
function xmlsec1Verdict(file: string, i: number): boolean {
  const r = spawnSync(
    "xmlsec1",
    ["--verify", "--insecure", "--enabled-key-data", "x509", ...["DLHDon", "MCCQT", "DLTBao", "STBao", "DLieu", "TBao", "TKhai", "DLTKhai"].flatMap((a) => ["--id-attr:Id", a]),
      "--node-xpath", `(//*[local-name()='Signature' and namespace-uri()='http://www.w3.org/2000/09/xmldsig#'])[${i + 1}]`, file],
    { encoding: "utf8" },
  );
  return r.status === 0;
}

function compare(name: string, file: string): string[] {
  const ours = checkSignatures(readFileSync(file, "utf8"));
  return ours.flatMap((s, i) => (s.valid === xmlsec1Verdict(file, i) ? [] : [`${name}#${i}`]));
}

describe.skipIf(!xmlsec1Available() || !interopDir)("hoadon check against xmlsec1", () => {
  it("agrees on every signature of the real messages, but for the known xmlsec1 bug", () => {
    const files = readdirSync(interopDir!).filter((f) => f.endsWith(".xml")).sort();
    expect(files.length).toBeGreaterThanOrEqual(13);
    let signatures = 0;
    const disagreements: string[] = [];
    for (const f of files) {
      signatures += checkSignatures(readFileSync(join(interopDir!, f), "utf8")).length;
      disagreements.push(...compare(f, join(interopDir!, f)));
    }
    expect(signatures).toBe(12); // 01: 1, 03: 2, 05: 2, 06: 1, 07: 2, 08: 1, 09: 1, 11: 1, 13: 1
    expect(disagreements.sort()).toEqual(Object.keys(KNOWN_XMLSEC1_DISAGREEMENTS).sort());
    // Every signature of the real messages is valid (the interop README), and check says so.
    for (const f of files) for (const s of checkSignatures(readFileSync(join(interopDir!, f), "utf8"))) expect(s.valid, f).toBe(true);
  });

  it("agrees on the committed xmlsec1-signed fixtures, as signed and tampered", () => {
    const fixtures = join(ROOT, "test/fixtures/xmlsec1");
    const files = readdirSync(fixtures).filter((f) => f.endsWith(".xml"));
    expect(files.length).toBe(8);
    const disagreements: string[] = [];
    for (const f of files) {
      const xml = readFileSync(join(fixtures, f), "utf8");
      expect(checkSignatures(xml).map((x) => x.valid), f).toEqual([true]);
      disagreements.push(...compare(f, join(fixtures, f)));
      const tampered = join(dir, `tampered-${f}`);
      writeFileSync(tampered, xml.replace(/<TgTTTBChu>/, "<TgTTTBChu>x"));
      expect(checkSignatures(readFileSync(tampered, "utf8")).map((x) => x.valid), f).toEqual([false]);
      disagreements.push(...compare(`tampered-${f}`, tampered));
    }
    expect(disagreements).toEqual([]);
  });

  it("agrees on a generated corpus, signed by xml-crypto and by xmlsec1, valid and tampered", async () => {
    const rsa = await issueSellerCert({ taxCode: "0100000010", keyType: "rsa" });
    const ec = await issueSellerCert({ taxCode: "0100000010", keyType: "ec" });
    const cases: Array<{ name: string; xml: string }> = [];
    const variants: Array<{ cert: IssuedCert; c14n?: "exclusive"; prefix?: "ds"; xmlsec1?: boolean; objectEnveloped?: boolean }> = [
      { cert: rsa },
      { cert: ec },
      { cert: rsa, c14n: "exclusive" },
      { cert: ec, prefix: "ds" },
      { cert: rsa, xmlsec1: true },
      { cert: ec, xmlsec1: true },
      // enveloped-signature on the SigningTime Reference (2021 traffic; .NET vendors): digested as .NET and
      // xml-crypto do, as the service does; xmlsec1 digests an empty node-set (docs/security.md decisions).
      { cert: rsa, objectEnveloped: true },
    ];
    for (const [i, v] of variants.entries()) {
      const unsigned = buildInvoice({ sellerTaxCode: "0100000010", number: nextNumber() });
      const opts = { keyPem: v.cert.keyPem, certPem: v.cert.certPem, ...(v.c14n ? { c14n: v.c14n } : {}), ...(v.prefix ? { prefix: v.prefix } : {}), ...(v.objectEnveloped ? { objectEnveloped: true } : {}) };
      const signed = v.xmlsec1 ? signWithXmlsec1(unsigned, opts) : signInvoice(unsigned, opts);
      cases.push({ name: `v${i}`, xml: signed });
      cases.push({ name: `v${i}-tampered`, xml: signed.replace(/<SHDon>(\d+)<\/SHDon>/, (_, n: string) => `<SHDon>${Number(n) + 1}</SHDon>`) });
    }
    const disagreements: string[] = [];
    for (const c of cases) {
      const file = join(dir, `${c.name}.xml`);
      writeFileSync(file, c.xml);
      const ours = checkSignatures(c.xml);
      expect(ours.map((s) => s.role), c.name).toEqual(["seller"]);
      expect(ours[0]!.valid, c.name).toBe(!c.name.endsWith("tampered"));
      disagreements.push(...compare(c.name, file));
    }
    expect(disagreements).toEqual(["v6#0"]); // the enveloped-signature Object Reference, valid here, not for xmlsec1
  });
});

describe("the hoadon check command", () => {
  const bin = join(ROOT, "bin/hoadon.mjs");
  it("prints one JSON line per file in the issue's shape and exits 0 only when every file passes", async () => {
    const cert = await issueSellerCert({ taxCode: "0100000010", keyType: "rsa" });
    const good = join(dir, "good.xml");
    const bad = join(dir, "bad.xml");
    const signed = signInvoice(buildInvoice({ sellerTaxCode: "0100000010", number: nextNumber() }), { keyPem: cert.keyPem, certPem: cert.certPem });
    writeFileSync(good, signed);
    writeFileSync(bad, signed.replace("<TgTTTBChu>", "<TgTTTBChu>x"));
    const one = spawnSync(process.execPath, [bin, "check", "--json", good], { cwd: ROOT, encoding: "utf8" });
    expect(one.status, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({ file: good, ok: true, code: null, signatures: [{ role: "seller", valid: true }], faults: [] });

    const two = spawnSync(process.execPath, [bin, "check", "--json", good, bad], { cwd: ROOT, encoding: "utf8" });
    expect(two.status).toBe(1);
    const lines = two.stdout.trim().split("\n").map((l) => JSON.parse(l) as { file: string; ok: boolean; code: string | null; signatures: Array<{ valid: boolean; code?: string }>; faults: Array<{ code: string }> });
    expect(lines.map((l) => [l.file, l.ok, l.code])).toEqual([[good, true, null], [bad, false, "SIGNATURE_INVALID"]]);
    expect(lines[1]!.signatures).toEqual([expect.objectContaining({ role: "seller", valid: false, code: "SIGNATURE_INVALID", message: expect.any(String) })]);

    // An untrusted signer: the signature is valid, the certificate stage refuses; --no-trust skips it.
    const { makeTestCa } = await import("../helpers/pki.js");
    const ca = await makeTestCa();
    const stranger = await issueSellerCert({ taxCode: "0100000010", issuer: ca.issuing });
    const strange = join(dir, "stranger.xml");
    writeFileSync(strange, signInvoice(buildInvoice({ sellerTaxCode: "0100000010", number: nextNumber() }), { keyPem: stranger.keyPem, certPem: stranger.certPem }));
    const trusted = spawnSync(process.execPath, [bin, "check", "--json", strange], { cwd: ROOT, encoding: "utf8" });
    expect(trusted.status).toBe(1);
    expect(JSON.parse(trusted.stdout)).toMatchObject({ ok: false, code: "CERT_UNTRUSTED", signatures: [{ role: "seller", valid: true }] });
    const untrusted = spawnSync(process.execPath, [bin, "check", "--json", "--no-trust", strange], { cwd: ROOT, encoding: "utf8" });
    expect(untrusted.status).toBe(0);
  });
});
