/**
 * The narrow interfaces (ports) through which the domain reads and writes what the service keeps;
 * storage implements them (storage/pg-store.ts composes one object per aggregate). One port per
 * aggregate: the registry (sellers, certificates, credentials), invoices, T-VAN messages (with the
 * registrations and summary tables their answers write), reports (search, totals) and the audit
 * log. A domain function asks for the ports it uses, nothing more.
 */
import type { ParsedCertificate } from "../pki/certificate.js";
import type { InvoiceStatus } from "./lifecycle.js";
import type {
  ApiKeyRecord,
  CertificateRecord,
  CredentialUse,
  InvoiceEvent,
  InvoiceSource,
  InvoiceSummary,
  LegacyAllowance,
  NaturalKey,
  NewInvoice,
  Officer,
  RegisteredSeller,
  SellerRegistration,
  StoredPrincipal,
  TotalsSource,
} from "./model.js";

/** The store cannot be reached or cannot write now: the request fails as a whole (503), never judged. */
export class StoreUnavailableError extends Error {
  override readonly name: string = "StoreUnavailableError";
}

/** A concurrent write took a key this one needed (a unique constraint): the caller may read again and retry. */
export class WriteConflictError extends Error {
  override readonly name: string = "WriteConflictError";
}

/** The registry: sellers, their certificates, officers and API keys. */
export interface RegistryPort {
  // Principals. Secrets arrive here only as hashes, and never leave. `audit`, when given, is
  // written in the same transaction as the change it records.
  createOfficer(o: { id: string; name: string; taxOffice: string | null; tokenHash: string }, audit?: AuditEntry): Promise<Officer>;
  createApiKey(k: { id: string; sellerTaxCode: string; keyHash: string }, audit?: AuditEntry): Promise<void>;
  /** The officer or seller of an unrevoked token or key (from memory while the registry is cached). */
  findPrincipal(secretHash: string): Promise<StoredPrincipal | null>;
  /** Every officer, revoked ones included, oldest first. */
  listOfficers(): Promise<Officer[]>;
  /**
   * Revokes an officer's token as of `at` and ends their dashboard sessions, with `audit`, in one
   * transaction. An officer revoked already is returned unchanged (first revocation time, no
   * second audit entry); null when there is no such officer.
   */
  revokeOfficer(id: string, at: Date, audit: AuditEntry): Promise<Officer | null>;
  /** The seller's API keys, revoked ones included, newest first. */
  listApiKeys(sellerTaxCode: string): Promise<ApiKeyRecord[]>;
  /** As revokeOfficer, for a key of this seller (null: no such key of this seller). */
  revokeApiKey(sellerTaxCode: string, id: string, at: Date, audit: AuditEntry): Promise<ApiKeyRecord | null>;
  /** Keeps the latest of each credential's uses (never moves a last use backwards). Not a registry change. */
  recordCredentialUses(uses: readonly CredentialUse[]): Promise<void>;

  // Sellers. createSeller returns null when the tax code exists already.
  createSeller(s: Omit<RegisteredSeller, "status" | "createdAt" | "updatedAt">): Promise<RegisteredSeller | null>;
  getSeller(taxCode: string): Promise<RegisteredSeller | null>;
  /**
   * A seller with its certificates as the gate and the public lookup read them on every request:
   * from memory while the registry is cached (registry-cache.ts), else from the database. The
   * management endpoints read getSeller and listCertificates, always from the database.
   */
  sellerRegistration(taxCode: string): Promise<SellerRegistration>;
  updateSeller(
    taxCode: string,
    patch: Partial<Pick<RegisteredSeller, "status" | "name" | "address" | "taxOffice" | "province">>,
  ): Promise<RegisteredSeller | null>;

  // Certificates. addCertificate returns null when this certificate is registered to this seller already.
  addCertificate(c: Omit<CertificateRecord, "status" | "registeredAt" | "stoppedAt"> & { der: Uint8Array }): Promise<CertificateRecord | null>;
  listCertificates(sellerTaxCode: string): Promise<CertificateRecord[]>;
  findCertificate(sellerTaxCode: string, fingerprint: string): Promise<CertificateRecord | null>;
  /** Marks every active certificate of the seller with this serial stopped as of `at`; returns the updated rows. */
  stopCertificate(sellerTaxCode: string, serial: string, at: Date): Promise<CertificateRecord[]>;
}

/** Invoices: issue (alone or many in one transaction), cancel, and the reads. */
export interface InvoicesPort {
  /**
   * Blocks of transaction numbers for codes: returns the first of `size` numbers that no other
   * caller will ever receive (a PostgreSQL sequence; gaps are fine, duplicates never).
   */
  reserveTransactionNumbers(size: number): Promise<bigint>;
  findInvoiceByKey(key: NaturalKey): Promise<InvoiceSummary | null>;
  /**
   * Stores a verified, stamped invoice with its per-rate amounts and its first event, in one
   * transaction. A concurrent insert under the same natural key resolves to replay or conflict.
   */
  issueInvoice(inv: NewInvoice): Promise<IssueOutcome>;
  /**
   * Stores many invoices in one transaction, one outcome per invoice in input order; each is
   * judged on its own (a replay, conflict or related-invoice refusal of one never affects
   * another). A replacing or adjusting invoice changes its original's status and writes the
   * events of both in the same transaction; two replacements of one original never both win.
   */
  issueInvoices(invs: NewInvoice[]): Promise<IssueOutcome[]>;
  /** The invoices under any of these natural keys (one query). */
  findInvoicesByKeys(keys: NaturalKey[]): Promise<InvoiceSummary[]>;
  /** Cancels an issued or adjusted invoice and writes its event, in one transaction. */
  cancelInvoice(c: Cancellation): Promise<CancelOutcome>;
  getInvoice(code: string): Promise<InvoiceSummary | null>;
  /** A cash-register invoice by its own code (MCCQT `M1-25-…`, tvan.md §8.1). */
  getInvoiceByRegisterCode(registerCode: string): Promise<InvoiceSummary | null>;
  getInvoiceXml(code: string): Promise<string | null>;
  getInvoiceHistory(code: string): Promise<InvoiceEvent[]>;
}

/** T-VAN messages: the message log with its replies, and the notices' numbers. */
export interface MessagesPort {
  /** The next number of the authority's T-VAN notices (`So` of a 204: YY + these 10 digits); a sequence, never repeated. */
  nextNoticeNumber(): Promise<bigint>;
  /** The reply recorded for this seller's message id, if any. */
  findMessageReply(sellerTaxCode: string, messageId: string): Promise<MessageReply | null>;
  /**
   * Records a received message and its reply in one transaction; `answer` runs inside it, so
   * what it does (cancellations) commits with the reply or not at all. A message id recorded
   * already (also by a concurrent request) gets the recorded reply, and `answer` does not run;
   * so does a message whose `signedDigest` a recorded message of this seller and type carries
   * (that message's reply; nothing is recorded for this one).
   */
  recordMessage(m: ReceivedMessage, answer: (work: MessageWork) => Promise<MessageReply>): Promise<MessageReply & { repeated: boolean }>;
}

/** The officers' search and reports. */
export interface ReportsPort {
  /** One page of invoices, newest issue date first, then code descending (keyset, see InvoiceCursor). */
  searchInvoices(q: InvoiceSearch): Promise<InvoicePage>;
  /** Totals of the counted invoices (issued, adjusted) by issue date, from the rollups. */
  reportTotals(q: TotalsQuery): Promise<TotalsReport>;
  /** Recomputes the rollups from invoices and their rates; every difference (none when they agree). */
  checkRollups(): Promise<RollupDrift[]>;
}

/** The audit log: who read what. */
export interface AuditPort {
  recordAudit(e: AuditEntry): Promise<void>;
  /** The audit log, newest first. */
  listAudit(q: AuditQuery): Promise<AuditPage>;
}

export type IssueOutcome =
  | { kind: "stored"; invoice: InvoiceSummary }
  /** Same natural key, same digest: the original, unchanged. */
  | { kind: "replay"; invoice: InvoiceSummary }
  /** Same natural key, another digest. */
  | { kind: "conflict"; existingCode: string }
  /** TTHDLQuan names no invoice of this seller with that issue date. */
  | { kind: "related_not_found" }
  /** The related invoice is already replaced or cancelled (or was, by the time the row was locked). */
  | { kind: "related_state"; relatedCode: string; status: InvoiceStatus };

/** A cancellation: who, when, why. */
export interface Cancellation {
  code: string;
  at: Date;
  by: string;
  reason: string;
}

export type CancelOutcome =
  | { kind: "done"; invoice: InvoiceSummary }
  | { kind: "not_found" }
  /** Only an issued or adjusted invoice can be cancelled; this one is not (unchanged). */
  | { kind: "state"; invoice: InvoiceSummary };

/** The reply a T-VAN message got (MLTDiep of the reply and the reply's XML). */
export interface MessageReply {
  replyType: string;
  reply: string;
}

/** A received T-VAN message, before its reply. */
export interface ReceivedMessage {
  sellerTaxCode: string;
  messageId: string;
  messageType: string;
  receivedAt: Date;
  /**
   * What the seller signed, when its signature was trusted: SHA-256 (base64) of the signed part
   * (a 300's DLTBao under C14N 1.0). Another message of this seller and type with the same digest
   * is the same document in a new envelope (a replay): it gets that message's first answer.
   */
  signedDigest?: string | null;
}

/** What became of one invoice of a T-VAN package (203, 206) written with its answer. */
export type PackageOutcome = IssueOutcome | { kind: "register_code_taken"; holderCode: string; holderSellerTaxCode: string };

/** What the answer to a T-VAN message may do inside the transaction that records it. */
export interface MessageWork {
  /**
   * Stores a package's verified invoices (uncoded, cash-register) as issueInvoices does, in this
   * transaction; a cash-register code held by another invoice is `register_code_taken`.
   */
  issueInvoices(invs: NewInvoice[]): Promise<PackageOutcome[]>;
  /** The seller's cash-register range (tvan.md §8.1), or null. */
  cashRegisterRange(sellerTaxCode: string): Promise<string | null>;
  cancelInvoice(c: Cancellation): Promise<CancelOutcome>;
  getInvoice(code: string): Promise<InvoiceSummary | null>;
  /** Registrations (T-VAN 100), in this transaction (storage/tvan-store.ts). */
  registrations: RegistrationWork;
  /** Summary tables (T-VAN 400), in this transaction (storage/summary-store.ts). */
  summaries: SummaryWork;
}

export type RegistrationStatus = "notReceived" | "pending" | "accepted" | "refused";

export interface Reason {
  mloi: string;
  text: string;
}

/** What is kept of a form for the rules and the answers (the bytes are kept too). */
export interface RegistrationContent {
  hthuc: "1" | "2";
  pban: string;
  name: string;
  office: string;
  officeCode: string;
  place: string;
  date: string;
  flags: Record<string, "0" | "1">;
  certificates: { serial: string; issuer: string; from: string; to: string; action: string }[];
}

export interface RegistrationRecord {
  id: string;
  sellerTaxCode: string;
  messageId: string;
  kind: "new" | "change";
  receivedAt: Date;
  status: RegistrationStatus;
  holdReasons: Reason[];
  content: RegistrationContent | null;
  decidedAt: Date | null;
  decidedBy: string | null;
  decisionReasons: Reason[] | null;
}

export interface MessageAnswer {
  type: string;
  messageId: string;
  at: Date;
  xml: string;
}

export interface RecordedMessage {
  messageId: string;
  type: string;
  sellerTaxCode: string;
  receivedAt: Date;
  answers: MessageAnswer[];
}

/** Registration work inside the transaction that records a 100 (or an officer's decision). */
export interface RegistrationWork {
  /** The last accepted registration of the seller (the one that governs), or null. */
  lastAccepted(sellerTaxCode: string): Promise<RegistrationRecord | null>;
  hasPending(sellerTaxCode: string): Promise<boolean>;
  insert(r: Omit<RegistrationRecord, "decidedBy" | "decisionReasons"> & { formXml: string; decidedBy?: string | null; decisionReasons?: Reason[] | null }): Promise<void>;
  /** The next answer of a message after its first (a 103 after its 102). */
  addAnswer(sellerTaxCode: string, messageId: string, a: MessageAnswer): Promise<void>;
  /** Registers a certificate to the seller in the records the admin API writes (nothing when it is there already). */
  registerCertificate(sellerTaxCode: string, cert: ParsedCertificate, at: Date): Promise<void>;
  /** Stops the seller's active certificates with this serial (normalized), as DELETE …/certificates/{serial}. */
  stopSerial(sellerTaxCode: string, serial: string, at: Date): Promise<void>;
  /** The seller's tax office, when it has none yet. */
  setOfficeIfNone(sellerTaxCode: string, office: string): Promise<void>;
  /** Serials (normalized) of the seller's active certificates. */
  activeSerials(sellerTaxCode: string): Promise<Set<string>>;
  nextNumber(): Promise<bigint>;
  /**
   * The seller's cash-register range (tvan.md §8.1): the one it has, else a fresh one of 5
   * characters [0-9A-Z] from the CSPRNG, unique across sellers (cash_register_range_owners), kept for good.
   */
  cashRegisterRange(sellerTaxCode: string, at: Date): Promise<string>;
  /** The seller's province, read in this transaction (the embedded database has one connection). */
  sellerProvince(sellerTaxCode: string): Promise<{ province: string | null } | null>;
}

export interface RegistrationQuery {
  status?: RegistrationStatus;
  seller?: string;
  limit: number;
  /** The last item's (receivedAt, id) of the previous page. */
  after?: { receivedAt: Date; id: string };
}

export interface SummaryPeriod {
  sellerTaxCode: string;
  fuel: boolean;
  periodKind: "T" | "Q" | "N";
  periodStart: string;
}

export interface NewSummaryTable extends SummaryPeriod {
  messageId: string;
  position: number;
  lhhoa: number;
  periodEnd: string;
  number: number;
  supplement: number | null;
  printed: boolean;
  receivedAt: Date;
  xml: string;
}

export interface NewSummaryRow {
  tablePosition: number;
  position: number;
  status: number;
  form: string | null;
  symbol: string | null;
  number: string | null;
  issueDate: string | null;
  buyerTaxCode: string | null;
  productCode: string | null;
  taxRate: string | null;
  amountBeforeTax: string | null;
  tax: string | null;
  total: string | null;
  relatedKind: number | null;
  relatedForm: string | null;
  relatedSymbol: string | null;
  relatedNumber: string | null;
  reportDate: string;
  counted: boolean;
}

/** An invoice named by a row: its form, symbol and number as written. */
export interface NamedInvoice {
  form: string;
  symbol: string;
  number: string;
}

export interface SummaryWork {
  /** The last accepted table of a seller's period and kind: its number and supplement number. */
  lastInPeriod(p: SummaryPeriod): Promise<{ number: number; supplement: number | null } | null>;
  /** Which of these invoices the seller reported in counted rows (key `form|symbol|number|taxRate`) or sent (invoices of any source, key `form|symbol|number`). */
  known(sellerTaxCode: string, named: NamedInvoice[]): Promise<{ rows: Set<string>; invoices: Set<string> }>;
  insertTable(t: NewSummaryTable): Promise<void>;
  insertRows(sellerTaxCode: string, messageId: string, rows: NewSummaryRow[]): Promise<void>;
  /** Takes earlier counted rows of an invoice (of one rate, or all) out of the totals. */
  uncount(sellerTaxCode: string, named: NamedInvoice, taxRate: string | null): Promise<void>;
}

/** Where a page of a search ends: the last invoice's issue date and code (the sort key). */
export interface InvoiceCursor {
  issueDate: string;
  code: string;
}

/** GET /v1/invoices: every filter optional; dates inclusive. */
export interface InvoiceSearch {
  seller?: string;
  buyer?: string;
  from?: string;
  to?: string;
  status?: InvoiceStatus;
  form?: string;
  symbol?: string;
  /** Accepted under a legacy allowance: any of them, none, or this one. */
  legacy?: "any" | "none" | LegacyAllowance;
  source?: InvoiceSource;
  /** 1–1000 */
  limit: number;
  /** Continue after this invoice. */
  after?: InvoiceCursor;
}

export interface InvoicePage {
  items: InvoiceSummary[];
  /** Set when there may be more: pass it as `after` for the next page. */
  next: InvoiceCursor | null;
}

export type TotalsGroupBy = "day" | "month" | "seller" | "taxRate" | "taxOffice" | "province" | "source";

/** GET /v1/reports/totals: issue dates from–to inclusive; optional grouping, seller and source (null: all). */
export interface TotalsQuery {
  from: string;
  to: string;
  groupBy: TotalsGroupBy | null;
  seller: string | null;
  source?: TotalsSource | null;
}

/** A report's figures: invoices counted, revenue (Σ TgTCThue) and tax (Σ TgTThue), in VND, decimal strings. */
export interface ReportFigures {
  invoices: bigint;
  revenue: string;
  tax: string;
}

export interface TotalsReport {
  /** Sorted by key (code-point order); groups without a counted invoice are left out. */
  rows: (ReportFigures & { key: string })[];
  /** Every counted invoice once, whatever the grouping. */
  total: ReportFigures;
}

/** One rollup row that differs from the recomputation (null: the row is missing on that side). */
export interface RollupDrift {
  table: "totals_seller_daily" | "totals_seller_monthly" | "totals_seller_yearly" | "totals_daily";
  key: string;
  expected: ReportFigures | null;
  actual: ReportFigures | null;
}

export const AUDIT_ACTIONS = [
  "invoice.read",
  "invoice.xml",
  "invoice.search",
  "report.totals",
  "registration.list",
  "registration.decision",
  "message.read",
  "api-key.issue",
  "api-key.revoke",
  "officer.issue",
  "officer.revoke",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who read what, when, from where. */
export interface AuditEntry {
  at: Date;
  actorRole: "admin" | "officer" | "seller";
  /** The officer's id, the API key's id, or "admin". */
  actorId: string;
  action: AuditAction;
  /** The invoice code of a read; the key's or officer's id of an issue or revocation. */
  target: string | null;
  /** The validated parameters of a search or report. */
  query: Record<string, string | number>;
  clientAddress: string;
  requestId: string;
}

export interface AuditRecord extends AuditEntry {
  id: bigint;
  /** The officer's name, when the actor is an officer. */
  actorName: string | null;
}

export interface AuditQuery {
  actor?: string;
  action?: AuditAction;
  from?: Date;
  to?: Date;
  limit: number;
  /** Continue below this id. */
  before?: bigint;
}

export interface AuditPage {
  items: AuditRecord[];
  next: bigint | null;
}
