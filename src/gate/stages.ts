/**
 * The gate's stages, in the order of invoice-format.md §4, and the error codes each can produce:
 * one table that the code, the docs, the OpenAPI description and the tests read. The first stage
 * that fails is reported, with all of its faults (api.md "Errors").
 *
 *   size → parse → frame → profile → signature → certificate → schema → rules →
 *   duplicates → code → stamp → store
 *
 * The first eight judge one document (src/gate/*.ts, composed by runGate in gate/index.ts); the
 * last four judge verified invoices together, in one store transaction (domain/submit.ts
 * commitInvoices: the batch and the group commit of single submissions).
 */
import { type ErrorCode, type Fault, RefusalError } from "../errors.js";

export interface StageRow {
  readonly name: string;
  /** What the stage checks, in a line (docs and OpenAPI read it). */
  readonly checks: string;
  /** Every code a refusal of this stage can carry. */
  readonly codes: readonly ErrorCode[];
}

export const STAGES = [
  { name: "size", checks: "The body is at most 2 MiB (a batch 32 MiB).", codes: ["PAYLOAD_TOO_LARGE"] },
  {
    name: "parse",
    checks: "Strict UTF-8, XML 1.0, well-formed and namespace-well-formed; no DOCTYPE, entity, comment or processing instruction; one root; depth, node and attribute limits.",
    codes: ["XML_MALFORMED", "XML_FORBIDDEN_CONSTRUCT"],
  },
  {
    name: "frame",
    checks: "One HDon root holding one DLHDon (with an Id that is an XML name), at most one DLQRCode, one DSCKS; every Signature in a DSCKS group; no MCCQT or CQT signature yet.",
    codes: ["XML_MALFORMED", "SCHEMA_INVALID", "SIGNATURE_PROFILE", "SIGNATURE_MISSING", "CODE_ALREADY_PRESENT"],
  },
  {
    name: "profile",
    checks: "One seller Signature under DSCKS/NBan: its References (DLHDon by identity, its own SigningTime Object), transforms and algorithms on the allow-list.",
    codes: ["SIGNATURE_MISSING", "SIGNATURE_PROFILE", "ALGORITHM_NOT_ALLOWED", "SIGNATURE_INVALID"],
  },
  {
    name: "signature",
    checks: "Each Reference's digest over its canonical octets, then the SignatureValue with the KeyInfo certificate's key; the covered SigningTime.",
    codes: ["SIGNATURE_INVALID", "SIGNATURE_PROFILE", "XML_FORBIDDEN_CONSTRUCT"],
  },
  {
    name: "certificate",
    checks:
      "The API key's seller is the invoice's; the chain to a trust anchor, validity at the signing time, revocation, UID=MST: binding; " +
      "the seller registered and active, the certificate registered to it and not stopped.",
    codes: ["FORBIDDEN", "CERT_UNTRUSTED", "CERT_EXPIRED", "CERT_REVOKED", "CERT_TAX_CODE_MISMATCH", "SELLER_NOT_REGISTERED", "SELLER_SUSPENDED", "CERT_NOT_REGISTERED"],
  },
  { name: "schema", checks: "The verified DLHDon against the invoice schema (field paths such as NDHDon/TToan/TgTTTBSo).", codes: ["SCHEMA_INVALID"] },
  {
    name: "rules",
    checks: "Business rules of invoice-format.md §3.2–3.3: tax codes, symbol year, issue date, totals; NLap and SigningTime within the window of the receipt.",
    codes: ["TAX_CODE_INVALID", "SYMBOL_YEAR_MISMATCH", "ISSUE_DATE_IN_FUTURE", "ISSUE_DATE_TOO_OLD", "SIGNING_TIME_OUT_OF_RANGE", "TOTALS_MISMATCH", "SCHEMA_INVALID"],
  },
  {
    name: "duplicates",
    checks: "No other invoice under the same seller, form, symbol and number (an identical one is a replay); the related invoice (TTHDLQuan) exists and may be replaced or adjusted.",
    codes: ["DUPLICATE_INVOICE", "RELATED_INVOICE_NOT_FOUND", "RELATED_INVOICE_STATE"],
  },
  { name: "code", checks: "The tax authority's code (MCCQT) for the verified data.", codes: [] },
  { name: "stamp", checks: "MCCQT and the authority's CQT signature added; the seller's bytes spliced unchanged.", codes: [] },
  {
    name: "store",
    checks:
      "One transaction for the invoices of a group: the insert decides the natural key (a key taken meanwhile, or not looked up before " +
      "because no invoice of the group names a related one, gives the replay or DUPLICATE_INVOICE of the duplicates stage); " +
      "the related invoice checked again under a row lock.",
    codes: ["DUPLICATE_INVOICE", "RELATED_INVOICE_NOT_FOUND", "RELATED_INVOICE_STATE"],
  },
] as const satisfies readonly StageRow[];

export type StageName = (typeof STAGES)[number]["name"];

export const STAGE_NAMES: readonly StageName[] = STAGES.map((s) => s.name);

/** The row of a stage. */
export function stageRow(name: StageName): StageRow {
  return STAGES.find((s) => s.name === name)!;
}

/** A refusal by a stage of the gate (a RefusalError: a code, a message, all the stage's faults) that knows its stage. */
/**
 * The most faults one refusal lists: a signed 2 MB document within every limit can hold 200,000
 * faulty elements, and a reply naming each would be tens of megabytes. Past it, one last fault
 * (the first fault's code) says how many more there are; or, when the stage stopped looking once
 * it had more than these (the schema's walk: `stopped`), that there are more.
 */
export const MAX_FAULTS = 100;

/** `faults` cut to MAX_FAULTS, the rest counted (or, `stopped`, said to exist) in one last fault. */
function capFaults(faults: Fault[], stopped: boolean): Fault[] {
  if (faults.length <= MAX_FAULTS) return faults;
  const more = stopped ? "More faults not listed" : `${faults.length - MAX_FAULTS} more faults not listed`;
  const why = stopped ? `a refusal lists the first ${MAX_FAULTS}, and the stage stops looking past them` : `a refusal lists the first ${MAX_FAULTS}`;
  return [...faults.slice(0, MAX_FAULTS), { code: faults[0]!.code, message: `${more} (${why}).` }];
}

export class GateRefusal extends RefusalError {
  override readonly name: string = "GateRefusal";
  constructor(
    readonly stage: StageName,
    faults: Fault[],
    /** The stage stopped looking once it had more than MAX_FAULTS faults: how many more is unknown. */
    stopped = false,
  ) {
    const first = faults[0]!;
    super(first.code, first.message, capFaults(faults, stopped));
  }
}

/** Throws the refusal of `stage` with its faults. */
export function refuse(stage: StageName, faults: Fault[], stopped = false): never {
  throw new GateRefusal(stage, faults, stopped);
}
