/**
 * The gate's stage table (src/gate/stages.ts) against what the stages do: every refusal that
 * runGate throws names a stage, and every code among its faults is in that stage's row — over
 * generated invoices and each mutation of the differential (signed octets kept or changed), byte
 * mutations of signed invoices, crafted frames and profiles, certificates that fail each check,
 * and registrations in each state. Also: the table lists every stage of invoice-format.md §4 in
 * its order, and runGate stops at the stage it is asked to.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TIME_WINDOW } from "../../src/domain/rules.js";
import { ApiError, RefusalError } from "../../src/errors.js";
import { type GateDeps, GateRefusal, type Registry, runGate, STAGE_NAMES, STAGES, signatureVerdicts, stageRow } from "../../src/gate/index.js";
import { TrustStore } from "../../src/pki/trust.js";
import { loadTrust } from "../../src/pki/trust-files.js";
import type { CertificateRecord, RegisteredSeller } from "../../src/storage/store.js";
import { parseAnyRoot } from "../../src/xml/parse.js";
import { DEFAULT_LIMITS } from "../../src/xml/scan.js";
import { byteMutation, mutate } from "../fuzz/arbitraries.js";
import { C14N, ENVELOPED, reference, resign } from "../helpers/attacks.js";
import { finish, generateCase, MUTATIONS, prng, type SigningKey } from "../helpers/generate.js";
import { buildInvoice } from "../helpers/invoice.js";
import { signInvoice } from "../helpers/sign.js";
import { errorNotice, signNotice, tdiep } from "../helpers/tvan.js";

const certsDir = new URL("../../certs/", import.meta.url);
const read = (f: string) => readFileSync(new URL(f, certsDir), "utf8");
const RSA = { keyPem: read("seller-0100000010-rsa.key"), certPem: read("seller-0100000010-rsa.pem") };
const EC = { keyPem: read("seller-0310000024-ec.key"), certPem: read("seller-0310000024-ec.pem") };
const at = new Date("2026-11-20T10:00:00Z");
const INTEROP = new URL("../../../shared/interop/", import.meta.url).pathname;

let deps: GateDeps;
const registryOf = (state: "registered" | "unknown" | "suspended" | "uncertified"): Registry => ({
  seller: async (taxCode) => (state === "unknown" ? null : ({ taxCode, name: "S", status: state === "suspended" ? "suspended" : "active" } as unknown as RegisteredSeller)),
  certificate: async (_taxCode, fingerprint) => (state === "uncertified" ? null : ({ fingerprint, stoppedAt: null } as unknown as CertificateRecord)),
});

beforeAll(() => {
  const material = loadTrust({ anchorsPath: new URL("root-ca.pem", certsDir).pathname, intermediatesPath: new URL("intermediates.pem", certsDir).pathname, crlPaths: [new URL("issuing-ca.crl.pem", certsDir).pathname] });
  deps = { trust: new TrustStore(material), ...DEFAULT_TIME_WINDOW, allowSha1: false, limits: DEFAULT_LIMITS };
});

const seen = new Map<string, Set<string>>();

/** Runs the gate; a refusal must be a GateRefusal (or the FORBIDDEN of another seller's key) whose codes are all in its stage's row. */
async function judge(body: string | Uint8Array, registry: Registry = registryOf("registered"), submitterTaxCode?: string): Promise<string | null> {
  try {
    await runGate(deps, body, { receivedAt: at, registry, submitterTaxCode });
    return null;
  } catch (e) {
    if (!(e instanceof GateRefusal)) {
      // A refusal of the domain (no HTTP status), never the edge's ApiError.
      expect(e).toBeInstanceOf(RefusalError);
      expect(e).not.toBeInstanceOf(ApiError);
      expect((e as RefusalError).code).toBe("FORBIDDEN");
      return "certificate:FORBIDDEN";
    }
    for (const f of e.details) {
      expect(stageRow(e.stage).codes, `${e.stage} refused with ${f.code}: ${f.message}`).toContain(f.code);
      const s = seen.get(e.stage) ?? new Set<string>();
      s.add(f.code);
      seen.set(e.stage, s);
    }
    return `${e.stage}:${e.code}`;
  }
}

const signed = (opts: Parameters<typeof buildInvoice>[0] = {}, key = RSA) =>
  signInvoice(buildInvoice({ sellerTaxCode: key === RSA ? "0100000010" : "0310000024", issueDate: "2026-11-20", ...opts }), { ...key, signingTime: "2026-11-20T09:00:00" } as never);

describe("the stage table", () => {
  it("names the stages of invoice-format.md §4 in order, each once", () => {
    expect(STAGE_NAMES).toEqual(["size", "parse", "frame", "profile", "signature", "certificate", "schema", "rules", "duplicates", "code", "stamp", "store"]);
    for (const s of STAGES) expect(new Set(s.codes).size).toBe(s.codes.length);
  });

  it("accepts a valid invoice through every per-document stage, and stops where it is asked", async () => {
    const xml = signed();
    expect(await judge(xml)).toBeNull();
    for (const until of ["size", "parse", "frame", "profile", "signature", "certificate", "schema", "rules"] as const) {
      const g = await runGate(deps, xml, { receivedAt: at, registry: registryOf("registered"), until });
      expect(g.passed).toBe(until);
    }
    // A dry run up to the signature needs no registration at all.
    const g = await runGate(deps, xml, { receivedAt: at, registry: registryOf("unknown"), until: "signature" });
    expect(g.verified?.signingTime?.toISOString()).toBe("2026-11-20T02:00:00.000Z");
  });
});

describe("every code a stage throws is in its row", () => {
  it("on crafted documents of each stage", async () => {
    const good = signed();
    const cases: [string, string][] = [
      ["x".repeat(DEFAULT_LIMITS.maxBytes + 1), "size:PAYLOAD_TOO_LARGE"],
      ["<HDon><!-- c --></HDon>", "parse:XML_FORBIDDEN_CONSTRUCT"],
      ["<HDon><a></b></HDon>", "parse:XML_MALFORMED"],
      ["<HDon><DSCKS/></HDon>", "frame:SCHEMA_INVALID"],
      [good.replace("<DSCKS>", "<MCCQT>00</MCCQT><DSCKS>"), "frame:CODE_ALREADY_PRESENT"],
      [good.replace(/<Signature[\s\S]*<\/Signature>/, ""), "profile:SIGNATURE_MISSING"],
      [good.replace("rsa-sha256", "rsa-sha1"), "profile:ALGORITHM_NOT_ALLOWED"],
      [good.replace(/(<DigestValue>)./, (_m, p: string) => `${p}${good.includes("<DigestValue>A") ? "B" : "A"}`), "signature:SIGNATURE_INVALID"],
      [good.replace(/(<SHDon>)(\d)/, (_, t: string, d: string) => `${t}${(Number(d) + 1) % 10}`), "signature:SIGNATURE_INVALID"],
    ];
    for (const [xml, expected] of cases) expect(await judge(xml), expected).toBe(expected);
  });

  it("on certificates and registrations that fail each check", async () => {
    const good = signed();
    expect(await judge(good, registryOf("unknown"))).toBe("certificate:SELLER_NOT_REGISTERED");
    expect(await judge(good, registryOf("suspended"))).toBe("certificate:SELLER_SUSPENDED");
    expect(await judge(good, registryOf("uncertified"))).toBe("certificate:CERT_NOT_REGISTERED");
    expect(await judge(good, registryOf("registered"), "0310000024")).toBe("certificate:FORBIDDEN");
    for (const name of ["expired", "revoked", "nokeyusage", "notyet"]) {
      const k = { keyPem: read(`seller-0100000010-${name}.key`), certPem: read(`seller-0100000010-${name}.pem`) };
      const verdict = await judge(signed({}, k as typeof RSA));
      expect(verdict?.startsWith("certificate:CERT_"), `${name}: ${verdict}`).toBe(true);
    }
    const future = signInvoice(buildInvoice({ sellerTaxCode: "0100000010", issueDate: "2026-11-20" }), { ...RSA, signingTime: "2026-11-21T09:00:00" } as never);
    expect(await judge(future)).toBe("rules:SIGNING_TIME_OUT_OF_RANGE");
  });

  it("on schema and rule faults", async () => {
    expect(await judge(signed({ issueDate: "2026-12-01" }))).toBe("rules:ISSUE_DATE_IN_FUTURE");
    expect(await judge(signed({ overrides: { TgTTTBSo: "1" } } as never))).toBe("rules:TOTALS_MISMATCH");
    const extra = signInvoice(buildInvoice({ sellerTaxCode: "0100000010", issueDate: "2026-11-20" }).replace("</TTChung>", "<Unknown>1</Unknown></TTChung>"), { ...RSA, signingTime: "2026-11-20T09:00:00" } as never);
    expect(await judge(extra)).toBe("schema:SCHEMA_INVALID");
  });

  it("on generated invoices and every mutation of the differential", async () => {
    const keys: SigningKey[] = [
      { name: "rsa", type: "rsa", taxCode: "0100000010", ...RSA },
      { name: "ec", type: "ec", taxCode: "0310000024", ...EC },
    ];
    const seed = 20261120;
    for (let i = 0; i < 12; i++) {
      const c = generateCase(seed, i, keys);
      const xml = finish(signInvoice(c.unsigned, c.sign), c.variant);
      await judge(xml);
      const r = prng(seed + i);
      for (const m of MUTATIONS) {
        const mutated = m.apply(xml, r);
        if (mutated !== null) await judge(mutated);
      }
    }
  });

  it("on byte mutations of signed invoices", async () => {
    const seeds = [signed(), signed({}, EC)].map((x) => Buffer.from(x));
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 1 }), fc.array(byteMutation, { minLength: 1, maxLength: 4 }), async (i, ops) => {
        await judge(mutate(seeds[i]!, ops));
      }),
      { numRuns: 150, seed: 20261120 },
    );
    // The runs above went through most stages' refusals.
    expect([...seen.keys()].length).toBeGreaterThanOrEqual(6);
  });
});

describe("signatureVerdicts", () => {
  it("reports the seller's signature valid, and invalid once its data changed", async () => {
    const good = signed();
    const g = await runGate(deps, good, { receivedAt: at, registry: registryOf("registered"), until: "frame" });
    expect(signatureVerdicts(g.doc!, false).map((v) => [v.role, v.valid])).toEqual([["seller", true]]);
    const bad = await runGate(deps, good.replace(/(<SHDon>)(\d)/, (_, t: string, d: string) => `${t}${(Number(d) + 1) % 10}`), { receivedAt: at, registry: registryOf("registered"), until: "frame" });
    const v = signatureVerdicts(bad.doc!, false);
    expect(v.map((x) => [x.role, x.valid, x.faults[0]?.code])).toEqual([["seller", false, "SIGNATURE_INVALID"]]);
  });

  const verdicts = (xml: string, allowSha1 = false) => {
    const p = parseAnyRoot(xml);
    if (!p.ok) throw new Error(p.faults[0]!.message);
    return signatureVerdicts(p.value, allowSha1).map((v) => [v.place, v.role, v.valid, v.faults[0]?.code ?? null]);
  };

  it("reports every signature of any document on its own, by its place: invoices in a TDiep, notices, a stray one", () => {
    const hdon = (id: string, tamper = false) => {
      const x = signInvoice(buildInvoice({ sellerTaxCode: "0100000010", dlhdonId: id }), RSA).replace(/^<\?xml[^>]*\?>/, "");
      return tamper ? x.replace(/(<SHDon>)(\d)/, (_, t: string, d: string) => `${t}${(Number(d) + 1) % 10}`) : x;
    };
    // Two invoices in one DLieu: each seller signature judged against its own HDon.
    expect(verdicts(`<TDiep><DLieu>${hdon("a")}${hdon("b", true)}</DLieu></TDiep>`)).toEqual([
      ["TDiep/DLieu/HDon/DSCKS/NBan", "seller", true, null],
      ["TDiep/DLieu/HDon/DSCKS/NBan", "seller", false, "SIGNATURE_INVALID"],
    ]);
    // The seller's signature moved under the buyer: a valid signature of the buyer's place; the seller has none.
    const moved = hdon("c").replace(/<NBan>(<Signature[\s\S]*<\/Signature>)<\/NBan><\/DSCKS>/, "<NBan/><NMua>$1</NMua></DSCKS>");
    expect(verdicts(moved)).toEqual([["HDon/DSCKS/NMua", "buyer", true, null]]);
    // A copy directly under HDon: the frame refuses the invoice, so neither signature is valid (a wrapping signal).
    const stray = hdon("d").replace(/(<Signature[\s\S]*<\/Signature>)<\/NBan><\/DSCKS>/, (_, sig: string) => `${sig}</NBan></DSCKS>${sig.replace(/Id="/g, 'Id="x-')}`);
    expect(verdicts(stray).map((v) => [v[1], v[2], v[3]])).toEqual([
      ["seller", false, "SIGNATURE_PROFILE"],
      ["other", false, "SIGNATURE_PROFILE"],
    ]);
  });

  it("reports a taxpayer's signature on an error notice (TBao/DSCKS/NNT) under the T-VAN channel's profile", () => {
    const entry = { code: "00AB12CD34EF5678901234567890ABCDEF", symbol: "C26TAA", number: 7, issueDate: "2026-11-20", action: "1", reason: "Hủy" };
    const notice = tdiep("300", signNotice(errorNotice("0100000010", [entry]), RSA), { mst: "0100000010" }).xml;
    expect(verdicts(notice)).toEqual([["TDiep/DLieu/TBao/DSCKS/NNT", "seller", true, null]]);
    expect(verdicts(notice.replace("<LDo>Hủy", "<LDo>Hủy bỏ"))).toEqual([["TDiep/DLieu/TBao/DSCKS/NNT", "seller", false, "SIGNATURE_INVALID"]]);
    // Correctly re-signed with a third Reference, to the envelope's DLieu: valid for a signature of no
    // particular place, refused for the taxpayer's (DLTBao and its own Object only).
    const nnt = (doc: Document) => Array.from(doc.getElementsByTagNameNS("http://www.w3.org/2000/09/xmldsig#", "Signature"))[0]!;
    const wider = (xml: string) =>
      resign(xml, RSA.keyPem, ({ doc, signedInfo }) => {
        doc.getElementsByTagName("DLieu")[0]!.setAttribute("Id", "all");
        signedInfo.appendChild(reference(doc, signedInfo, "#all", [ENVELOPED, C14N]));
      }, { signature: nnt });
    expect(verdicts(wider(notice))).toEqual([["TDiep/DLieu/TBao/DSCKS/NNT", "seller", false, "SIGNATURE_PROFILE"]]);
    expect(verdicts(wider(notice.replace(/<NNT>([\s\S]*)<\/NNT>/, "<CCKSKhac>$1</CCKSKhac>")))).toEqual([["TDiep/DLieu/TBao/DSCKS/CCKSKhac", "other", true, null]]);
  });

  it.skipIf(!existsSync(INTEROP))("reports the real messages' signatures: the tax office's on notices, the taxpayer's CKSNNT on a 206", () => {
    const of = (f: string) => verdicts(readFileSync(join(INTEROP, f), "utf8"), true);
    expect(of("07_msg103_registration_not_accepted_MLoi2003_01TBDKDT.xml")).toEqual([
      ["TDiep/DLieu/TBao/DSCKS/TTCQT", "authority", true, null],
      ["TDiep/DLieu/TBao/DSCKS/CQT", "authority", true, null],
    ]);
    expect(of("09_msg206_cash_register_invoice_CKSNNT_signed.xml")).toEqual([["TDiep/CKSNNT", "seller", true, null]]);
    expect(of("03_msg202_invoice_with_MCCQT_and_CQT_signature.xml").map((v) => [v[1], v[2]])).toEqual([["seller", true], ["authority", true]]);
    // SHA-1 stays refused unless allowed.
    expect(verdicts(readFileSync(join(INTEROP, "07_msg103_registration_not_accepted_MLoi2003_01TBDKDT.xml"), "utf8"))[1]).toEqual(["TDiep/DLieu/TBao/DSCKS/CQT", "authority", false, "ALGORITHM_NOT_ALLOWED"]);
    // A notice whose DLTBao changed: its signatures refuse.
    const changed = readFileSync(join(INTEROP, "06_msg102_registration_received_THop1_01TBTNDT.xml"), "utf8").replace("<DDanh>Hải Phòng", "<DDanh>Hà Nội");
    expect(verdicts(changed)).toEqual([["TDiep/DLieu/TBao/DSCKS/CQT", "authority", false, "SIGNATURE_INVALID"]]);
  });
});

describe("a refusal's list of faults", () => {
  it("names at most MAX_FAULTS faults and counts the rest in one last fault of the first fault's code", async () => {
    const { MAX_FAULTS, schemaStageForTest } = await faultsFixture();
    const many = schemaStageForTest(MAX_FAULTS * 3);
    expect(many.details).toHaveLength(MAX_FAULTS + 1);
    expect(many.details.slice(0, MAX_FAULTS).every((f) => f.code === "SCHEMA_INVALID" && f.path !== undefined)).toBe(true);
    expect(many.details[MAX_FAULTS]!.code).toBe("SCHEMA_INVALID");
    expect(many.details[MAX_FAULTS]!.message).toMatch(new RegExp(`^\\d+ more faults not listed`));
    const few = schemaStageForTest(3);
    expect(few.details.length).toBeLessThanOrEqual(MAX_FAULTS);
    expect(few.details.some((f) => /more faults not listed/i.test(f.message))).toBe(false);
  });

  it("stops the schema's walk past MAX_FAULTS of its faults, lists the same first ones, and says more follow uncounted", async () => {
    const { MAX_FAULTS } = await faultsFixture();
    const { schemaStage } = await import("../../src/gate/schema.js");
    const { readInvoice } = await import("../../src/domain/invoice.js");
    // Faults of the walk (namespaced elements, attributes) interleaved, then an unknown element: whatever comes after the 101st is never listed.
    const parts = Array.from({ length: MAX_FAULTS * 4 }, (_, i) => (i % 3 === 0 ? `<x:E${i} xmlns:x="urn:x"/>` : i % 3 === 1 ? `<NLap a${i}="1">2026-01-01</NLap>` : `<Q${i}/>`));
    const parsed = parseAnyRoot(`<DLHDon Id="data">${parts.join("")}</DLHDon>`);
    if (!parsed.ok) throw new Error("fixture does not parse");
    const full = readInvoice(parsed.value.root);
    const cut = readInvoice(parsed.value.root, { maxFaults: MAX_FAULTS });
    expect(full.ok || cut.ok).toBe(false);
    if (full.ok || cut.ok) return;
    expect(full.faults.length).toBeGreaterThan(2 * MAX_FAULTS);
    expect("stopped" in cut && cut.stopped).toBe(true);
    expect(cut.faults.length).toBeGreaterThan(MAX_FAULTS);
    expect(cut.faults.length).toBeLessThan(MAX_FAULTS + 5);
    expect(cut.faults.slice(0, MAX_FAULTS)).toEqual(full.faults.slice(0, MAX_FAULTS));
    let refusal: GateRefusal | undefined;
    try {
      schemaStage(parsed.value.root);
    } catch (e) {
      if (e instanceof GateRefusal) refusal = e;
    }
    expect(refusal?.details).toHaveLength(MAX_FAULTS + 1);
    expect(refusal!.details.slice(0, MAX_FAULTS)).toEqual(full.faults.slice(0, MAX_FAULTS));
    expect(refusal!.details[MAX_FAULTS]!.message).toMatch(/^More faults not listed \(a refusal lists the first 100, and the stage stops looking past them\)\.$/);
    // A document with fewer faults of the walk is read to its end: the count is exact.
    const few = parseAnyRoot(`<DLHDon Id="data"><x:E xmlns:x="urn:x"/>${"<Q/>".repeat(5)}</DLHDon>`);
    if (!few.ok) throw new Error("fixture does not parse");
    const read = readInvoice(few.value.root, { maxFaults: MAX_FAULTS });
    expect(!read.ok && !("stopped" in read)).toBe(true);
  });
});

/** A DLHDon with `n` unknown elements, through the schema stage: its refusal. */
async function faultsFixture() {
  const { MAX_FAULTS } = await import("../../src/gate/stages.js");
  const { schemaStage } = await import("../../src/gate/schema.js");
  const schemaStageForTest = (n: number): GateRefusal => {
    const extra = Array.from({ length: n }, (_, i) => `<Bogus${i}>x</Bogus${i}>`).join("");
    const parsed = parseAnyRoot(`<DLHDon Id="data">${extra}</DLHDon>`);
    if (!parsed.ok) throw new Error("fixture does not parse");
    try {
      schemaStage(parsed.value.root);
    } catch (e) {
      if (e instanceof GateRefusal) return e;
      throw e;
    }
    throw new Error("schema stage accepted a DLHDon of unknown elements");
  };
  return { MAX_FAULTS, schemaStageForTest };
}
