/**
 * The domain's vocabulary: the invoice as stored and reported (natural key, summary, new
 * invoice), the seller as registered, certificates and credentials, the legacy allowances and
 * the sources of invoices. Storage implements the ports (ports.ts) in these terms; the invoice
 * as written (DLHDon, with the seller as written on it) is invoice.ts. Statuses and their rules
 * are the lifecycle table (lifecycle.ts).
 * Money is a decimal string everywhere here (never a JS number); dates are "YYYY-MM-DD" strings.
 */
import type { InvoiceEventKind, InvoiceStatus, RelationKind } from "./lifecycle.js";

export type { InvoiceEventKind, InvoiceStatus } from "./lifecycle.js";

export type SellerStatus = "active" | "suspended" | "ceased";
export type CertificateStatus = "active" | "stopped";
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
  readonly seller: Readonly<RegisteredSeller> | null;
  readonly certificates: readonly Readonly<CertificateRecord>[];
}

/** A seller as registered with the authority (sellers table), not as written on an invoice (domain/invoice.ts `Seller`: NDHDon/NBan). */
export interface RegisteredSeller {
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

/** One string per natural key (seller, form, symbol, number), for maps and sets. */
export const keyOf = (k: NaturalKey): string => `${k.sellerTaxCode}|${k.form}|${k.symbol}|${k.number}`;

/** Where counted figures come from (api.md GET /v1/reports/totals `source`): invoices by their source, or summary-table rows. */
export type TotalsSource = InvoiceSource | "summary";
