/**
 * The store interface: everything the service keeps, behind one boundary. One implementation
 * (storage/pg-store.ts, composed of one object per aggregate) runs the same SQL on PostgreSQL
 * (postgres.js) and on PGlite.
 * Money is a decimal string everywhere (never a JS number); dates are "YYYY-MM-DD" strings.
 */
import type { InvoiceEventKind, InvoiceStatus, RelationKind } from "../domain/lifecycle.js";
import type { TotalsSource } from "./rollups.js";
import type { SummaryWork } from "./summary-store.js";
import type { PgTvanStore, RegistrationWork } from "./tvan-store.js";

export type SellerStatus = "active" | "suspended" | "ceased";
export type CertificateStatus = "active" | "stopped";
export type { InvoiceEventKind, InvoiceStatus } from "../domain/lifecycle.js";
/**
 * A legacy allowance an invoice was accepted under (api.md: marked, visible to officers): SHA-1 in
 * the seller's signature (HOADON_ALLOW_SHA1), an RSA key under 2048 bits (HOADON_ALLOW_RSA1024).
 */
export type LegacyAllowance = "sha1" | "rsa1024";
/** Every legacy allowance, in the order an invoice's marks are listed. */
export const LEGACY_ALLOWANCES: readonly LegacyAllowance[] = ["sha1", "rsa1024"];
/**
 * Where an invoice came from (tvan.md §13): issued a code here (POST /v1/invoices, T-VAN 200),
 * sent without a code (T-VAN 203), from a cash register with the seller's own code (T-VAN 206).
 */
export type InvoiceSource = "coded" | "uncoded" | "cashRegister";
export const INVOICE_SOURCES: readonly InvoiceSource[] = ["coded", "uncoded", "cashRegister"];

/** A seller (null when not registered) and its certificates, frozen: shared by the requests that read it. */
export interface SellerRegistration {
  readonly seller: Readonly<Seller> | null;
  readonly certificates: readonly Readonly<CertificateRecord>[];
}

export interface Seller {
  taxCode: string;
  name: string;
  address: string;
  taxOffice: string | null;
  province: string | null;
  status: SellerStatus;
  createdAt: Date;
  updatedAt: Date;
}

export interface CertificateRecord {
  sellerTaxCode: string;
  /** SHA-256 of the DER, lower-case hex: the lookup key on the submission path. */
  fingerprint: string;
  /** Upper-case hex without separators, as `openssl x509 -serial` prints it. */
  serial: string;
  issuer: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  status: CertificateStatus;
  registeredAt: Date;
  stoppedAt: Date | null;
}

export interface Officer {
  id: string;
  name: string;
  taxOffice: string | null;
  createdAt: Date;
  /** When the token was last used, to about a minute (storage/credential-use.ts); null: never (yet) recorded. */
  lastUsedAt: Date | null;
  /** Set once the token was revoked: it no longer authenticates anywhere. */
  revokedAt: Date | null;
}

/** An API key as admins and officers see it: never the key, never its hash. */
export interface ApiKeyRecord {
  id: string;
  sellerTaxCode: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** One credential's use, as the recorder hands it to the store (credential-use.ts). */
export interface CredentialUse {
  /** The API key's or officer's id. */
  id: string;
  at: Date;
}

/** Who a bearer credential belongs to (admin is the configured bootstrap token, not stored). */
export type StoredPrincipal =
  | { role: "officer"; id: string; name: string }
  | { role: "seller"; id: string; sellerTaxCode: string };

export interface NaturalKey {
  sellerTaxCode: string;
  form: string; // KHMSHDon, "1".."9"
  symbol: string; // KHHDon, e.g. "C26TAA"
  number: number; // SHDon as an integer
}

export interface TaxRateAmount {
  /** TSuat as written: "8%", "KCT", "KHAC:5.26", … */
  taxRate: string;
  /** In VND (converted with TGia), decimal strings. */
  amountBeforeTax: string;
  tax: string;
}

/**
 * TTHDLQuan of a new invoice, resolved to the natural key of the same seller's invoice it
 * replaces or adjusts (invoice-format.md §3.5). The store checks it again under a row lock.
 */
export interface RelatedLink {
  kind: RelationKind;
  key: NaturalKey;
  /** NLHDCLQuan: must be the related invoice's issue date. */
  issueDate: string;
  /** GChu: the reason written on the events of both invoices. */
  reason: string | null;
}

/** What the submission pipeline hands to the store once every check passed. */
export interface NewInvoice extends NaturalKey {
  code: string;
  status: InvoiceStatus; // INITIAL_STATUS on submission (domain/lifecycle.ts)
  buyerTaxCode: string | null;
  issueDate: string; // NLap
  currency: string; // DVTTe
  exchangeRate: string; // TGia, "1" for VND
  /** Totals in VND (converted with TGia), decimal strings. */
  totalBeforeTax: string;
  totalTax: string;
  totalPayable: string;
  /** SHA-256 of the canonical signed DLHDon, base64. Same digest under the same key = replay. */
  digest: string;
  /** The stamped invoice as returned to the seller. */
  xml: string;
  issuedAt: Date;
  /** Fingerprint of the seller certificate that signed it. */
  certificateFingerprint: string;
  /** Who submitted it (API key id). */
  submittedBy: string;
  taxRates: TaxRateAmount[];
  /** The invoice this one replaces or adjusts; absent for an ordinary invoice. */
  related?: RelatedLink | null;
  /** The legacy allowances it was accepted under, in LEGACY_ALLOWANCES order; absent or empty: none. */
  legacy?: readonly LegacyAllowance[];
  /** Absent: "coded". Uncoded and cash-register invoices carry a record id in `code` (no authority code). */
  source?: InvoiceSource;
  /** The T-VAN message (MTDiep) that carried an uncoded or cash-register invoice. */
  messageId?: string;
  /** A cash-register invoice's own code (MCCQT `M1-25-…`, tvan.md §8.1). */
  registerCode?: string;
}

export interface InvoiceSummary extends NaturalKey {
  code: string;
  status: InvoiceStatus;
  buyerTaxCode: string | null;
  issueDate: string;
  currency: string;
  exchangeRate: string;
  totalBeforeTax: string;
  totalTax: string;
  totalPayable: string;
  digest: string;
  issuedAt: Date;
  /** The legacy allowances it was accepted under (empty: none), in LEGACY_ALLOWANCES order. */
  legacy: LegacyAllowance[];
  source: InvoiceSource;
  /** A cash-register invoice's own code, else null. */
  registerCode: string | null;
}

export interface InvoiceEvent {
  event: InvoiceEventKind;
  at: Date;
  by: string;
  reason: string | null;
  relatedCode: string | null;
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

export interface Store {
  /** T-VAN records beyond the message log: answers, registrations (storage/tvan-store.ts). */
  readonly tvan: PgTvanStore;
  /** Applies the SQL migrations that have not run yet (idempotent, safe on every start). */
  migrate(): Promise<void>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;

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
  createSeller(s: Omit<Seller, "status" | "createdAt" | "updatedAt">): Promise<Seller | null>;
  getSeller(taxCode: string): Promise<Seller | null>;
  /**
   * A seller with its certificates as the gate and the public lookup read them on every request:
   * from memory while the registry is cached (registry-cache.ts), else from the database. The
   * management endpoints read getSeller and listCertificates, always from the database.
   */
  sellerRegistration(taxCode: string): Promise<SellerRegistration>;
  updateSeller(
    taxCode: string,
    patch: Partial<Pick<Seller, "status" | "name" | "address" | "taxOffice" | "province">>,
  ): Promise<Seller | null>;

  // Certificates. addCertificate returns null when this certificate is registered to this seller already.
  addCertificate(c: Omit<CertificateRecord, "status" | "registeredAt" | "stoppedAt"> & { der: Uint8Array }): Promise<CertificateRecord | null>;
  listCertificates(sellerTaxCode: string): Promise<CertificateRecord[]>;
  findCertificate(sellerTaxCode: string, fingerprint: string): Promise<CertificateRecord | null>;
  /** Marks every active certificate of the seller with this serial stopped as of `at`; returns the updated rows. */
  stopCertificate(sellerTaxCode: string, serial: string, at: Date): Promise<CertificateRecord[]>;

  // Invoices.
  /**
   * Blocks of transaction numbers for codes: returns the first of `size` numbers that no other
   * caller will ever receive (a PostgreSQL sequence; gaps are fine, duplicates never).
   */
  reserveTransactionNumbers(size: number): Promise<bigint>;
  /** The next number of the authority's T-VAN notices (`So` of a 204: YY + these 10 digits); a sequence, never repeated. */
  nextNoticeNumber(): Promise<bigint>;
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

  // T-VAN messages.
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
  getInvoice(code: string): Promise<InvoiceSummary | null>;
  /** A cash-register invoice by its own code (MCCQT `M1-25-…`, tvan.md §8.1). */
  getInvoiceByRegisterCode(registerCode: string): Promise<InvoiceSummary | null>;
  getInvoiceXml(code: string): Promise<string | null>;
  getInvoiceHistory(code: string): Promise<InvoiceEvent[]>;
  /** Counts rows per table; tests use it to prove that a refusal stored nothing. */
  countRows(): Promise<Record<string, number>>;

  // Searches, reports and the audit log (officers; issue 5).
  /**
   * Monthly partitions of invoices: last month through three months ahead of `now`, and every
   * month with rows in the default partition (moved into it). Run on start and daily.
   */
  ensurePartitions(now: Date): Promise<{ created: string[]; skipped: string[] }>;
  /** One page of invoices, newest issue date first, then code descending (keyset, see InvoiceCursor). */
  searchInvoices(q: InvoiceSearch): Promise<InvoicePage>;
  /** Totals of the counted invoices (issued, adjusted) by issue date, from the rollups. */
  reportTotals(q: TotalsQuery): Promise<TotalsReport>;
  /** Recomputes the rollups from invoices and their rates; every difference (none when they agree). */
  checkRollups(): Promise<RollupDrift[]>;
  recordAudit(e: AuditEntry): Promise<void>;
  /** The audit log, newest first. */
  listAudit(q: AuditQuery): Promise<AuditPage>;
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

/** Where counted figures come from; defined beside the rollups keyed by it (rollups.ts). */
export type { TotalsSource };

/** GET /v1/reports/totals: issue dates from–to inclusive; optional grouping, seller and source (null: all). */
export interface TotalsQuery {
  from: string;
  to: string;
  groupBy: TotalsGroupBy | null;
  seller: string | null;
  source?: TotalsSource | null;
}

/** Invoices counted, revenue (Σ TgTCThue) and tax (Σ TgTThue), in VND, decimal strings. */
export interface Totals {
  invoices: bigint;
  revenue: string;
  tax: string;
}

export interface TotalsReport {
  /** Sorted by key (code-point order); groups without a counted invoice are left out. */
  rows: (Totals & { key: string })[];
  /** Every counted invoice once, whatever the grouping. */
  total: Totals;
}

/** One rollup row that differs from the recomputation (null: the row is missing on that side). */
export interface RollupDrift {
  table: "totals_seller_daily" | "totals_seller_monthly" | "totals_seller_yearly" | "totals_daily";
  key: string;
  expected: Totals | null;
  actual: Totals | null;
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
