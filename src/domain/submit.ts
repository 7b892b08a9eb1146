/**
 * The submission pipeline: one seller-signed HDon in, one stamped invoice (or one precise
 * refusal) out. It reads top to bottom in the gate's order of invoice-format.md §4:
 *
 *   size → parse → frame (one HDon, no MCCQT/CQT yet) → signature profile and algorithms →
 *   digests and signature value → certificate (chain, validity at signing time, revocation,
 *   UID=MST binding, registration) → schema → business rules → duplicates → code →
 *   authority signature → store
 *
 * The first failing stage is reported with all of its faults, as the outcome's Refusal (an api.md
 * code, no HTTP status: the route maps it). Nothing is written before the last step, and the last
 * step is one transaction.
 *
 * Two halves, so that many invoices can share one transaction (POST /v1/invoices/batch, and
 * concurrent single submissions through the group commit, group-commit.ts): `verifyInvoice`
 * runs the stages up to the business rules for one invoice (CPU, plus the seller's
 * registration, read once per request); `commitInvoices` takes verified invoices through
 * duplicates and related invoices (one read for all), codes and stamps, and one store
 * transaction for all of them.
 * A batch stamps each item as soon as it is verified (`stampNow`), to keep no parsed document
 * across the batch; the refusals and their order are the same either way.
 */
import { type Outcome, type Refusal, RefusalError, refusal, refusalIn, refused } from "../errors.js";
import { type Registry, runGate, storeRegistry } from "../gate/index.js";
import type { HeavyWork } from "../heavy-work.js";
import type { TrustStore } from "../pki/trust.js";
import { C14N, digestBase64 } from "../xml/algorithms.js";
import { canonicalBytes } from "../xml/canonical.js";
import type { InvoiceDocument } from "../xml/invoice-document.js";
import type { ParsedXml, ParseLimits, XElement } from "../xml/parse.js";
import { type AuthorityKey, stamp } from "../xml/stamp.js";
import type { VerifiedSignature } from "../xml/verify.js";
import type { CodeIdentity, CodeIssuer } from "./code.js";
import { GroupCommit } from "./group-commit.js";
import type { Invoice } from "./invoice.js";
import { fromInWords, INITIAL_STATUS, may, type RelationKind, transitionOfRelation } from "./lifecycle.js";
import { type InvoiceSummary, keyOf, type LegacyAllowance, type NaturalKey, type NewInvoice, type RelatedLink } from "./model.js";
import type { InvoicesPort, IssueOutcome, MessagesPort, RegistryPort } from "./ports.js";
import { buildQrPayload } from "./qr.js";
import { type TimeWindow, vndTotals } from "./rules.js";

/** Everything the pipeline needs, built once at start; with the bounds on NLap and SigningTime (TimeWindow). */
export interface SubmitDeps extends TimeWindow {
  /** The invoices, the registry (the gate's sellers and certificates) and the T-VAN messages (the channel shares these deps). */
  store: InvoicesPort & RegistryPort & MessagesPort;
  trust: TrustStore;
  authority: AuthorityKey;
  codes: CodeIssuer;
  clock: () => Date;
  allowSha1: boolean;
  limits: ParseLimits;
  /** Where a large document waits for its turn (src/heavy-work.ts); absent: no wait. */
  lane?: Pick<HeavyWork, "turn">;
  /** How long a small group of single submissions waits for company under sustained traffic (group-commit.ts; 0 or absent: never). */
  commitLingerMs?: number;
}

/** Who is submitting: an API key of one seller. */
export interface Submitter {
  keyId: string;
  sellerTaxCode: string;
}

/** `fresh`: a code was issued now (201); `replay`: the same invoice was issued before (200). */
export type SubmitOutcome = { status: "fresh" | "replay"; invoice: InvoiceSummary; xml: string };

export type { Registry } from "../gate/index.js";

/** An invoice that passed every stage up to the business rules: what the commit half needs. */
export interface VerifiedInvoice {
  /** The parsed invoice, for the stamp; null once stamped (`stampNow`). */
  doc: InvoiceDocument | null;
  /** The code and stamped XML, when stamped before the duplicates stage (batches). */
  stamped: { code: string; xml: string } | null;
  invoice: Invoice;
  key: NaturalKey;
  /** SHA-256 (base64) of the signed DLHDon under C14N 1.0. */
  digest: string;
  certificateFingerprint: string;
  /** The legacy allowances its signature needed (stored with it: officers find such invoices). */
  legacy: LegacyAllowance[];
  receivedAt: Date;
  /** The API key that submitted it (invoices.submitted_by). */
  submittedBy: string;
}

/** What became of one verified invoice: issued now (fresh), a replay of one issued before, or refused. */
export type Judgement = Outcome<{ status: "fresh" | "replay"; invoice: InvoiceSummary; /** The stamped XML when at hand (fresh). */ xml: string | null }>;

/** Runs one invoice through the gate, the duplicates stage, the code, the stamp and the store; or the first failing stage's refusal. */
export async function submitInvoice(deps: SubmitDeps, body: Uint8Array | ParsedXml, submitter: Submitter): Promise<Outcome<SubmitOutcome>> {
  const receivedAt = deps.clock();
  const verified = await verifyInvoice(deps, body, submitter, receivedAt, storeRegistry(deps.store));
  if (!verified.ok) return verified;
  // Stages 8–11 in the next group transaction with the concurrent submissions (group-commit.ts).
  const judged = await groupCommitOf(deps).submit(verified.invoice);
  if (!judged.ok) return judged;
  const xml = judged.xml ?? (await deps.store.getInvoiceXml(judged.invoice.code));
  if (xml === null) throw new Error(`submitInvoice: invoice ${judged.invoice.code} was stored without its XML`);
  return { ok: true, status: judged.status, invoice: judged.invoice, xml };
}

/** What a submission would do: issue a code, or answer with the invoice issued before (a replay). */
export type DryRunOutcome = { wouldIssue: true } | { wouldIssue: false; replayOf: InvoiceSummary };

/**
 * A dry run (POST /v1/invoices?dryRun=true): the whole gate, the duplicates stage and the related
 * invoice included, as submitInvoice runs it; the same refusal a submission would get.
 * Nothing is issued or stored: no code is drawn, nothing is stamped, no transaction is opened.
 */
export async function dryRunInvoice(deps: SubmitDeps, body: Uint8Array | ParsedXml, submitter: Submitter): Promise<Outcome<{ dry: DryRunOutcome }>> {
  const verified = await verifyInvoice(deps, body, submitter, deps.clock(), storeRegistry(deps.store));
  if (!verified.ok) return verified;
  const v = verified.invoice;
  const relatedKey = relatedKeyOf(v);
  const stored = new Map((await deps.store.findInvoicesByKeys([v.key, ...(relatedKey ? [relatedKey] : [])])).map((i) => [keyOf(i), i]));
  const existing = stored.get(keyOf(v.key));
  if (existing) {
    if (existing.digest === v.digest) return { ok: true, dry: { wouldIssue: false, replayOf: existing } };
    return refused(duplicate(existing.code, v.key));
  }
  const related = checkRelated(v, relatedKey, stored, new Map(), [v]);
  if (related) return refused(related);
  return { ok: true, dry: { wouldIssue: true } };
}

const groups = new WeakMap<SubmitDeps, GroupCommit<VerifiedInvoice, Judgement>>();

/** The group commit of single submissions through these dependencies (one per service). */
export function groupCommitOf(deps: SubmitDeps): GroupCommit<VerifiedInvoice, Judgement> {
  let g = groups.get(deps);
  if (!g) {
    g = new GroupCommit((items) => commitInvoices(deps, items), undefined, deps.commitLingerMs ?? 0);
    groups.set(deps, g);
  }
  return g;
}

/** What became of one item of a batch (api.md: POST /v1/invoices/batch; the route gives each its HTTP status). */
export type BatchItem = { index: number } & Outcome<{ status: "fresh" | "replay"; code: string }>;

/**
 * Many invoices of one submitter, each judged on its own by the same gate (one refused item never
 * affects another), all accepted ones written in one transaction. Items under one natural key
 * resolve as sequential submissions would: the first is issued, identical later ones are
 * replays, different ones DUPLICATE_INVOICE. Results come back in input order.
 */
export async function submitBatch(deps: SubmitDeps, bodies: readonly string[], submitter: Submitter): Promise<BatchItem[]> {
  const receivedAt = deps.clock();
  const registry = storeRegistry(deps.store);
  const results: BatchItem[] = new Array(bodies.length);
  const verified: { index: number; item: VerifiedInvoice }[] = [];
  let ranSince = performance.now();
  for (let index = 0; index < bodies.length; index++) {
    // The gate is CPU work: let other requests (health checks among them) in whenever an item
    // leaves the event loop busy for more than YIELD_AFTER_MS since the last turn.
    if (performance.now() - ranSince > YIELD_AFTER_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      ranSince = performance.now();
    }
    const v = await verifyInvoice(deps, bodies[index]!, submitter, receivedAt, registry);
    // Stamped at once so that its DOM (some 30 times the size of its text) is not kept
    // for the whole batch; a code issued for an item that proves a replay is only a gap.
    if (v.ok) verified.push({ index, item: await stampNow(deps, v.invoice) });
    else results[index] = { index, ...v };
  }
  const judged = await commitInvoices(deps, verified.map((v) => v.item));
  judged.forEach((j, k) => {
    const index = verified[k]!.index;
    results[index] = j.ok ? { index, ok: true, status: j.status, code: j.invoice.code } : { index, ...j };
  });
  return results;
}

/** How long a batch may hold the event loop before it lets other requests in. */
const YIELD_AFTER_MS = 10;

/**
 * Stages 1–7 for one invoice: everything up to and including the business rules. `body` is the
 * request body, or an HDon already parsed inside another document (`focus` of a T-VAN TDiep).
 * Refused with the first failing stage's faults.
 */
export async function verifyInvoice(
  deps: SubmitDeps,
  body: Uint8Array | string | ParsedXml,
  submitter: Submitter,
  receivedAt: Date,
  registry: Registry,
): Promise<Outcome<{ invoice: VerifiedInvoice }>> {
  // size → parse → frame → profile → signature → certificate → schema → rules (gate/index.ts).
  const g = await gateOutcome(() => runGate(deps, body, { receivedAt, registry, submitterTaxCode: submitter.sellerTaxCode }));
  if (!g.ok) return g;
  return { ok: true, invoice: verifiedOf(g.state, submitter, receivedAt) };
}

/** The gate's run as an outcome: its state, or the refusal it stopped at (other errors are thrown on). */
export async function gateOutcome<S>(run: () => Promise<S>): Promise<Outcome<{ state: S }>> {
  try {
    return { ok: true, state: await run() };
  } catch (error) {
    if (error instanceof RefusalError) return refused(refusalIn(error));
    throw error;
  }
}

function verifiedOf(g: Awaited<ReturnType<typeof runGate>>, submitter: Submitter, receivedAt: Date): VerifiedInvoice {
  const doc = g.doc!;
  const inv = g.invoice!;
  return {
    doc,
    invoice: inv,
    key: { sellerTaxCode: g.sellerTaxCode!, form: inv.form, symbol: inv.symbol, number: inv.number },
    digest: signedDataDigest(g.verified!, doc.dlhdon),
    certificateFingerprint: g.certificateFingerprint!,
    legacy: g.legacy!,
    receivedAt,
    submittedBy: submitter.keyId,
    stamped: null,
  };
}

/** Stages 9–10 ahead of the duplicates stage: the code and the authority's signature, releasing the parsed document. */
export async function stampNow(deps: SubmitDeps, v: VerifiedInvoice): Promise<VerifiedInvoice> {
  return { ...v, doc: null, stamped: v.stamped ?? (await codeAndStamp(deps, v)) };
}

async function codeAndStamp(deps: SubmitDeps, v: VerifiedInvoice): Promise<{ code: string; xml: string }> {
  if (!v.doc) throw new Error("codeAndStamp: the invoice's document was released before it was stamped");
  const identity = codeIdentity(v.key, v.invoice, v.digest);
  const code = await deps.codes.issue(identity);
  // The authority's DLQRCode, from the verified data; it replaces whatever DLQRCode the seller sent.
  return { code, xml: stamp(v.doc, code, v.receivedAt, deps.authority, v.digest, buildQrPayload(identity)).xml };
}

/**
 * What a code binds (invoice-format.md §5), from a verified DLHDon: the natural key, NLap, the
 * total payable in VND and the DLHDon digest. Issuing a code and checking one (POST /v1/verify)
 * both use this, so the two cannot drift apart.
 */
export function codeIdentity(key: NaturalKey, invoice: Invoice, digest: string): CodeIdentity {
  return { ...key, issueDate: invoice.issueDate, totalPayable: vndTotals(invoice).totalPayable, digest };
}

/**
 * Stages 8–11 for verified invoices (of one batch, or of concurrent single submissions), in input
 * order: duplicates and the related invoice (one read for all, when an invoice names a related
 * one), the code, the authority's signature, and one store transaction.
 */
export async function commitInvoices(deps: SubmitDeps, items: VerifiedInvoice[]): Promise<Judgement[]> {
  if (items.length === 0) return [];
  const judged: Judgement[] = new Array(items.length);

  // 8. Duplicates (§3.4) and the related invoice (§3.5), against the store and the earlier items.
  // The read is needed for the related invoice's state. Without one (nearly every group) it
  // only answered a replay or a duplicate before a code was drawn, and the store's insert
  // decides the natural key anyway (ON CONFLICT, as it must against concurrent groups) and
  // answers both the same way: skipped, it saves a statement planned at each execution and a
  // round trip per group; an invoice that proves a replay or a duplicate then costs a stamp and
  // a transaction number (a gap, as a block left unused at a restart is).
  const relatedKeys = items.map((v) => relatedKeyOf(v));
  const wanted = relatedKeys.some((k) => k !== null) ? [...items.map((v) => v.key), ...relatedKeys.filter((k) => k !== null)] : [];
  const stored = new Map((wanted.length > 0 ? await deps.store.findInvoicesByKeys(wanted) : []).map((i) => [keyOf(i), i]));
  const claimed = new Map<string, number>();
  const followers: { index: number; leader: number }[] = [];
  const pending: number[] = [];
  items.forEach((v, i) => {
    const existing = stored.get(keyOf(v.key));
    if (existing) {
      judged[i] = existing.digest === v.digest ? { ok: true, status: "replay", invoice: existing, xml: null } : refused(duplicate(existing.code, v.key));
      return;
    }
    const leader = claimed.get(keyOf(v.key));
    if (leader !== undefined) {
      followers.push({ index: i, leader });
      return;
    }
    const related = checkRelated(v, relatedKeys[i]!, stored, claimed, items);
    if (related) {
      judged[i] = refused(related);
      return;
    }
    claimed.set(keyOf(v.key), i);
    pending.push(i);
  });

  // 9. The code, 10. the authority's signature.
  const fresh: NewInvoice[] = [];
  for (const i of pending) {
    const v = items[i]!;
    const { code, xml } = v.stamped ?? (await codeAndStamp(deps, v));
    fresh.push({
      ...v.key,
      code,
      status: INITIAL_STATUS,
      buyerTaxCode: v.invoice.buyer?.taxCode ?? null,
      issueDate: v.invoice.issueDate,
      currency: v.invoice.currency,
      ...vndTotals(v.invoice),
      digest: v.digest,
      xml,
      issuedAt: v.receivedAt,
      certificateFingerprint: v.certificateFingerprint,
      legacy: v.legacy,
      submittedBy: v.submittedBy,
      related: relatedLinkOf(v, relatedKeys[i]!),
    });
  }

  // 11. Store: one transaction for all.
  const outcomes = await deps.store.issueInvoices(fresh);
  pending.forEach((i, k) => {
    judged[i] = judgementOf(outcomes[k]!, fresh[k]!);
  });

  // Later items under a key an earlier item of this call took: as if sent after it.
  for (const { index, leader } of followers) {
    const first = judged[leader]!;
    const v = items[index]!;
    if (!first.ok) {
      const winner = first.error.code === "DUPLICATE_INVOICE" ? await deps.store.findInvoiceByKey(v.key) : null;
      judged[index] = winner ? (winner.digest === v.digest ? { ok: true, status: "replay", invoice: winner, xml: null } : refused(duplicate(winner.code, v.key))) : first;
    } else if (first.invoice.digest === v.digest) judged[index] = { ok: true, status: "replay", invoice: first.invoice, xml: first.xml };
    else judged[index] = refused(duplicate(first.invoice.code, v.key));
  }
  return judged;
}

function judgementOf(o: IssueOutcome, inv: NewInvoice): Judgement {
  switch (o.kind) {
    case "stored":
      return { ok: true, status: "fresh", invoice: o.invoice, xml: inv.xml };
    case "replay":
      return { ok: true, status: "replay", invoice: o.invoice, xml: null };
    case "conflict":
      // Lost a race with a concurrent submission of the same key.
      return refused(duplicate(o.existingCode, inv));
    case "related_not_found":
      return refused(relatedNotFound(inv.related!));
    case "related_state":
      return refused(relatedState(o.relatedCode, o.status, inv.related!.kind));
  }
}

function duplicate(existingCode: string, key: NaturalKey): Refusal {
  return refusal("DUPLICATE_INVOICE", `Invoice ${key.form}/${key.symbol}/${key.number} was already issued with code ${existingCode}.`, [
    { code: "DUPLICATE_INVOICE", message: `Existing code ${existingCode}.`, path: existingCode },
  ]);
}

const RELATED_PATH = "TTChung/TTHDLQuan";

/** The natural key TTHDLQuan names, when it can name one of our invoices at all (an e-invoice with a code, LHDCLQuan 1). */
export function relatedKeyOf(v: Pick<VerifiedInvoice, "invoice" | "key">): NaturalKey | null {
  const r = v.invoice.related;
  if (!r || r.relatedType !== 1 || !/^[1-9]$/.test(r.form) || !/^\d{1,8}$/.test(r.number)) return null;
  const number = Number(r.number);
  if (number < 1) return null;
  return { sellerTaxCode: v.key.sellerTaxCode, form: r.form, symbol: r.symbol, number };
}

export function relatedLinkOf(v: Pick<VerifiedInvoice, "invoice">, key: NaturalKey | null): RelatedLink | null {
  const r = v.invoice.related;
  return r && key ? { kind: r.kind, key, issueDate: r.issueDate, reason: r.note } : null;
}

/**
 * §3.5 before a code is issued: TTHDLQuan names an invoice of this seller (in the store, or an
 * earlier item of this call) with that issue date, not already replaced or cancelled. The store
 * checks again under a row lock when it writes (a concurrent replacement loses there).
 */
function checkRelated(v: VerifiedInvoice, key: NaturalKey | null, stored: Map<string, InvoiceSummary>, claimed: Map<string, number>, items: VerifiedInvoice[]): Refusal | null {
  const r = v.invoice.related;
  if (!r) return null;
  if (!key) {
    const named = { kind: r.kind, key: { sellerTaxCode: v.key.sellerTaxCode, form: r.form, symbol: r.symbol, number: Number.NaN }, issueDate: r.issueDate, reason: r.note };
    const why = `LHDCLQuan ${r.relatedType}: only an e-invoice with a code (LHDCLQuan 1) issued here can be replaced or adjusted here.`;
    return relatedNotFound(named, r.relatedType !== 1 ? why : undefined);
  }
  const original = stored.get(keyOf(key));
  const earlier = claimed.get(keyOf(key));
  const issueDate = original?.issueDate ?? (earlier !== undefined ? items[earlier]!.invoice.issueDate : null);
  if (issueDate === null || issueDate !== r.issueDate) return relatedNotFound({ kind: r.kind, key, issueDate: r.issueDate, reason: r.note });
  if (original && !may(transitionOfRelation(r.kind), original.status)) return relatedState(original.code, original.status, r.kind);
  return null;
}

function relatedNotFound(link: RelatedLink, why?: string): Refusal {
  const k = link.key;
  const named = `${k.form}/${k.symbol}/${Number.isNaN(k.number) ? "?" : k.number} of ${link.issueDate}`;
  const message = why ?? `TTHDLQuan names invoice ${named}, which seller ${k.sellerTaxCode} was not issued a code for.`;
  return refusal("RELATED_INVOICE_NOT_FOUND", message, [{ code: "RELATED_INVOICE_NOT_FOUND", message, path: RELATED_PATH }]);
}

function relatedState(code: string, status: string, kind: RelationKind): Refusal {
  const message = `The related invoice ${code} is ${status}; only an ${fromInWords(transitionOfRelation(kind))} invoice can be replaced or adjusted.`;
  return refusal("RELATED_INVOICE_STATE", message, [{ code: "RELATED_INVOICE_STATE", message, path: code }]);
}

/**
 * The invoice's digest: SHA-256 (base64) of DLHDon under C14N 1.0. When the seller's Reference to
 * DLHDon used exactly that canonicalization, its octets are reused (no second canonicalization),
 * and when it was SHA-256 too, its DigestValue is that digest (verified equal: the common case,
 * no second hash of the invoice).
 */
export function signedDataDigest(v: VerifiedSignature, dlhdon: XElement): string {
  const i = v.profile.references.findIndex((r) => r.target === dlhdon);
  const r = i >= 0 ? v.profile.references[i]! : null;
  if (r?.c14n !== C14N) return digestBase64("sha256", canonicalBytes(dlhdon, C14N));
  return r.digest === "sha256" ? r.digestValue.toString("base64") : digestBase64("sha256", v.canonical[i]!);
}

