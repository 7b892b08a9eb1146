/**
 * The store interface: everything the service keeps, behind one boundary. One implementation
 * (storage/pg-store.ts) runs the same SQL on PostgreSQL (postgres.js) and on PGlite.
 * Money is a decimal string everywhere (never a JS number); dates are "YYYY-MM-DD" strings.
 */

export type SellerStatus = "active" | "suspended" | "ceased";
export type InvoiceStatus = "issued" | "replaced" | "adjusted" | "cancelled";
export type CertificateStatus = "active" | "stopped";
export type InvoiceEventKind = "issued" | "replaced" | "replaces" | "adjusted" | "adjusts" | "cancelled";

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

/** What the submission pipeline hands to the store once every check passed. */
export interface NewInvoice extends NaturalKey {
  code: string;
  status: InvoiceStatus; // "issued" on submission
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
}

export interface InvoiceEvent {
  event: InvoiceEventKind;
  at: Date;
  by: string;
  reason: string | null;
  relatedCode: string | null;
}

export type IssueOutcome =
  | { kind: "issued"; invoice: InvoiceSummary }
  /** Same natural key, same digest: the original, unchanged. */
  | { kind: "replay"; invoice: InvoiceSummary }
  /** Same natural key, another digest. */
  | { kind: "conflict"; existingCode: string };

export interface Store {
  /** Applies the SQL migrations that have not run yet (idempotent, safe on every start). */
  migrate(): Promise<void>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;

  // Principals. Secrets arrive here only as hashes.
  createOfficer(o: { id: string; name: string; taxOffice: string | null; tokenHash: string }): Promise<Officer>;
  createApiKey(k: { id: string; sellerTaxCode: string; keyHash: string }): Promise<void>;
  findPrincipal(secretHash: string): Promise<StoredPrincipal | null>;

  // Sellers. createSeller returns null when the tax code exists already.
  createSeller(s: Omit<Seller, "status" | "createdAt" | "updatedAt">): Promise<Seller | null>;
  getSeller(taxCode: string): Promise<Seller | null>;
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
  findInvoiceByKey(key: NaturalKey): Promise<InvoiceSummary | null>;
  /**
   * Stores a verified, stamped invoice with its per-rate amounts and its "issued" event, in one
   * transaction. A concurrent insert under the same natural key resolves to replay or conflict.
   */
  issueInvoice(inv: NewInvoice): Promise<IssueOutcome>;
  getInvoice(code: string): Promise<InvoiceSummary | null>;
  getInvoiceXml(code: string): Promise<string | null>;
  getInvoiceHistory(code: string): Promise<InvoiceEvent[]>;
  /** Counts rows per table; tests use it to prove that a refusal stored nothing. */
  countRows(): Promise<Record<string, number>>;
}
