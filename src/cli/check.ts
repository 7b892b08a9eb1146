/**
 * `hoadon check [--json] [--no-trust] [--allow-sha1] [--trust-anchors F] [--intermediates F]
 *               [--crls F,…] [--at TIME] FILE…`: the service's gate, offline, on each file (an
 * HDon, or a TDiep carrying HDon elements in DLieu). docs/integration.md "Check before you send".
 *
 * 1. Every ds:Signature of the file, whatever its layout (gate/index.ts signatureVerdicts: the
 *    one-pass scan and the same profile code as the gate): its role by where it stands and its
 *    own verdict, valid or not and why. No trust decision here.
 * 2. The gate on each invoice (gate/index.ts runGate, the code POST /v1/invoices runs): size,
 *    parse, frame, profile, signature, then — unless --no-trust — the certificate stage (chain to
 *    the anchors, validity at the signing time, revocation, UID=MST:), then schema and rules, as
 *    if received at --at (default now). Registration (the seller and the certificate registered
 *    with the authority) lives in the service's database: offline it is taken as given, and a
 *    dry run (`hoadon submit --dry-run`) asks the service.
 * Exit 0 when every file passes, 1 otherwise (2: bad usage). With --json, one line per file:
 * {"file","ok","code","signatures":[{"role","valid","code"?,"message"?}],"faults":[{"code","message","path"?}]}.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_TIME_WINDOW } from "../domain/rules.js";
import { type Fault, faultsOf, RefusalError } from "../errors.js";
import { type GateDeps, type Registry, runGate, type SignatureRole, signatureVerdicts } from "../gate/index.js";
import { rulesStage } from "../gate/rules.js";
import { schemaStage } from "../gate/schema.js";
import { TrustStore } from "../pki/trust.js";
import { loadTrust } from "../pki/trust-files.js";
import { DEFAULT_LIMITS, focus, type ParsedXml, parseAnyRoot } from "../xml/parse.js";
import type { CliIo } from "./io.js";

export type Role = SignatureRole;
export interface SignatureReport {
  role: Role;
  valid: boolean;
  code?: string;
  message?: string;
}
export interface FileReport {
  file: string;
  ok: boolean;
  code: string | null;
  signatures: SignatureReport[];
  faults: Fault[];
}

export interface CheckOptions {
  /** Null: --no-trust (the certificate stage is skipped). */
  trust: TrustStore | null;
  allowSha1: boolean;
  /** The receipt time the rules judge NLap and SigningTime against. */
  at: Date;
}

/**
 * Registration offline: every seller active, every certificate registered (the service's
 * database is not here). Only `hoadon check` uses it; the gate's certificate stage still checks
 * the chain, validity, revocation and the UID=MST: binding.
 */
const REGISTRATION_NOT_CHECKED: Registry = {
  seller: async (taxCode) => ({ taxCode, name: "", address: "", taxOffice: null, province: null, status: "active", createdAt: new Date(0), updatedAt: new Date(0) }),
  certificate: async (taxCode, fingerprint) => ({
    sellerTaxCode: taxCode,
    fingerprint,
    serial: "",
    issuer: "",
    subject: "",
    notBefore: new Date(0),
    notAfter: new Date(8.64e15),
    status: "active",
    registeredAt: new Date(0),
    stoppedAt: null,
  }),
};

/** Refusals of the gate become faults; anything else is a bug and propagates. */
async function gateFaults(run: () => Promise<unknown>): Promise<Fault[]> {
  try {
    await run();
    return [];
  } catch (e) {
    if (e instanceof RefusalError) return faultsOf(e);
    throw e;
  }
}

/** The gate on one invoice: bytes of an HDon file, or an HDon of a TDiep seen through `focus`. */
async function gateInvoice(body: Uint8Array | ParsedXml, o: CheckOptions): Promise<Fault[]> {
  const deps: GateDeps = { ...DEFAULT_TIME_WINDOW, allowSha1: o.allowSha1, limits: DEFAULT_LIMITS, trust: o.trust as TrustStore };
  const opts = { receivedAt: o.at, registry: REGISTRATION_NOT_CHECKED };
  if (o.trust) return gateFaults(() => runGate(deps, body, { ...opts, until: "rules" }));
  // --no-trust: the stages up to the signature, then schema and rules on the verified DLHDon.
  return gateFaults(async () => {
    const state = await runGate(deps, body, { ...opts, until: "signature" });
    rulesStage(schemaStage(state.doc!.dlhdon), o.at, state.verified!.signingTime, deps);
  });
}

const isPlain = (e: { namespaceURI: string | null }) => e.namespaceURI === null;

/** Every Signature of a document with its verdict (gate/index.ts signatureVerdicts), as check reports them; none when the document does not parse. */
export function checkSignatures(xml: Uint8Array | string, allowSha1 = false): SignatureReport[] {
  const parsed = parseAnyRoot(xml, DEFAULT_LIMITS);
  return parsed.ok ? signatureReports(parsed.value, allowSha1) : [];
}

const signatureReports = (parsed: ParsedXml, allowSha1: boolean): SignatureReport[] =>
  signatureVerdicts(parsed, allowSha1).map(({ role, valid, faults }) => (valid ? { role, valid } : { role, valid, code: faults[0]!.code, message: faults[0]!.message }));

export async function checkFile(file: string, bytes: Uint8Array, o: CheckOptions): Promise<FileReport> {
  const report = (signatures: SignatureReport[], faults: Fault[]): FileReport => ({ file, ok: faults.length === 0, code: faults[0]?.code ?? null, signatures, faults });
  const parsed = parseAnyRoot(bytes, DEFAULT_LIMITS);
  if (!parsed.ok) return report([], parsed.faults);
  const signatures = signatureReports(parsed.value, o.allowSha1);
  const root = parsed.value.root;
  if (root.localName === "HDon" && isPlain(root)) return report(signatures, await gateInvoice(bytes, o));
  if (root.localName === "TDiep" && isPlain(root)) {
    const dlieu = root.elements.filter((e) => e.localName === "DLieu" && isPlain(e));
    const invoices = dlieu.length === 1 ? dlieu[0]!.elements.filter((e) => e.localName === "HDon" && isPlain(e)) : [];
    if (invoices.length === 0) return report(signatures, [{ code: "SCHEMA_INVALID", message: "The TDiep carries no invoice (DLieu/HDon).", path: "DLieu/HDon" }]);
    const faults: Fault[] = [];
    for (const [i, hdon] of invoices.entries()) {
      const found = await gateInvoice(focus(parsed.value, hdon), o);
      // Several invoices: each fault says which (DLieu/HDon[n]/…).
      faults.push(...(invoices.length === 1 ? found : found.map((f) => ({ ...f, path: `DLieu/HDon[${i + 1}]${f.path ? `/${f.path}` : ""}` }))));
    }
    return report(signatures, faults);
  }
  return report(signatures, [{ code: "SCHEMA_INVALID", message: `The root element is ${root.tagName}: not an invoice (HDon) nor a TDiep carrying one.` }]);
}

function human(r: FileReport, out: (l: string) => void): void {
  out(`${r.file}: ${r.ok ? "OK" : `REFUSED ${r.code}`}`);
  for (const s of r.signatures) out(`  signature (${s.role}): ${s.valid ? "valid" : `INVALID ${s.code} — ${s.message}`}`);
  for (const f of r.faults) out(`  ${f.code}${f.path ? ` at ${f.path}` : ""}: ${f.message}`);
}

/** The package's development trust material (certs/), found from this file, whatever the working directory. */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");

export async function run(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        "no-trust": { type: "boolean" },
        "allow-sha1": { type: "boolean" },
        "trust-anchors": { type: "string" },
        intermediates: { type: "string" },
        crls: { type: "string" },
        at: { type: "string" },
      },
    });
  } catch (e) {
    io.err(`hoadon check: ${(e as Error).message}`);
    return 2;
  }
  const v = parsed.values;
  if (parsed.positionals.length === 0) {
    io.err("usage: hoadon check [--json] [--no-trust] [--allow-sha1] [--trust-anchors F] [--intermediates F] [--crls F,…] [--at TIME] FILE…");
    return 2;
  }
  const at = v.at ? new Date(v.at) : new Date();
  if (Number.isNaN(at.getTime())) {
    io.err(`hoadon check: --at ${v.at}: not a time (ISO 8601)`);
    return 2;
  }
  let trust: TrustStore | null = null;
  if (!v["no-trust"]) {
    try {
      const material = loadTrust({
        anchorsPath: v["trust-anchors"] ?? join(PACKAGE_ROOT, "certs/trust-anchors.pem"),
        ...(v.intermediates ? { intermediatesPath: v.intermediates } : v["trust-anchors"] ? {} : { intermediatesPath: join(PACKAGE_ROOT, "certs/intermediates.pem") }),
        ...(v.crls ? { crlPaths: v.crls.split(",").filter(Boolean) } : {}),
      });
      trust = new TrustStore(material, { warn: (m) => io.err(`hoadon check: ${m}`) });
    } catch (e) {
      io.err(`hoadon check: ${(e as Error).message}`);
      return 2;
    }
  }
  let allOk = true;
  for (const file of parsed.positionals) {
    let report: FileReport;
    try {
      report = await checkFile(file, readFileSync(file), { trust, allowSha1: !!v["allow-sha1"], at });
    } catch (e) {
      // Unreadable (missing, a directory): still one line for the file.
      report = { file, ok: false, code: "BAD_REQUEST", signatures: [], faults: [{ code: "BAD_REQUEST", message: (e as Error).message }] };
    }
    allOk &&= report.ok;
    if (v.json) io.out(JSON.stringify(report));
    else human(report, io.out);
  }
  return allOk ? 0 : 1;
}
