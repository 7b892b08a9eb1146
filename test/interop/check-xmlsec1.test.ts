/**
 * `hoadon check` agrees with xmlsec1 on every signature (issue 16, "Done when"): for every file of
 * (1) ../shared/interop (real messages of 2021 and 2025–26), (2) a generated corpus
 * (test/helpers/generate.ts, signed by the project's signer and by xmlsec1, valid and mutated;
 * invoices stamped by the service's code; scripts/make-verify-corpus.ts) and (3) the attack
 * corpus (test/helpers/attack-corpus.ts, adversarial.ts, and who-signed cases of
 * attacks-trust.test.ts; each document written to a temp dir), `hoadon check --json --no-trust`
 * runs as a user runs it (node bin/hoadon.mjs, many files per run) and `xmlsec1 --verify` judges
 * each Signature (--node-xpath by its index; batches of files with the same index and Id
 * attributes), on the certificate of the signature's own KeyInfo (--insecure: no chain;
 * --enabled-key-data x509), with --id-attr for every element that carries an Id in that file,
 * and same-document References only (--enabled-reference-uris empty,same-doc: the attack corpus
 * names http: and file: URIs, and a test fetches nothing). Their verdicts must be equal signature
 * by signature, except where a row of DIFFERENCES explains the difference: a named class, the
 * reason, and a predicate that picks exactly its cases; every row must be used, so the table
 * cannot hide a fixed difference either. Then the command itself: the JSON shape, exit codes, a
 * TDiep with two invoices, `hoadon verify --authority-cert`, and trust material (anchors,
 * intermediates, CRLs, --at) on signed fixtures. HOADON_CHECK_GENERATED sizes the generated corpus.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOMParser } from "@xmldom/xmldom";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorityKeyFromPem } from "../../src/authority.js";
import { generateDevAuthority } from "../../src/secrets.js";
import { C14N, digestBase64 } from "../../src/xml/algorithms.js";
import { canonicalize } from "../../src/xml/canonical.js";
import { readInvoiceDocument } from "../../src/xml/invoice-document.js";
import { parseXml } from "../../src/xml/parse.js";
import { stamp } from "../../src/xml/stamp.js";
import { ADVERSARIAL } from "../helpers/adversarial.js";
import { type Attack, type AttackContext, SIGNATURE_ATTACKS, XML_ATTACKS } from "../helpers/attack-corpus.js";
import { finish, generateCase, mutationsFor, prng, type SigningKey } from "../helpers/generate.js";
import { buildInvoice, nextNumber, todayGmt7 } from "../helpers/invoice.js";
import { issueCertificate, issueSellerCert, makeTestCa } from "../helpers/pki.js";
import { ROOT } from "../helpers/process.js";
import { nowGmt7, type SignOptions, signInvoice, signManyWithXmlsec1, xmlsec1Available } from "../helpers/sign.js";
import { errorNotice, registrationForm, signForm, signFormWithXmlsec1, signNotice, tdiep } from "../helpers/tvan.js";

const DSIG = "http://www.w3.org/2000/09/xmldsig#";
const BIN = join(ROOT, "bin/hoadon.mjs");
const INTEROP = [join(ROOT, "../shared/interop"), "/work/shared/interop"].find((d) => {
  try {
    return readdirSync(d).some((f) => f.endsWith(".xml"));
  } catch {
    return false;
  }
});
const CERTS = join(ROOT, "certs");
/** Generated invoices (each also mutated twice): enough to hold every signer, algorithm and C14N, small enough for CI. */
const GENERATED = Number(process.env.HOADON_CHECK_GENERATED ?? 24);
const read = (f: string) => readFileSync(join(CERTS, f), "utf8");

interface Sig {
  role: string;
  valid: boolean;
  code?: string;
  message?: string;
}
interface Line {
  file: string;
  ok: boolean;
  code: string | null;
  signatures: Sig[];
  faults: { code: string; message: string; path?: string }[];
}

/** `hoadon check --json FLAGS FILES` through bin/hoadon.mjs: one line per file, in order. */
function hoadonCheck(files: string[], flags: string[]): { status: number | null; lines: Line[] } {
  const r = spawnSync(process.execPath, [BIN, "check", "--json", ...flags, ...files], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
  const lines = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Line);
  expect(lines.map((l) => l.file), r.stderr).toEqual(files);
  return { status: r.status, lines };
}

/** What xmlsec1 needs to know of a file: each ds:Signature (document order) and every element that carries an Id (by the oracle's parse, @xmldom). */
function shape(xml: string): { signatures: Element[]; idAttrs: string[][] } | null {
  let doc: Document;
  try {
    doc = new DOMParser({ onError: () => {} }).parseFromString(xml, "application/xml") as unknown as Document;
  } catch {
    return null; // not one XML document (two roots): see compare
  }
  const all = Array.from(doc.getElementsByTagName("*"));
  const ids = new Set<string>();
  for (const e of all) for (const a of ["Id", "ID", "id"]) if (e.hasAttribute(a)) ids.add(`${a} ${e.namespaceURI ? `${e.namespaceURI}:` : ""}${e.localName}`);
  return { signatures: all.filter((e) => e.localName === "Signature" && e.namespaceURI === DSIG), idAttrs: [...ids].map((s) => s.split(" ")) };
}

/** xmlsec1's arguments for the i-th Signature (chain not checked; the KeyInfo's X509 certificate; same-document References only). */
function xmlsec1Args(i: number, idAttrs: string[][]): string[] {
  const args = ["--verify", "--insecure", "--enabled-key-data", "x509", "--enabled-reference-uris", "empty,same-doc"];
  for (const [attr, el] of idAttrs) args.push(`--id-attr:${attr}`, el!);
  args.push("--node-xpath", `(//*[local-name()='Signature' and namespace-uri()='${DSIG}'])[${i + 1}]`);
  return args;
}

/** Runs xmlsec1 over files; answers how many passed before the first that failed (xmlsec1 stops there). */
function xmlsec1Run(args: string[], files: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn("xmlsec1", [...args, ...files]);
    let out = "";
    p.stdout.on("data", (b: Buffer) => (out += b.toString("utf8")));
    p.stderr.on("data", (b: Buffer) => (out += b.toString("utf8")));
    p.on("error", reject);
    p.on("close", (status) => {
      const oks = (out.match(/^OK$/gm) ?? []).length;
      if (status === 0 && oks !== files.length) reject(new Error(`xmlsec1: ${oks} OK for ${files.length} files`));
      else resolve(status === 0 ? files.length : oks);
    });
  });
}

/** xmlsec1's verdict on the i-th Signature of each file (with the same Id attributes), in as few runs as it can: one run over many files, started again after each failure. */
async function xmlsec1Verdicts(files: string[], i: number, idAttrs: string[][]): Promise<boolean[]> {
  const args = xmlsec1Args(i, idAttrs);
  const verdicts = new Array<boolean>(files.length).fill(false);
  for (let start = 0; start < files.length; ) {
    const passed = await xmlsec1Run(args, files.slice(start));
    for (let k = 0; k < passed; k++) verdicts[start + k] = true;
    start += passed + 1;
  }
  return verdicts;
}

/** xmlsec1's verdict on the i-th Signature of one file. */
const xmlsec1 = async (file: string, i: number, idAttrs: string[][]): Promise<boolean> => (await xmlsec1Verdicts([file], i, idAttrs))[0]!;

interface Case {
  /** Which corpus, and the document's name in it. */
  corpus: "interop" | "generated" | "attack";
  name: string;
  file: string;
  xml: string;
  /** For attacks: the code the gate refuses it with. */
  code?: string;
}

interface Compared {
  c: Case;
  /** Index of the Signature in document order. */
  i: number;
  /** Ours: the signature's report; null when check read no signature (the file refused at parse). */
  ours: Sig | null;
  fileCode: string | null;
  xmlsec1: boolean;
  /** The signature element (oracle's parse), for the predicates. */
  el: Element;
}

const refsOf = (sig: Element) => Array.from(sig.getElementsByTagNameNS(DSIG, "Reference")).filter((r) => r.parentNode === sig.getElementsByTagNameNS(DSIG, "SignedInfo")[0]);
const transformsOf = (ref: Element) => Array.from(ref.getElementsByTagNameNS(DSIG, "Transform")).map((t) => t.getAttribute("Algorithm") ?? "");
/** A Reference to an Object of the signature itself, with the enveloped-signature transform. */
const envelopedObjectReference = (sig: Element) =>
  refsOf(sig).some((r) => {
    const id = (r.getAttribute("URI") ?? "").slice(1);
    const own = Array.from(sig.childNodes).some((n) => (n as Element).localName === "Object" && (n as Element).getAttribute?.("Id") === id);
    return own && transformsOf(r).includes(`${DSIG}enveloped-signature`);
  });
const usesSha1 = (sig: Element) =>
  Array.from(sig.getElementsByTagNameNS(DSIG, "*")).some((e) => /#(rsa-)?sha1$/.test((e.getAttribute("Algorithm") ?? "").trim()) && (e.localName === "SignatureMethod" || e.localName === "DigestMethod"));
const attackNamed = (x: Compared, ...names: string[]) => x.c.corpus === "attack" && names.some((n) => x.c.name.startsWith(n));

/**
 * Where check and xmlsec1 legitimately differ. Each row: the class, why, which side says valid,
 * and the predicate that picks its cases (never "any attack" or "any file").
 */
const DIFFERENCES: { name: string; reason: string; ours: boolean; xmlsec1: boolean; applies: (x: Compared) => boolean }[] = [
  {
    name: "SHA-1 refused by default",
    reason:
      "the profile refuses rsa-sha1 and sha1 digests (ALGORITHM_NOT_ALLOWED) unless --allow-sha1 (HOADON_ALLOW_SHA1); xmlsec1 verifies them. With --allow-sha1 the real messages agree (second test).",
    ours: false,
    xmlsec1: true,
    applies: (x) => x.ours?.code === "ALGORITHM_NOT_ALLOWED" && usesSha1(x.el),
  },
  {
    name: "enveloped-signature on the Reference to the signature's own Object",
    reason:
      "by the XMLDSig text the transform removes the whole Signature, so the Object inside it digests as nothing: xmlsec1 does that " +
      "(its --store-references shows an empty pre-digest buffer for 01's #SigningTime) and refuses what the signers made (samples 01 and 03, " +
      ".NET's SignedXml); check, like .NET and xml-crypto, digests the Object (docs/security.md), and the real 2021 signatures verify",
    ours: true,
    xmlsec1: false,
    applies: (x) => x.ours?.valid === true && envelopedObjectReference(x.el),
  },
  {
    name: "SigningTime forged under a spec-literal enveloped Object Reference",
    reason:
      "the attack's Object Reference carries the digest of empty output: xmlsec1, reading enveloped-signature literally, accepts any SigningTime in it; check digests the Object and refuses (SIGNATURE_INVALID)",
    ours: false,
    xmlsec1: true,
    applies: (x) => attackNamed(x, "a SigningTime Reference whose digest is that of empty canonical output") && x.ours?.code === "SIGNATURE_INVALID",
  },
  {
    name: "References to other than the seller profile's targets",
    reason:
      "the attacker re-signed, so xmlsec1 verifies whatever the References name; the seller's profile (invoice-format.md §4) requires " +
      "one Reference to DLHDon itself, by #Id, and at most one more to the signature's own SigningTime Object, so that the data the rules " +
      "read is the data signed (SIGNATURE_PROFILE)",
    ours: false,
    xmlsec1: true,
    applies: (x) =>
      x.ours?.code === "SIGNATURE_PROFILE" &&
      attackNamed(
        x,
        "a correctly re-signed Reference to TTChung",
        "a correctly re-signed Reference to NDHDon",
        "a correctly re-signed Reference to the HDon root",
        "a correctly re-signed Reference to DSCKS",
        "a Reference to the buyer's signature Object instead of the seller's own",
        "an empty Reference URI",
        "a Reference without a URI",
        `the external or non-Id Reference URI "#xpointer(id('SigningData'))"`,
        "a third Reference",
        "two References to DLHDon",
        "the Object Reference alone",
      ),
  },
  {
    name: "An Id value repeated under a prefixed attribute",
    reason:
      "xmlsec1 resolves #Id through the registered Id attribute only, so a wsu:Id decoy with DLHDon's value changes nothing for it; " +
      "xml-crypto resolves by local name and would find the decoy, so the profile wants every Id-like value unique in the document (SIGNATURE_PROFILE)",
    ours: false,
    xmlsec1: true,
    applies: (x) => x.ours?.code === "SIGNATURE_PROFILE" && attackNamed(x, "an Id in another namespace (wsu:Id)"),
  },
  {
    name: "Signatures where the invoice's frame allows none",
    reason:
      "xmlsec1 verifies each signature alone, and a copied signature verifies; the gate's frame refuses an HDon with a Signature outside " +
      "DSCKS/NBan, NMua, CQT or CCKSKhac, or two under NBan (a wrapping signal), and check reports each signature of that HDon with the frame's SIGNATURE_PROFILE",
    ours: false,
    xmlsec1: true,
    applies: (x) =>
      x.ours?.code === "SIGNATURE_PROFILE" &&
      attackNamed(x, "two Signatures under DSCKS/NBan", "a Signature directly under HDon", "a Signature directly under DSCKS", "a Signature inside the seller signature's Object", "a Signature inside DSCKS/NMua/X"),
  },
  {
    name: "KeyInfo/RetrievalMethod",
    reason: "xmlsec1 (x509 key data only, as configured here) skips the RetrievalMethod and uses the X509Certificate; the profile refuses any KeyInfo child that would fetch a key from elsewhere (SIGNATURE_PROFILE)",
    ours: false,
    xmlsec1: true,
    applies: (x) => x.ours?.code === "SIGNATURE_PROFILE" && attackNamed(x, "KeyInfo/RetrievalMethod"),
  },
  {
    name: "Algorithms off the allow-list that xmlsec1 implements",
    reason:
      "xmlsec1 verifies rsa-md5, md5 digests and C14N 1.1; the profile allows rsa/ecdsa with sha256/384/512 (sha1 on request), C14N 1.0 and exclusive C14N only (invoice-format.md §4; ALGORITHM_NOT_ALLOWED)",
    ours: false,
    xmlsec1: true,
    applies: (x) => x.ours?.code === "ALGORITHM_NOT_ALLOWED" && attackNamed(x, "rsa-md5 and md5 digests", "an md5 digest under rsa-sha256", "an unknown CanonicalizationMethod URI"),
  },
  {
    name: "The signer among several KeyInfo certificates",
    reason:
      "software lists certificates in any order, so check tries up to four KeyInfo certificates for the key that verifies the SignatureValue, " +
      "and the certificate stage then judges that one (an attacker's self-signed: CERT_UNTRUSTED, test/api/attacks-trust.test.ts); " +
      "xmlsec1 takes one leaf of the X509Data and fails when another made the signature",
    ours: true,
    xmlsec1: false,
    applies: (x) => x.ours?.valid === true && attackNamed(x, "the seller's certificate first in KeyInfo, the signature made by the second"),
  },
  {
    name: "Documents the parse stage refuses",
    reason:
      "libxml2 reads comments, processing instructions and DOCTYPEs: C14N without comments drops a comment inside signed data, base64 text " +
      "is read around one inside a value, and outside the root or the signed element they are not digested, so xmlsec1 verifies; the gate " +
      "refuses them at parse (XML_FORBIDDEN_CONSTRUCT) before any signature is read, and check reports the file's fault and no signature " +
      "(a processing instruction inside signed data, an entity's text, a second root: xmlsec1 refuses too)",
    ours: false,
    xmlsec1: true,
    applies: (x) =>
      x.ours === null &&
      x.fileCode === "XML_FORBIDDEN_CONSTRUCT" &&
      attackNamed(
        x,
        "a comment inside DigestValue",
        "a comment inside SignatureValue",
        "a comment splitting a signed amount",
        "a comment splitting the seller's tax code",
        "a comment before the root",
        "a comment after the root",
        "a comment inside X509Certificate",
        "a processing instruction before the root",
        "a processing instruction inside SignatureValue",
        "a processing instruction after the root",
        "a bare DOCTYPE",
        "an ATTLIST that declares a default Id",
      ),
  },
];

/** A seller-signed invoice stamped as the service stamps it, by an RSA and by an EC authority; `authorities` keeps their certificates. */
const authorities: string[] = [];
async function stampedInvoices(): Promise<string[]> {
  const out: string[] = [];
  for (const type of ["rsa", "ec"] as const) {
    const dev = await generateDevAuthority(type);
    authorities.push(dev.certPem);
    const signed = signInvoice(buildInvoice({ sellerTaxCode: "0100000010", number: nextNumber() }), { keyPem: read("seller-0100000010-rsa.key"), certPem: read("seller-0100000010-rsa.pem") });
    const parsed = parseXml(signed, "HDon");
    if (!parsed.ok) throw new Error(parsed.faults[0]!.message);
    const doc = readInvoiceDocument(parsed.value);
    if (!doc.ok) throw new Error(doc.faults[0]!.message);
    const code = randomBytes(17).toString("hex").toUpperCase();
    out.push(stamp(doc.value, code, new Date(), authorityKeyFromPem(dev.keyPem, dev.certPem), digestBase64("sha256", canonicalize(doc.value.dlhdon, C14N)), null).xml);
  }
  return out;
}

let dir: string;
const cases: Case[] = [];
const put = (c: Omit<Case, "file">): Case => {
  const file = join(dir, `${cases.length.toString().padStart(3, "0")}.xml`);
  writeFileSync(file, c.xml);
  const full = { ...c, file };
  cases.push(full);
  return full;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "hoadon-check-xmlsec1-"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs both verifiers over the cases and returns each signature's pair of verdicts. */
async function compare(list: Case[], flags: string[] = ["--no-trust"]): Promise<{ compared: Compared[]; lines: Line[] }> {
  const { lines } = hoadonCheck(
    list.map((c) => c.file),
    flags,
  );
  const jobs: { c: Case; i: number; line: Line; el: Element; idAttrs: string[][] }[] = [];
  const unreadable: { c: Case; line: Line }[] = [];
  list.forEach((c, k) => {
    const line = lines[k]!;
    const read = shape(c.xml);
    if (!read) return void unreadable.push({ c, line });
    const { signatures, idAttrs } = read;
    // Check reads every signature the oracle finds, or none when it refused the file at parse.
    if (line.signatures.length !== signatures.length) expect(line.signatures.length, `${c.name}: ${JSON.stringify(line)}`).toBe(0);
    signatures.forEach((el, i) => jobs.push({ c, i, line, el, idAttrs }));
  });
  // Not one XML document for the oracle: check reads no signature in it, and neither does xmlsec1 (libxml2 refuses the document).
  for (const { c, line } of unreadable) {
    expect(line.signatures, c.name).toEqual([]);
    expect(await xmlsec1(c.file, 0, []), `xmlsec1 on ${c.name}`).toBe(false);
  }
  // Per Signature index and set of Id attributes (each file's own: xmlsec1 matches --id-attr by
  // local name, so another file's list could change a verdict), one batch in two halves.
  const compared: Compared[] = [];
  const groups = new Map<string, typeof jobs>();
  for (const j of jobs) {
    const key = `${j.i}|${j.idAttrs.map((a) => a.join(" ")).sort().join(",")}`;
    groups.set(key, [...(groups.get(key) ?? []), j]);
  }
  for (const group of groups.values()) {
    const half = Math.ceil(group.length / 2);
    const parts = [group.slice(0, half), group.slice(half)].filter((p) => p.length);
    const verdicts = (await Promise.all(parts.map((part) => xmlsec1Verdicts(part.map((j) => j.c.file), group[0]!.i, group[0]!.idAttrs)))).flat();
    group.forEach((j, k) => compared.push({ c: j.c, i: j.i, ours: j.line.signatures[j.i] ?? null, fileCode: j.line.code, xmlsec1: verdicts[k]!, el: j.el }));
  }
  return { compared, lines };
}

const label = (x: Compared) => `${x.c.corpus}: ${x.c.name} #${x.i}: check ${x.ours ? (x.ours.valid ? "valid" : `invalid ${x.ours.code}`) : `not read (${x.fileCode})`}, xmlsec1 ${x.xmlsec1 ? "valid" : "invalid"}`;

/** Every difference explained by exactly one row; returns how many each row explained (and prints the tally). */
function explain(compared: Compared[]): { unexplained: string[]; used: Map<string, number> } {
  const r = tally(compared);
  const files = new Set(compared.map((x) => x.c.file)).size;
  const explained = [...r.used.values()].reduce((a, b) => a + b, 0);
  console.log(
    `check vs xmlsec1 (${compared[0]?.c.corpus}): ${files} files with signatures, ${compared.length} signatures, ` +
      `${explained} explained differences ${JSON.stringify(Object.fromEntries(r.used))}, ${r.unexplained.length} unexplained`,
  );
  return r;
}

function tally(compared: Compared[]): { unexplained: string[]; used: Map<string, number> } {
  const used = new Map<string, number>();
  const unexplained: string[] = [];
  for (const x of compared) {
    const ours = x.ours?.valid ?? false;
    if (ours === x.xmlsec1) continue;
    const rows = DIFFERENCES.filter((d) => d.ours === ours && d.xmlsec1 === x.xmlsec1 && d.applies(x));
    if (rows.length !== 1) unexplained.push(`${label(x)}${rows.length ? ` (${rows.length} rows)` : ""}`);
    else used.set(rows[0]!.name, (used.get(rows[0]!.name) ?? 0) + 1);
  }
  return { unexplained, used };
}

const usedRows = new Set<string>();

describe.skipIf(!xmlsec1Available())("hoadon check and xmlsec1, signature by signature", () => {
  it.skipIf(!INTEROP)("agree on every signature of the real messages (../shared/interop), with each difference explained", async () => {
    const files = readdirSync(INTEROP!).filter((f) => f.endsWith(".xml")).sort();
    expect(files.length).toBeGreaterThanOrEqual(13);
    const list = files.map((f) => put({ corpus: "interop", name: f, xml: readFileSync(join(INTEROP!, f), "utf8") }));
    const { compared, lines } = await compare(list);
    // Every signature reported on its own, with its role, whatever the layout.
    expect(Object.fromEntries(lines.map((l, k) => [files[k], l.signatures.map((s) => s.role).join(",")]))).toEqual({
      "01_msg200_invoice_sent_for_code_seller_signed.xml": "seller",
      "02_msg999_technical_ack.xml": "",
      "03_msg202_invoice_with_MCCQT_and_CQT_signature.xml": "seller,authority",
      "04_msg100_registration_01DKTD_with_cert_list.xml": "",
      "05_msg103_registration_accepted_01TBDKDT.xml": "authority,authority",
      "06_msg102_registration_received_THop1_01TBTNDT.xml": "authority",
      "07_msg103_registration_not_accepted_MLoi2003_01TBDKDT.xml": "authority,authority",
      "08_msg204_LTBao1_not_eligible_for_code_MLoi20001.xml": "authority",
      "09_msg206_cash_register_invoice_CKSNNT_signed.xml": "seller",
      "10_msg100_TKhai_2.1.0_change_form_unsigned.xml": "",
      "11_msg204_LTBao2_cash_register_package_valid.xml": "authority",
      "12_msg-1_invalid_format_reply_MLoi2013.xml": "",
      "13_msg102_registration_not_received_THop2_MLoi1009.xml": "authority",
    });
    expect(compared).toHaveLength(12);
    const { unexplained, used } = explain(compared);
    expect(unexplained).toEqual([]);
    for (const k of used.keys()) usedRows.add(k);

    // With --allow-sha1 every signature of the real messages is valid for check (the interop README), and the SHA-1 rows are gone.
    const sha1 = await compare(list, ["--no-trust", "--allow-sha1"]);
    expect(sha1.lines.flatMap((l) => l.signatures.filter((s) => !s.valid))).toEqual([]);
    const again = explain(sha1.compared);
    expect(again.unexplained).toEqual([]);
    expect([...again.used.keys()]).toEqual(["enveloped-signature on the Reference to the signature's own Object"]);
  });
  it("agree on a generated corpus: signed by the project's signer and by xmlsec1, RSA and EC, every allowed algorithm, both C14Ns, valid and mutated", async () => {
    const rsa = await issueSellerCert({ taxCode: "0100000010", keyType: "rsa" });
    const ec = await issueSellerCert({ taxCode: "0310000024", keyType: "ec" });
    const keys: SigningKey[] = [
      { name: "certs/rsa", type: "rsa", taxCode: "0100000010", keyPem: read("seller-0100000010-rsa.key"), certPem: read("seller-0100000010-rsa.pem") },
      { name: "certs/ec", type: "ec", taxCode: "0310000024", keyPem: read("seller-0310000024-ec.key"), certPem: read("seller-0310000024-ec.pem") },
      { name: "runtime/rsa", type: "rsa", taxCode: "0100000010", keyPem: rsa.keyPem, certPem: rsa.certPem },
      { name: "runtime/ec", type: "ec", taxCode: "0310000024", keyPem: ec.keyPem, certPem: ec.certPem },
    ];
    const SEED = 20261204;
    const generated = Array.from({ length: GENERATED }, (_, i) => generateCase(SEED, i, keys));
    const byXmlsec1 = generated.filter((g) => g.index % 2 === 1);
    const xmlsec1Signed = await signManyWithXmlsec1(byXmlsec1.map((g) => ({ xml: g.unsigned, opts: g.sign })));
    const list: Case[] = [];
    for (const g of generated) {
      const raw = g.index % 2 === 1 ? xmlsec1Signed[byXmlsec1.indexOf(g)]! : signInvoice(g.unsigned, g.sign);
      const signed = finish(raw, g.variant);
      const name = `case ${g.index} signed by ${g.index % 2 ? "xmlsec1" : "the project"} ${JSON.stringify(g.variant)}`;
      list.push(put({ corpus: "generated", name, xml: signed }));
      const r = prng(SEED + g.index);
      for (const m of mutationsFor(r, 2)) {
        const mutated = m.apply(signed, r);
        if (mutated !== null && mutated !== signed) list.push(put({ corpus: "generated", name: `${name} / ${m.name}`, xml: mutated }));
      }
    }
    // The shape of sample 01 (enveloped-signature on the SigningTime Reference), as .NET signs.
    const enveloped: SignOptions = { keyPem: rsa.keyPem, certPem: rsa.certPem, objectEnveloped: true };
    list.push(put({ corpus: "generated", name: "objectEnveloped (as .NET and sample 01 sign)", xml: signInvoice(buildInvoice({ sellerTaxCode: "0100000010", number: nextNumber() }), enveloped) }));
    // Stamped by the service's code (MCCQT and the CQT signature, RSA and EC authorities): the authority's signature compared too.
    const stamped = await stampedInvoices();
    stamped.forEach((xml, k) => list.push(put({ corpus: "generated", name: `stamped by ${k ? "an EC" : "an RSA"} authority`, xml })));
    // The taxpayer's T-VAN documents: an error notice (300) and a registration (100, signed by xml-crypto and by xmlsec1), in their TDiep.
    const seller = { keyPem: read("seller-0100000010-rsa.key"), certPem: read("seller-0100000010-rsa.pem") };
    const entry = { code: "00AB12CD34EF5678901234567890ABCDEF", symbol: "C26TAA", number: 7, issueDate: "2026-11-20", action: "1", reason: "Hủy do sai" };
    const notice = tdiep("300", signNotice(errorNotice("0100000010", [entry]), seller), { mst: "0100000010" }).xml;
    list.push(put({ corpus: "generated", name: "an error notice (300) signed in TBao/DSCKS/NNT", xml: notice }));
    list.push(put({ corpus: "generated", name: "an error notice (300), its reason changed", xml: notice.replace("Hủy do sai", "Hủy do sai sót") }));
    for (const [by, signed] of [["xml-crypto", signForm(registrationForm({ mst: "0100000010" }), seller)], ["xmlsec1", signFormWithXmlsec1(registrationForm({ mst: "0100000010" }), seller)]] as const) {
      list.push(put({ corpus: "generated", name: `a registration (100) signed in TKhai/DSCKS/NNT by ${by}`, xml: tdiep("100", signed, { mst: "0100000010" }).xml }));
    }
    // The committed xmlsec1-signed fixtures (test/fixtures/xmlsec1), as signed and with the amount in words changed.
    const fixtures = join(ROOT, "test/fixtures/xmlsec1");
    for (const f of readdirSync(fixtures).filter((x) => x.endsWith(".xml")).sort()) {
      const xml = readFileSync(join(fixtures, f), "utf8");
      list.push(put({ corpus: "generated", name: `fixture ${f}`, xml }), put({ corpus: "generated", name: `fixture ${f}, TgTTTBChu changed`, xml: xml.replace("<TgTTTBChu>", "<TgTTTBChu>x") }));
    }
    // scripts/make-verify-corpus.ts, the benchmarks' corpus.
    const bench = join(dir, "bench");
    const made = spawnSync(join(ROOT, "node_modules/.bin/tsx"), [join(ROOT, "scripts/make-verify-corpus.ts"), bench, "4", "3"], { cwd: ROOT, encoding: "utf8" });
    expect(made.status, made.stderr).toBe(0);
    for (const f of readdirSync(bench).sort()) list.push(put({ corpus: "generated", name: `make-verify-corpus ${f}`, xml: readFileSync(join(bench, f), "utf8") }));

    const { compared, lines } = await compare(list);
    expect(lines.map((l) => l.signatures.map((x) => x.role).join(",")).filter((r) => r !== "seller")).toEqual(["seller,authority", "seller,authority"]);
    const named = (re: RegExp) => lines.filter((l, k) => re.test(list[k]!.name)).map((l) => l.signatures.map((x) => x.valid));
    expect(named(/error notice|registration/)).toEqual([[true], [false], [true], [true]]);
    expect(named(/^fixture /)).toEqual(Array.from({ length: 8 }, () => [[true], [false]]).flat());
    expect(lines.filter((l) => l.signatures.length === 2).flatMap((l) => l.signatures.map((x) => x.valid))).toEqual([true, true, true, true]);
    const { unexplained, used } = explain(compared);
    expect(unexplained).toEqual([]);
    for (const k of used.keys()) usedRows.add(k);
    // Both verdicts occur on both sides (valid cases and broken mutations).
    expect([...new Set(compared.map((x) => `${x.ours?.valid}/${x.xmlsec1}`))]).toEqual(expect.arrayContaining(["true/true", "false/false"]));
  });

  it("agree on every attack of the corpus (signature profile, hostile XML, adversarial documents), with each difference explained", async () => {
    const cert = await issueSellerCert({ taxCode: "0100000010", keyType: "rsa" });
    const ctx: AttackContext = {
      signed: (sign = {}) =>
        signInvoice(buildInvoice({ sellerTaxCode: "0100000010", number: nextNumber(), lines: [{ name: "Máy chủ", quantity: 1, unitPrice: 1_000_000, taxRate: "10%" }] }), {
          keyPem: cert.keyPem,
          certPem: cert.certPem,
          ...sign,
        }),
      keyPem: cert.keyPem,
      certPem: cert.certPem,
    };
    const attacks: Attack[] = [...SIGNATURE_ATTACKS, ...XML_ATTACKS];
    const list = attacks.map((a) => put({ corpus: "attack", name: a.name, xml: a.build(ctx), code: a.code }));
    for (const [name, make] of Object.entries(ADVERSARIAL)) list.push(put({ corpus: "attack", name: `adversarial ${name}`, xml: make(20_000) }));
    // Who signed (test/api/attacks-trust.test.ts): which KeyInfo certificate made the signature. Trust is not the signature's question.
    const other = await makeTestCa({ keyType: "ec" });
    const leaf = await issueSellerCert({ taxCode: "0100000010", keyType: "ec", issuer: other.issuing });
    const self = await issueCertificate({ subject: [{ C: ["VN"] }, { "0.9.2342.19200300.100.1.1": ["MST:0100000010"] }], keyType: "ec" });
    const signedBy = (keyPem: string, certPem: string) => ctx.signed({ keyPem, certPem });
    const whoSigned: [string, string, boolean][] = [
      ["the seller's certificate in KeyInfo, the signature made by another key", signedBy(self.keyPem, cert.certPem), false],
      ["the seller's certificate first in KeyInfo, the signature made by the second (an attacker's self-signed)", signedBy(self.keyPem, cert.certPem + self.certPem), true],
      ["a whole chain of another CA in KeyInfo, leaf first", signedBy(leaf.keyPem, leaf.certPem + other.issuing.certPem + other.root.certPem), true],
      ["a chain in KeyInfo with the issuing CA before the leaf", signedBy(leaf.keyPem, other.issuing.certPem + leaf.certPem), true],
    ];
    for (const [name, xml] of whoSigned) list.push(put({ corpus: "attack", name, xml }));
    const untouched = put({ corpus: "attack", name: "the untouched invoice the attacks start from", xml: ctx.signed() });
    list.push(untouched);

    const { compared, lines } = await compare(list);
    // Each attack is refused by check with the code the service refuses it with (test/api/attacks-*.test.ts).
    const codes = list.map((c, k) => [c.name, lines[k]!.code]);
    expect(codes.slice(0, attacks.length)).toEqual(attacks.map((a) => [a.name, a.code]));
    const who = lines.slice(-whoSigned.length - 1, -1);
    expect(who.map((l) => l.signatures.map((x) => x.valid))).toEqual(whoSigned.map(([, , valid]) => [valid]));
    expect(lines.at(-1)).toMatchObject({ ok: true, signatures: [{ role: "seller", valid: true }] });
    const { unexplained, used } = explain(compared);
    expect(unexplained).toEqual([]);
    for (const k of used.keys()) usedRows.add(k);
  });

  it("every row of the table of differences explained at least one signature", () => {
    expect([...usedRows].sort()).toEqual(DIFFERENCES.map((d) => d.name).sort());
  });
});

describe("the hoadon check command (bin/hoadon.mjs)", () => {
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, "check", ...args], { cwd: ROOT, encoding: "utf8" });
  const sign = (name: string, opts: { cert?: string; dlhdonId?: string; issueDate?: string; signingTime?: string; tamper?: boolean } = {}) => {
    const cert = opts.cert ?? "rsa";
    let xml = signInvoice(buildInvoice({ sellerTaxCode: "0100000010", number: nextNumber(), ...(opts.dlhdonId ? { dlhdonId: opts.dlhdonId } : {}), ...(opts.issueDate ? { issueDate: opts.issueDate } : {}) }), {
      keyPem: read(`seller-0100000010-${cert}.key`),
      certPem: read(`seller-0100000010-${cert}.pem`),
      ...(opts.signingTime ? { signingTime: opts.signingTime } : {}),
    });
    if (opts.tamper) xml = xml.replace(/<SHDon>(\d+)<\/SHDon>/, (_, n: string) => `<SHDon>${Number(n) + 1}</SHDon>`);
    const file = join(dir, name);
    writeFileSync(file, xml);
    return { file, xml };
  };

  it("prints exactly one JSON line per file in the issue's shape, and exits 0 only when every file passes", () => {
    const good = sign("cmd-good.xml");
    const bad = sign("cmd-bad.xml", { tamper: true });
    const two = run(["--json", good.file, bad.file, join(dir, "missing.xml")]);
    expect(two.status).toBe(1);
    const lines = two.stdout.trim().split("\n").map((l) => JSON.parse(l) as Line);
    expect(lines[0]).toEqual({ file: good.file, ok: true, code: null, signatures: [{ role: "seller", valid: true }], faults: [] });
    expect(lines.map((l) => [l.file, l.ok, l.code])).toEqual([
      [good.file, true, null],
      [bad.file, false, "SIGNATURE_INVALID"],
      [join(dir, "missing.xml"), false, "BAD_REQUEST"],
    ]);
    expect(lines[1]!.signatures).toEqual([{ role: "seller", valid: false, code: "SIGNATURE_INVALID", message: expect.stringContaining("digest") }]);
    expect(lines[1]!.faults[0]).toMatchObject({ code: "SIGNATURE_INVALID", path: "Signature/SignedInfo/Reference[1]" });

    // Without --json: a line per file, then its signatures and faults.
    const human = run([bad.file]);
    expect(human.status).toBe(1);
    expect(human.stdout).toMatch(/cmd-bad\.xml: REFUSED SIGNATURE_INVALID\n {2}signature \(seller\): INVALID SIGNATURE_INVALID/);
    expect(run([]).status).toBe(2);
  });

  it("gates the invoices a TDiep carries and reports every signature of the message", () => {
    const good = sign("tdiep-inner.xml");
    // Ids are unique in the whole message (else every signature is refused: SIGNATURE_PROFILE).
    const bad = sign("tdiep-inner-bad.xml", { tamper: true, dlhdonId: "SigningData-2" });
    const one = join(dir, "tdiep-200.xml");
    writeFileSync(one, tdiep("200", good.xml, { mst: "0100000010" }).xml);
    // Two invoices in one DLieu (as a 203 carries them): each gated, its faults named by its place.
    const many = join(dir, "tdiep-two.xml");
    writeFileSync(many, tdiep("200", good.xml, { mst: "0100000010" }).xml.replace("</DLieu>", `${bad.xml.replace(/^<\?xml[^>]*\?>/, "")}</DLieu>`));
    const r = run(["--json", one, many]);
    const [a, b] = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Line);
    expect(a).toEqual({ file: one, ok: true, code: null, signatures: [{ role: "seller", valid: true }], faults: [] });
    expect(b).toMatchObject({ ok: false, code: "SIGNATURE_INVALID", signatures: [{ role: "seller", valid: true }, { role: "seller", valid: false, code: "SIGNATURE_INVALID" }] });
    expect(b!.faults[0]!.path).toBe("DLieu/HDon[2]/Signature/SignedInfo/Reference[1]");
    expect(r.status).toBe(1);
  });

  it("hoadon verify --authority-cert judges a stamped invoice's signatures the same way, and whose the CQT signature is", async () => {
    const [xml] = await stampedInvoices();
    const file = join(dir, "stamped.xml");
    writeFileSync(file, xml!);
    const cert = join(dir, "authority.pem");
    writeFileSync(cert, authorities.at(-2)!);
    const other = join(dir, "other-authority.pem");
    writeFileSync(other, authorities.at(-1)!);
    const verify = (args: string[]) => spawnSync(process.execPath, [BIN, "verify", ...args], { cwd: ROOT, encoding: "utf8" });
    const ok = verify(["--authority-cert", cert, file]);
    expect([ok.status, JSON.parse(ok.stdout)]).toEqual([0, { valid: true, checks: { sellerSignature: true, authoritySignature: true } }]);
    expect(JSON.parse(verify(["--authority-cert", other, file]).stdout)).toMatchObject({ valid: false, checks: { sellerSignature: true, authoritySignature: false } });
  });

  it("runs the certificate stage on the trust material given: anchors, intermediates, CRLs, and the time of receipt (--at)", () => {
    const good = sign("trust-good.xml");
    const revoked = sign("trust-revoked.xml", { cert: "revoked" });
    const expired = sign("trust-expired.xml", { cert: "expired" });
    // Issued and signed ten days before the receipt: the rules find NLap too old.
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000);
    const old = sign("trust-old.xml", { issueDate: todayGmt7(tenDaysAgo), signingTime: nowGmt7(tenDaysAgo) });
    const material = ["--trust-anchors", join(CERTS, "trust-anchors.pem"), "--intermediates", join(CERTS, "intermediates.pem"), "--crls", join(CERTS, "issuing-ca.crl.pem")];
    const checked = run(["--json", ...material, "--at", new Date(Date.now() + 60_000).toISOString(), good.file, revoked.file, expired.file, old.file]);
    const lines = checked.stdout.trim().split("\n").map((l) => JSON.parse(l) as Line);
    expect(lines.map((l) => l.code)).toEqual([null, "CERT_REVOKED", "CERT_EXPIRED", "ISSUE_DATE_TOO_OLD"]);
    expect(checked.status).toBe(1);
    // The same signatures are valid: trust is the certificate stage's question, not the signature's.
    for (const l of lines) expect(l.signatures).toEqual([{ role: "seller", valid: true }]);
    // Under a root that did not issue it, nothing passes.
    const stranger = run(["--json", "--trust-anchors", join(CERTS, "untrusted-root-ca.pem"), good.file]);
    expect(JSON.parse(stranger.stdout)).toMatchObject({ ok: false, code: "CERT_UNTRUSTED", signatures: [{ role: "seller", valid: true }] });
    expect(run(["--json", "--trust-anchors", join(dir, "missing.pem"), good.file]).status).toBe(2);
  });
});
