/**
 * The Store over SQL: one text per operation, run as is by PostgreSQL and by PGlite (db.ts).
 * All of Hoadon's SQL lives here and in migrations/.
 */
import { jsonRows, sql, type Db, type Sql } from "./db.js";
import { migrate } from "./migrate.js";
import { ensureInvoicePartitions, partitionWindow, type PartitionRun } from "./partitions.js";
import * as reports from "./reports-sql.js";
import { RegistryCache } from "./registry-cache.js";
import { RollupDelta, rollupUpserts, type Contribution } from "./rollups.js";
import { tlogPendingCte } from "./tlog-sql.js";
import { encodeEntry, type EntryType } from "../tlog/entry.js";
import { PgTvanStore, registrationWork } from "./tvan-store.js";
import { summaryWork } from "./summary-store.js";
import type {
  ApiKeyRecord,
  CredentialUse,
  CancelOutcome,
  Cancellation,
  CertificateRecord,
  CertificateStatus,
  InvoiceEvent,
  InvoiceEventKind,
  InvoiceSource,
  InvoiceStatus,
  InvoiceSummary,
  IssueOutcome,
  LegacyAllowance,
  MessageReply,
  MessageWork,
  NaturalKey,
  NewInvoice,
  Officer,
  PackageOutcome,
  ReceivedMessage,
  RelatedLink,
  Seller,
  SellerStatus,
  Store,
  StoredPrincipal,
  AuditEntry,
  AuditPage,
  AuditQuery,
  InvoicePage,
  InvoiceSearch,
  RollupDrift,
  SellerRegistration,
  TotalsQuery,
  TotalsReport,
} from "./store.js";
import { LEGACY_ALLOWANCES } from "./store.js";

/**
 * Numbers one `reserveTransactionNumbers` call can get: the INCREMENT of invoice_txn_seq
 * (migrations/0001_init.sql). One nextval owns [n, n + TXN_BLOCK_SIZE).
 */
export const TXN_BLOCK_SIZE = 1024;

// numeric(38,6) holds 32 integer digits and 6 decimals. A longer value would be rounded or
// refused by the database; check here so that no amount is ever silently rounded.
const AMOUNT = /^-?[0-9]{1,32}(\.[0-9]{1,6})?$/;
const RATE = /^[0-9]{1,32}(\.[0-9]{1,18})?$/;

function decimal(value: string, field: string, pattern: RegExp = AMOUNT): string {
  if (!pattern.test(value)) throw new RangeError(`${field}: not a decimal the store keeps exactly: ${JSON.stringify(value)}`);
  return value;
}

// Column lists, one per record type. trim_scale gives the canonical decimal ("1234500", not
// "1234500.000000"), the same on both engines.

const SELLER = sql`tax_code, name, address, tax_office, province, status, created_at, updated_at`;
interface SellerRow {
  tax_code: string;
  name: string;
  address: string;
  tax_office: string | null;
  province: string | null;
  status: SellerStatus;
  created_at: Date;
  updated_at: Date;
}
const toSeller = (r: SellerRow): Seller => ({
  taxCode: r.tax_code,
  name: r.name,
  address: r.address,
  taxOffice: r.tax_office,
  province: r.province,
  status: r.status,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const CERTIFICATE = sql`seller_tax_code, fingerprint, serial, issuer, subject, not_before, not_after, status, registered_at, stopped_at`;
interface CertificateRow {
  seller_tax_code: string;
  fingerprint: string;
  serial: string;
  issuer: string;
  subject: string;
  not_before: Date;
  not_after: Date;
  status: CertificateStatus;
  registered_at: Date;
  stopped_at: Date | null;
}
const toCertificate = (r: CertificateRow): CertificateRecord => ({
  sellerTaxCode: r.seller_tax_code,
  fingerprint: r.fingerprint,
  serial: r.serial,
  issuer: r.issuer,
  subject: r.subject,
  notBefore: r.not_before,
  notAfter: r.not_after,
  status: r.status,
  registeredAt: r.registered_at,
  stoppedAt: r.stopped_at,
});

interface OfficerRow {
  id: string;
  name: string;
  tax_office: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}
const toOfficer = (r: OfficerRow): Officer => ({
  id: r.id,
  name: r.name,
  taxOffice: r.tax_office,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

interface ApiKeyRow {
  id: string;
  seller_tax_code: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}
const toApiKey = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id,
  sellerTaxCode: r.seller_tax_code,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

const INVOICE = sql`code, seller_tax_code, form, symbol, number, status, buyer_tax_code, issue_date, currency,
  trim_scale(exchange_rate) as exchange_rate, trim_scale(total_before_tax) as total_before_tax,
  trim_scale(total_tax) as total_tax, trim_scale(total_payable) as total_payable, digest, issued_at, array_to_string(legacy, ',') as legacy,
  source, register_code`;
/** The same columns of `invoices i` in a join. */
const INVOICE_I = sql`i.code, i.seller_tax_code, i.form, i.symbol, i.number, i.status, i.buyer_tax_code, i.issue_date, i.currency,
  trim_scale(i.exchange_rate) as exchange_rate, trim_scale(i.total_before_tax) as total_before_tax,
  trim_scale(i.total_tax) as total_tax, trim_scale(i.total_payable) as total_payable, i.digest, i.issued_at, array_to_string(i.legacy, ',') as legacy,
  i.source, i.register_code`;
/**
 * invoices is partitioned by issue month and keyed by (seller, issue date, code): a lookup by
 * code or by natural key goes through the unpartitioned invoice_codes or invoice_keys, which
 * name the partition (run-time partition pruning on the join).
 */
const BY_CODE = sql`invoice_codes k join invoices i on i.seller_tax_code = k.seller_tax_code and i.issue_date = k.issue_date and i.code = k.code`;
const BY_KEY = sql`invoice_keys k join invoices i on i.seller_tax_code = k.seller_tax_code and i.issue_date = k.issue_date and i.code = k.code`;
interface InvoiceRow {
  code: string;
  seller_tax_code: string;
  form: string;
  symbol: string;
  number: number;
  status: InvoiceStatus;
  buyer_tax_code: string | null;
  issue_date: string;
  currency: string;
  exchange_rate: string;
  total_before_tax: string;
  total_tax: string;
  total_payable: string;
  digest: string;
  issued_at: Date;
  /** The legacy allowances, comma-separated: text on every driver (Workers read no array types). */
  legacy: string;
  source: InvoiceSource;
  register_code: string | null;
}
const toInvoice = (r: InvoiceRow): InvoiceSummary => ({
  code: r.code,
  sellerTaxCode: r.seller_tax_code,
  form: r.form,
  symbol: r.symbol,
  number: r.number,
  status: r.status,
  buyerTaxCode: r.buyer_tax_code,
  issueDate: r.issue_date,
  currency: r.currency,
  exchangeRate: r.exchange_rate,
  totalBeforeTax: r.total_before_tax,
  totalTax: r.total_tax,
  totalPayable: r.total_payable,
  digest: r.digest,
  issuedAt: r.issued_at,
  legacy: r.legacy === "" ? [] : (r.legacy.split(",") as LegacyAllowance[]),
  source: r.source,
  registerCode: r.register_code,
});

const first = <T>(rows: T[]): T | null => rows[0] ?? null;

const INVOICE_COLUMNS = sql`code, seller_tax_code, form, symbol, number, status, buyer_tax_code,
  issue_date, currency, exchange_rate, total_before_tax, total_tax, total_payable, digest, xml,
  certificate_fingerprint, submitted_by, issued_at, legacy, source, message_id, register_code`;

const INVOICE_RECORD = sql`(code char(34), seller_tax_code text, form text, symbol text, number integer, status text,
  buyer_tax_code text, issue_date date, currency text, exchange_rate numeric, total_before_tax numeric, total_tax numeric,
  total_payable numeric, digest text, xml text, certificate_fingerprint text, submitted_by uuid, issued_at timestamptz, legacy text[],
  source text, message_id text, register_code text)`;
const invoiceRecord = (inv: NewInvoice) => ({
  code: inv.code,
  seller_tax_code: inv.sellerTaxCode,
  form: inv.form,
  symbol: inv.symbol,
  number: inv.number,
  status: inv.status,
  buyer_tax_code: inv.buyerTaxCode,
  issue_date: inv.issueDate,
  currency: inv.currency,
  exchange_rate: inv.exchangeRate,
  total_before_tax: inv.totalBeforeTax,
  total_tax: inv.totalTax,
  total_payable: inv.totalPayable,
  digest: inv.digest,
  xml: inv.xml,
  certificate_fingerprint: inv.certificateFingerprint,
  submitted_by: inv.submittedBy,
  issued_at: inv.issuedAt.toISOString(),
  legacy: LEGACY_ALLOWANCES.filter((a) => inv.legacy?.includes(a)),
  source: inv.source ?? "coded",
  message_id: inv.messageId ?? null,
  register_code: inv.registerCode ?? null,
});

/**
 * Inserts new invoices whose natural key is free: the key row first (ON CONFLICT on the natural
 * key decides, as a unique index of invoices did before partitioning), then the code's route
 * and the invoice itself, for the rows that won the key only. One statement; returns the
 * inserted invoices. A row whose key was taken writes nothing at all. Rows are inserted in the
 * order given (the caller's lock order).
 */
const insertInvoices = (invs: NewInvoice[]) => sql`
  with v as (select * from rows from (json_to_recordset(${jsonRows(invs.map(invoiceRecord))}::text::json) as ${INVOICE_RECORD}) with ordinality as v (${INVOICE_COLUMNS}, ord)),
  won as (
    insert into invoice_keys (seller_tax_code, form, symbol, number, code, issue_date)
    select seller_tax_code, form, symbol, number, code, issue_date from v order by ord
    on conflict (seller_tax_code, form, symbol, number) do nothing
    returning code),
  routed as (
    insert into invoice_codes (code, seller_tax_code, issue_date)
    select v.code, v.seller_tax_code, v.issue_date from v join won on won.code = v.code)
  insert into invoices (${INVOICE_COLUMNS})
  select ${INVOICE_COLUMNS} from v join won using (code) order by v.ord
  returning ${INVOICE}`;

/** What an invoice adds to the rollups while it counts. */
const contribution = (inv: NewInvoice): Contribution => ({
  source: inv.source ?? "coded",
  sellerTaxCode: inv.sellerTaxCode,
  issueDate: inv.issueDate,
  totalBeforeTax: inv.totalBeforeTax,
  totalTax: inv.totalTax,
  taxRates: inv.taxRates,
});
const counts = (status: InvoiceStatus): boolean => status === "issued" || status === "adjusted";

/**
 * What a writing transaction writes last, in one statement just before it commits: the rates
 * and events of its invoices, in the order they happened, and its rollup changes. One round
 * trip for all of it, and the rollup rows (which concurrent transactions of the same seller
 * share) are locked only for the commit.
 */
interface RateRow {
  seller_tax_code: string;
  invoice_code: string;
  tax_rate: string;
  amount_before_tax: string;
  tax: string;
}

class Tail {
  readonly rates: RateRow[] = [];
  readonly events: object[] = [];
  readonly rollups = new RollupDelta();
  /** Transparency log entries of this transaction's events, in order (tlog/entry.ts). */
  readonly leaves: Buffer[] = [];

  event(sellerTaxCode: string, code: string, event: InvoiceEventKind, at: Date, by: string, reason: string | null, relatedCode: string | null): void {
    this.events.push({ seller_tax_code: sellerTaxCode, invoice_code: code, event, at: at.toISOString(), by_principal: by, reason, related_code: relatedCode });
  }

  async write(tx: Db): Promise<void> {
    if (this.rates.length === 0 && this.events.length === 0 && this.rollups.empty && this.leaves.length === 0) return;
    await tx.query(sql`
      with rates as (
        insert into invoice_tax_rates (seller_tax_code, invoice_code, tax_rate, amount_before_tax, tax)
        select * from json_to_recordset(${jsonRows(this.rates)}::text::json)
          as r (seller_tax_code text, invoice_code char(34), tax_rate text, amount_before_tax numeric, tax numeric)),
      events as (
        insert into invoice_events (seller_tax_code, invoice_code, event, at, by_principal, reason, related_code)
        select seller_tax_code, invoice_code, event, at, by_principal, reason, related_code
          from rows from (json_to_recordset(${jsonRows(this.events)}::text::json)
            as (seller_tax_code text, invoice_code char(34), event text, at timestamptz, by_principal text, reason text, related_code char(34)))
            with ordinality as e (seller_tax_code, invoice_code, event, at, by_principal, reason, related_code, ord)
         order by ord),
      ${this.leaves.length > 0 ? sql`${tlogPendingCte(this.leaves)},` : sql``}
      ${rollupUpserts(this.rollups)}
      select 1`);
  }
}

/** What a status change's log entry says of the invoice, returned by the update that changes it. */
interface LoggedFacts {
  form: string;
  symbol: string;
  number: number;
  total_payable: string;
  digest: string;
  register_code: string | null;
}
const LOGGED_FACTS = sql`form, symbol, number, trim_scale(total_payable) as total_payable, digest, register_code`;
const LOGGED_FACTS_U = sql`u.form, u.symbol, u.number, u.total_payable, u.digest, u.register_code`;

/** The entry type of an invoice's first leaf, by its source. */
const ISSUE_ENTRY: Record<InvoiceSource, EntryType> = { coded: "issued", uncoded: "uncoded", cashRegister: "cashRegister" };

/** The code a leaf names: the authority's code, a cash-register invoice's own, or an uncoded invoice's record id. */
const loggedCode = (inv: { code: string; registerCode?: string | null }): string => inv.registerCode ?? inv.code;
const LOGGED_EVENTS: Partial<Record<InvoiceEventKind, EntryType>> = { replaced: "replaced", adjusted: "adjusted", cancelled: "cancelled" };

/** The log entries of a status change: one per event of the invoice itself (replaced, adjusted, cancelled). */
function logTransition(tail: Tail, inv: Located, facts: LoggedFacts, events: { code: string; event: InvoiceEventKind; relatedCode: string | null }[], at: Date): void {
  for (const e of events) {
    const type = LOGGED_EVENTS[e.event];
    if (!type || e.code !== inv.code) continue;
    tail.leaves.push(
      encodeEntry({
        type,
        code: loggedCode({ code: inv.code, registerCode: facts.register_code }),
        sellerTaxCode: inv.sellerTaxCode,
        form: facts.form,
        symbol: facts.symbol,
        number: facts.number,
        issueDate: inv.issueDate,
        totalPayable: facts.total_payable,
        digest: facts.digest,
        at,
        relatedCode: e.relatedCode,
      }),
    );
  }
}

const STATUS_LITERAL: Record<InvoiceStatus, Sql> = {
  issued: sql`status = 'issued'`,
  replaced: sql`status = 'replaced'`,
  adjusted: sql`status = 'adjusted'`,
  cancelled: sql`status = 'cancelled'`,
};

/**
 * The legacy filter of a search, as literals (like STATUS_LITERAL): the marked ones imply the
 * predicate of the partial index invoices_legacy (0008), so a generic plan can use it.
 */
const LEGACY_LITERAL: Record<NonNullable<InvoiceSearch["legacy"]>, Sql> = {
  any: sql`legacy <> '{}'::text[]`,
  none: sql`legacy = '{}'::text[]`,
  sha1: sql`legacy <> '{}'::text[] and 'sha1' = any (legacy)`,
  rsa1024: sql`legacy <> '{}'::text[] and 'rsa1024' = any (legacy)`,
};

/** The source filter as a literal (like STATUS_LITERAL): the partial index invoices_source_date (0012) serves the non-coded ones. */
const SOURCE_LITERAL: Record<InvoiceSource, Sql> = {
  coded: sql`source = 'coded'`,
  uncoded: sql`source <> 'coded' and source = 'uncoded'`,
  cashRegister: sql`source <> 'coded' and source = 'cashRegister'`,
};

/** The stored identity of an invoice: where its row lives (partition key) and its status. */
interface Located {
  code: string;
  sellerTaxCode: string;
  issueDate: string;
  status: InvoiceStatus;
}

/** Refuses, before anything is written, an amount the store could not keep exactly, or a legacy mark it does not know. */
function checkAmounts(inv: NewInvoice): void {
  decimal(inv.totalBeforeTax, "totalBeforeTax");
  decimal(inv.totalTax, "totalTax");
  decimal(inv.totalPayable, "totalPayable");
  decimal(inv.exchangeRate, "exchangeRate", RATE);
  for (const r of inv.taxRates) {
    decimal(r.amountBeforeTax, `taxRates[${r.taxRate}].amountBeforeTax`);
    decimal(r.tax, `taxRates[${r.taxRate}].tax`);
  }
  for (const a of inv.legacy ?? []) if (!LEGACY_ALLOWANCES.includes(a)) throw new RangeError(`legacy: not an allowance the store knows: ${JSON.stringify(a)}`);
}

const keyString = (k: NaturalKey): string => `${k.sellerTaxCode}|${k.form}|${k.symbol}|${k.number}`;
const rowKeyString = (r: InvoiceRow): string => `${r.seller_tax_code}|${r.form}|${r.symbol}|${r.number}`;
function compareKeys(a: NaturalKey, b: NaturalKey): number {
  const ka = [a.sellerTaxCode, a.form, a.symbol];
  const kb = [b.sellerTaxCode, b.form, b.symbol];
  for (let i = 0; i < 3; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
  return a.number - b.number;
}

function chunks<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** A new invoice that lost its natural key to `winner`: the same signed data is a replay, other data a conflict. */
function replayOrConflict(inv: NewInvoice, winner: InvoiceRow | undefined): IssueOutcome {
  if (!winner) throw new Error("issueInvoices: natural key conflict but no invoice found");
  return winner.digest === inv.digest ? { kind: "replay", invoice: toInvoice(winner) } : { kind: "conflict", existingCode: winner.code };
}

export class PgStore implements Store {
  /** Keys, sellers and certificates in memory, once `cacheRegistry()` listens for their changes. */
  readonly registry = new RegistryCache();
  private unlisten: (() => Promise<void>) | null = null;

  readonly tvan: PgTvanStore;

  constructor(readonly db: Db) {
    this.tvan = new PgTvanStore(db);
  }

  /**
   * Starts keeping the registry in memory (registry-cache.ts): LISTENs for the database's
   * announcements of registry changes. A long-lived process calls it once after migrating; a
   * database that cannot listen leaves the cache off.
   */
  async cacheRegistry(): Promise<void> {
    if (this.unlisten || !this.db.listen) return;
    const [row] = await this.db.query<{ schema: string }>(sql`select current_schema() as schema`);
    const ours = `${row?.schema ?? "public"}.`;
    this.unlisten = await this.db.listen(
      "hoadon_registry",
      // "schema.table": a change in another schema of the same database is not ours.
      (payload) => {
        if (payload.startsWith(ours)) this.registry.invalidate();
      },
      () => this.registry.setListening(true),
      // Announcements may be lost until listening again: nothing is served from memory meanwhile.
      () => this.registry.setListening(false),
    );
  }

  /**
   * A statement that changes the registry: once it has run (or failed, its outcome unknown),
   * this instance forgets what it cached; the others do on the database's announcement.
   */
  private async registryWrite<T>(q: Sql): Promise<T[]> {
    try {
      return await this.db.query<T>(q);
    } finally {
      this.registry.invalidate();
    }
  }

  /** registryWrite for a transaction of several statements. */
  private async registryTransaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(fn);
    } finally {
      this.registry.invalidate();
    }
  }

  async migrate(): Promise<void> {
    await migrate(this.db);
    await this.ensurePartitions(new Date());
  }

  /** Monthly partitions of invoices around `now`, and for any month found in the default partition (storage/partitions.ts). */
  ensurePartitions(now: Date): Promise<PartitionRun> {
    return ensureInvoicePartitions(this.db, partitionWindow(now));
  }

  /**
   * A transaction whose rates, events and rollup changes are gathered by the invoice writes and
   * status changes inside it and written in one statement just before it commits (Tail).
   */
  private writing<T>(fn: (tx: Db, tail: Tail) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      const tail = new Tail();
      const result = await fn(tx, tail);
      await tail.write(tx);
      return result;
    });
  }

  async ping(): Promise<void> {
    await this.db.query(sql`select 1`);
  }

  async close(): Promise<void> {
    this.registry.setListening(false);
    const unlisten = this.unlisten;
    this.unlisten = null;
    if (unlisten) await unlisten().catch(() => {});
    await this.db.close();
  }

  // Principals -------------------------------------------------------------------------------

  async createOfficer(o: { id: string; name: string; taxOffice: string | null; tokenHash: string }, audit?: AuditEntry): Promise<Officer> {
    const row = await this.registryTransaction(async (tx) => {
      const [r] = await tx.query<OfficerRow>(sql`
        insert into officers (id, name, tax_office, token_hash)
        values (${o.id}, ${o.name}, ${o.taxOffice}, ${o.tokenHash})
        returning id, name, tax_office, created_at, null::timestamptz as last_used_at, revoked_at`);
      if (audit) await reports.recordAudit(tx, audit);
      return r;
    });
    if (!row) throw new Error("insert into officers returned no row");
    return toOfficer(row);
  }

  async createApiKey(k: { id: string; sellerTaxCode: string; keyHash: string }, audit?: AuditEntry): Promise<void> {
    await this.registryTransaction(async (tx) => {
      await tx.query(sql`
        insert into api_keys (id, seller_tax_code, key_hash) values (${k.id}, ${k.sellerTaxCode}, ${k.keyHash})`);
      if (audit) await reports.recordAudit(tx, audit);
    });
  }

  async listOfficers(): Promise<Officer[]> {
    const rows = await this.db.query<OfficerRow>(sql`
      select o.id, o.name, o.tax_office, o.created_at, u.last_used_at, o.revoked_at
        from officers o left join credential_use u on u.credential_id = o.id
       order by o.created_at, o.id`);
    return rows.map(toOfficer);
  }

  async revokeOfficer(id: string, at: Date, audit: AuditEntry): Promise<Officer | null> {
    const row = await this.registryTransaction(async (tx) => {
      const [revoked] = await tx.query<{ id: string }>(sql`
        update officers set revoked_at = ${at} where id = ${id} and revoked_at is null returning id`);
      if (revoked) {
        // The dashboard's sessions end with the token that opened them (findSession checks too).
        await tx.query(sql`delete from officer_sessions where officer_id = ${id}`);
        await reports.recordAudit(tx, audit);
      }
      return first(
        await tx.query<OfficerRow>(sql`
          select o.id, o.name, o.tax_office, o.created_at, u.last_used_at, o.revoked_at
            from officers o left join credential_use u on u.credential_id = o.id
           where o.id = ${id}`),
      );
    });
    return row && toOfficer(row);
  }

  async listApiKeys(sellerTaxCode: string): Promise<ApiKeyRecord[]> {
    const rows = await this.db.query<ApiKeyRow>(sql`
      select k.id, k.seller_tax_code, k.created_at, u.last_used_at, k.revoked_at
        from api_keys k left join credential_use u on u.credential_id = k.id
       where k.seller_tax_code = ${sellerTaxCode}
       order by k.created_at desc, k.id`);
    return rows.map(toApiKey);
  }

  async revokeApiKey(sellerTaxCode: string, id: string, at: Date, audit: AuditEntry): Promise<ApiKeyRecord | null> {
    const row = await this.registryTransaction(async (tx) => {
      const [revoked] = await tx.query<{ id: string }>(sql`
        update api_keys set revoked_at = ${at}
         where id = ${id} and seller_tax_code = ${sellerTaxCode} and revoked_at is null returning id`);
      if (revoked) await reports.recordAudit(tx, audit);
      return first(
        await tx.query<ApiKeyRow>(sql`
          select k.id, k.seller_tax_code, k.created_at, u.last_used_at, k.revoked_at
            from api_keys k left join credential_use u on u.credential_id = k.id
           where k.id = ${id} and k.seller_tax_code = ${sellerTaxCode}`),
      );
    });
    return row && toApiKey(row);
  }

  async recordCredentialUses(uses: readonly CredentialUse[]): Promise<void> {
    if (uses.length === 0) return;
    // One statement for any number of uses (jsonRows); a concurrent flush of another instance
    // may have written a later use already: greatest() keeps it.
    await this.db.query(sql`
      insert into credential_use (credential_id, last_used_at)
      select id, max(at) from json_to_recordset(${jsonRows(uses.map((u) => ({ id: u.id, at: u.at.toISOString() })))}::text::json) as v (id uuid, at timestamptz)
       group by id
      on conflict (credential_id) do update set last_used_at = greatest(credential_use.last_used_at, excluded.last_used_at)`);
  }

  findPrincipal(secretHash: string): Promise<StoredPrincipal | null> {
    return this.registry.read(`principal:${secretHash}`, () => this.loadPrincipal(secretHash), (p) => p !== null);
  }

  private async loadPrincipal(secretHash: string): Promise<StoredPrincipal | null> {
    // One round trip on every authenticated request; officers win should a hash ever match both.
    const row = first(
      await this.db.query<{ role: "officer" | "seller"; id: string; name: string | null; seller_tax_code: string | null }>(sql`
        select 'officer' as role, id::text as id, name, null::text as seller_tax_code, 0 as rank
          from officers where token_hash = ${secretHash} and revoked_at is null
        union all
        select 'seller', id::text, null, seller_tax_code, 1
          from api_keys where key_hash = ${secretHash} and revoked_at is null
        order by rank
        limit 1`),
    );
    if (!row) return null;
    if (row.role === "officer") return { role: "officer", id: row.id, name: row.name ?? "" };
    return { role: "seller", id: row.id, sellerTaxCode: row.seller_tax_code ?? "" };
  }

  // Sellers ----------------------------------------------------------------------------------

  async createSeller(s: Omit<Seller, "status" | "createdAt" | "updatedAt">): Promise<Seller | null> {
    const row = first(
      await this.registryWrite<SellerRow>(sql`
        insert into sellers (tax_code, name, address, tax_office, province)
        values (${s.taxCode}, ${s.name}, ${s.address}, ${s.taxOffice}, ${s.province})
        on conflict (tax_code) do nothing
        returning ${SELLER}`),
    );
    return row && toSeller(row);
  }

  async getSeller(taxCode: string): Promise<Seller | null> {
    const row = first(await this.db.query<SellerRow>(sql`select ${SELLER} from sellers where tax_code = ${taxCode}`));
    return row && toSeller(row);
  }

  sellerRegistration(taxCode: string): Promise<SellerRegistration> {
    return this.registry.read(
      `seller:${taxCode}`,
      async () => {
        const [seller, certificates] = await Promise.all([this.getSeller(taxCode), this.listCertificates(taxCode)]);
        return Object.freeze({ seller: seller && Object.freeze(seller), certificates: Object.freeze(certificates.map((c) => Object.freeze(c))) });
      },
      (r) => r.seller !== null,
    );
  }

  async updateSeller(
    taxCode: string,
    patch: Partial<Pick<Seller, "status" | "name" | "address" | "taxOffice" | "province">>,
  ): Promise<Seller | null> {
    // undefined leaves a field as it is; null clears a nullable one.
    const sets: Sql[] = [];
    if (patch.status !== undefined) sets.push(sql`status = ${patch.status}`);
    if (patch.name !== undefined) sets.push(sql`name = ${patch.name}`);
    if (patch.address !== undefined) sets.push(sql`address = ${patch.address}`);
    if (patch.taxOffice !== undefined) sets.push(sql`tax_office = ${patch.taxOffice}`);
    if (patch.province !== undefined) sets.push(sql`province = ${patch.province}`);
    if (sets.length === 0) return this.getSeller(taxCode);
    sets.push(sql`updated_at = now()`);
    const row = first(
      await this.registryWrite<SellerRow>(sql`
        update sellers set ${sql.join(sets)} where tax_code = ${taxCode} returning ${SELLER}`),
    );
    return row && toSeller(row);
  }

  // Certificates -----------------------------------------------------------------------------

  async addCertificate(
    c: Omit<CertificateRecord, "status" | "registeredAt" | "stoppedAt"> & { der: Uint8Array },
  ): Promise<CertificateRecord | null> {
    const row = first(
      await this.registryWrite<CertificateRow>(sql`
        insert into certificates (seller_tax_code, fingerprint, serial, issuer, subject, not_before, not_after, der)
        values (${c.sellerTaxCode}, ${c.fingerprint}, ${c.serial}, ${c.issuer}, ${c.subject},
                ${c.notBefore}, ${c.notAfter}, ${c.der})
        on conflict (seller_tax_code, fingerprint) do nothing
        returning ${CERTIFICATE}`),
    );
    return row && toCertificate(row);
  }

  async listCertificates(sellerTaxCode: string): Promise<CertificateRecord[]> {
    const rows = await this.db.query<CertificateRow>(sql`
      select ${CERTIFICATE} from certificates where seller_tax_code = ${sellerTaxCode}
      order by registered_at, fingerprint`);
    return rows.map(toCertificate);
  }

  async findCertificate(sellerTaxCode: string, fingerprint: string): Promise<CertificateRecord | null> {
    const row = first(
      await this.db.query<CertificateRow>(sql`
        select ${CERTIFICATE} from certificates
        where seller_tax_code = ${sellerTaxCode} and fingerprint = ${fingerprint}`),
    );
    return row && toCertificate(row);
  }

  async stopCertificate(sellerTaxCode: string, serial: string, at: Date): Promise<CertificateRecord[]> {
    const rows = await this.registryWrite<CertificateRow>(sql`
      update certificates set status = 'stopped', stopped_at = ${at}
      where seller_tax_code = ${sellerTaxCode} and serial = ${serial} and status = 'active'
      returning ${CERTIFICATE}`);
    return rows.map(toCertificate);
  }

  // Invoices ---------------------------------------------------------------------------------

  async reserveTransactionNumbers(size: number): Promise<bigint> {
    if (!Number.isInteger(size) || size < 1 || size > TXN_BLOCK_SIZE) {
      throw new RangeError(`reserveTransactionNumbers: size must be an integer in 1..${TXN_BLOCK_SIZE}, got ${size}`);
    }
    const [row] = await this.db.query<{ first: bigint }>(sql`select nextval('invoice_txn_seq') as first`);
    if (!row) throw new Error("nextval returned no row");
    return row.first;
  }

  async nextNoticeNumber(): Promise<bigint> {
    const [row] = await this.db.query<{ n: bigint }>(sql`select nextval('tvan_notice_seq') as n`);
    if (!row) throw new Error("nextval returned no row");
    return BigInt(row.n);
  }

  async findInvoiceByKey(key: NaturalKey): Promise<InvoiceSummary | null> {
    const row = first(
      await this.db.query<InvoiceRow>(sql`
        select ${INVOICE_I} from ${BY_KEY}
        where k.seller_tax_code = ${key.sellerTaxCode} and k.form = ${key.form}
          and k.symbol = ${key.symbol} and k.number = ${key.number}`),
    );
    return row && toInvoice(row);
  }

  async findInvoicesByKeys(keys: NaturalKey[]): Promise<InvoiceSummary[]> {
    return (await this.keysIn(this.db, keys)).map(toInvoice);
  }

  async issueInvoice(inv: NewInvoice): Promise<IssueOutcome> {
    const [outcome] = await this.issueInvoices([inv]);
    if (!outcome) throw new Error("issueInvoices returned no outcome");
    return outcome;
  }

  async issueInvoices(invs: NewInvoice[]): Promise<IssueOutcome[]> {
    for (const inv of invs) checkAmounts(inv);
    if (invs.length === 0) return [];
    return this.writing((tx, tail) => this.issueIn(tx, tail, invs));
  }

  private async issueIn(tx: Db, tail: Tail, invs: NewInvoice[]): Promise<IssueOutcome[]> {
    {
      const outcomes: IssueOutcome[] = new Array(invs.length);
      const items = invs.map((inv, index) => ({ inv, index }));
      // Ordinary invoices: one multi-row insert. ON CONFLICT on the natural key: under a
      // concurrent insert of the same key this waits for the other transaction and then does
      // nothing (it committed) or inserts (it rolled back). No read-then-write race, and a losing
      // row writes nothing at all. Rows go in natural-key order, so that two batches inserting
      // overlapping keys take their locks in the same order and cannot deadlock.
      const plain = items.filter((x) => !x.inv.related).sort((a, b) => compareKeys(a.inv, b.inv));
      const inserted = new Map<string, InvoiceRow>();
      for (const part of chunks(plain, 500)) {
        const rows = await tx.query<InvoiceRow>(insertInvoices(part.map((x) => x.inv)));
        for (const r of rows) inserted.set(r.code, r);
      }
      const issued: NewInvoice[] = [];
      const lost: { inv: NewInvoice; index: number }[] = [];
      for (const x of plain) {
        const row = inserted.get(x.inv.code);
        if (row) {
          outcomes[x.index] = { kind: "issued", invoice: toInvoice(row) };
          issued.push(x.inv);
        } else lost.push(x);
      }
      if (lost.length > 0) {
        // The statement after ON CONFLICT sees the committed winners (read committed).
        const winners = new Map((await this.keysIn(tx, lost.map((x) => x.inv))).map((w) => [rowKeyString(w), w]));
        for (const x of lost) outcomes[x.index] = replayOrConflict(x.inv, winners.get(keyString(x.inv)));
      }
      this.writeIssued(tail, issued);
      // Replacing and adjusting invoices, one at a time in input order (a later one may relate
      // to an earlier one of the same call).
      for (const x of items) if (x.inv.related) outcomes[x.index] = await this.issueRelated(tx, tail, x.inv, x.inv.related);
      return outcomes;
    }
  }

  /**
   * A T-VAN package's invoices, in the transaction that records its answer. A cash-register code
   * is claimed first (cash_register_codes, unique across sellers); an invoice whose code another
   * invoice holds is not written, and a claim whose invoice then loses its natural key (a replay
   * or a conflict) is given back, so nothing of a refused invoice remains.
   */
  private async issuePackage(tx: Db, tail: Tail, invs: NewInvoice[]): Promise<PackageOutcome[]> {
    for (const inv of invs) checkAmounts(inv);
    const outcomes: PackageOutcome[] = new Array(invs.length);
    const coded = invs.filter((i) => i.registerCode);
    const claimed = new Set<string>();
    if (coded.length) {
      const rows = await tx.query<{ register_code: string }>(sql`
        insert into cash_register_codes (register_code, seller_tax_code, code, issue_date)
        select register_code, seller_tax_code, code, issue_date
          from json_to_recordset(${jsonRows(coded.map((i) => ({ register_code: i.registerCode, seller_tax_code: i.sellerTaxCode, code: i.code, issue_date: i.issueDate })))}::text::json)
            as r (register_code text, seller_tax_code text, code char(34), issue_date date)
        order by register_code
        on conflict (register_code) do nothing
        returning register_code`);
      for (const r of rows) claimed.add(r.register_code);
    }
    const lostCodes = coded.filter((i) => !claimed.has(i.registerCode!));
    const holders = new Map<string, { seller_tax_code: string; code: string }>();
    if (lostCodes.length) {
      const rows = await tx.query<{ register_code: string; seller_tax_code: string; code: string }>(sql`
        select register_code, seller_tax_code, code from cash_register_codes where register_code in (select json_array_elements_text(${JSON.stringify(lostCodes.map((i) => i.registerCode!))}::text::json))`);
      for (const r of rows) holders.set(r.register_code, r);
    }
    const writable: { inv: NewInvoice; index: number }[] = [];
    invs.forEach((inv, index) => {
      const holder = inv.registerCode && !claimed.has(inv.registerCode) ? holders.get(inv.registerCode) : undefined;
      if (inv.registerCode && !claimed.has(inv.registerCode)) {
        if (!holder) throw new Error("issuePackage: a cash-register code neither claimed nor held");
        outcomes[index] = { kind: "register_code_taken", holderCode: holder.code, holderSellerTaxCode: holder.seller_tax_code };
      } else writable.push({ inv, index });
    });
    const written = await this.issueIn(tx, tail, writable.map((w) => w.inv));
    const giveBack: string[] = [];
    writable.forEach((w, k) => {
      const o = written[k]!;
      outcomes[w.index] = o;
      if (o.kind !== "issued" && w.inv.registerCode) giveBack.push(w.inv.registerCode);
    });
    if (giveBack.length) await tx.query(sql`delete from cash_register_codes where register_code in (select json_array_elements_text(${JSON.stringify(giveBack)}::text::json))`);
    return outcomes;
  }

  /**
   * The rates and the "issued" events of freshly inserted invoices, and their contribution to
   * the rollups: the hook of every issue (written by the transaction's tail).
   */
  private writeIssued(tail: Tail, invs: NewInvoice[]): void {
    for (const inv of invs) {
      for (const r of inv.taxRates) tail.rates.push({ seller_tax_code: inv.sellerTaxCode, invoice_code: inv.code, tax_rate: r.taxRate, amount_before_tax: r.amountBeforeTax, tax: r.tax });
      tail.event(inv.sellerTaxCode, inv.code, "issued", inv.issuedAt, inv.submittedBy, null, null);
      tail.rollups.add(contribution(inv), 1);
      // One leaf per invoice received, whatever its source (issue 17): an uncoded one under its
      // record id, a cash-register one under its own code.
      tail.leaves.push(encodeEntry({ ...inv, type: ISSUE_ENTRY[inv.source ?? "coded"], code: loggedCode(inv), at: inv.issuedAt, relatedCode: null }));
    }
  }

  private async keysIn(tx: Db, keys: NaturalKey[]): Promise<InvoiceRow[]> {
    const unique = [...new Map(keys.map((k) => [keyString(k), k])).values()];
    if (unique.length === 0) return [];
    const wanted = unique.map((k) => ({ seller_tax_code: k.sellerTaxCode, form: k.form, symbol: k.symbol, number: k.number }));
    // Unprepared: a plan cached by a connection while the tables were small (a hash join over
    // a sequential scan of invoice_keys) stays cached until the next ANALYZE, and every lookup
    // then reads the whole table: with autovacuum off, the duplicates lookup of the group commit
    // grew from 0.1 to 3 ms of PostgreSQL CPU per invoice over 170,000 invoices. Planned at each
    // execution, it sees the tables' current size and looks each key up in the index.
    const q = sql`
      select ${INVOICE_I}
        from json_to_recordset(${jsonRows(wanted)}::text::json) as q (seller_tax_code text, form text, symbol text, number integer)
        join ${BY_KEY} on k.seller_tax_code = q.seller_tax_code and k.form = q.form and k.symbol = q.symbol and k.number = q.number`;
    return tx.query<InvoiceRow>({ text: q.text, values: q.values, unprepared: true });
  }

  /**
   * One replacing or adjusting invoice. The original's row is locked first, so two
   * replacements of one original queue here and the second finds it replaced. A replay of the
   * new invoice is answered as a replay even though its original has changed state since (by
   * this very invoice).
   */
  private async issueRelated(tx: Db, tail: Tail, inv: NewInvoice, link: RelatedLink): Promise<IssueOutcome> {
    const original = first(
      await tx.query<{ code: string; status: InvoiceStatus; issue_date: string }>(sql`
        select i.code, i.status, i.issue_date from ${BY_KEY}
        where k.seller_tax_code = ${link.key.sellerTaxCode} and k.form = ${link.key.form}
          and k.symbol = ${link.key.symbol} and k.number = ${link.key.number}
        for update of i`),
    );
    const [existing] = await this.keysIn(tx, [inv]);
    if (existing) return replayOrConflict(inv, existing);
    if (!original || original.issue_date !== link.issueDate) return { kind: "related_not_found" };
    if (original.status !== "issued" && original.status !== "adjusted") return { kind: "related_state", relatedCode: original.code, status: original.status };

    const row = first(await tx.query<InvoiceRow>(insertInvoices([inv])));
    if (!row) return replayOrConflict(inv, (await this.keysIn(tx, [inv]))[0]);
    this.writeIssued(tail, [inv]);
    const replaces = link.kind === "replaces";
    await this.transition(tx, tail, {
      invoice: { code: original.code, sellerTaxCode: link.key.sellerTaxCode, issueDate: original.issue_date, status: original.status },
      status: replaces ? "replaced" : "adjusted",
      events: [
        { code: inv.code, event: link.kind, relatedCode: original.code },
        { code: original.code, event: replaces ? "replaced" : "adjusted", relatedCode: inv.code },
      ],
      at: inv.issuedAt,
      by: inv.submittedBy,
      reason: link.reason,
    });
    return { kind: "issued", invoice: toInvoice(row) };
  }

  /**
   * Every change of an invoice's status goes through here, inside the transaction of its cause
   * (a replacing or adjusting invoice's insert, a cancellation), with the invoice's row locked:
   * the status, the events that explain it and the change to the rollups are written together.
   * An invoice that stops counting (replaced, cancelled) takes its own contribution out of the
   * rollups; issued → adjusted changes nothing there (the adjusting invoice adds its own).
   */
  private async transition(
    tx: Db,
    tail: Tail,
    t: { invoice: Located; status: InvoiceStatus; events: { code: string; event: InvoiceEventKind; relatedCode: string | null }[]; at: Date; by: string; reason: string | null },
  ): Promise<void> {
    const inv = t.invoice;
    // One statement: the status, and the amounts the rollups need; the events go to the tail.
    const rows = await tx.query<{ source: InvoiceSource; total_before_tax: string; total_tax: string; tax_rate: string | null; amount_before_tax: string | null; tax: string | null } & LoggedFacts>(sql`
      with updated as (
        update invoices set status = ${t.status}
        where seller_tax_code = ${inv.sellerTaxCode} and issue_date = ${inv.issueDate} and code = ${inv.code}
        returning seller_tax_code, code, source, trim_scale(total_before_tax) as total_before_tax, trim_scale(total_tax) as total_tax, ${LOGGED_FACTS})
      select u.source, u.total_before_tax, u.total_tax, r.tax_rate, trim_scale(r.amount_before_tax) as amount_before_tax, trim_scale(r.tax) as tax, ${LOGGED_FACTS_U}
        from updated u left join invoice_tax_rates r on r.seller_tax_code = u.seller_tax_code and r.invoice_code = u.code`);
    const head = rows[0];
    if (!head) throw new Error(`transition: invoice ${inv.code} not found where it was locked`);
    for (const e of t.events) tail.event(inv.sellerTaxCode, e.code, e.event, t.at, t.by, t.reason, e.relatedCode);
    logTransition(tail, inv, head, t.events, t.at);
    if (counts(inv.status) !== counts(t.status)) {
      const c: Contribution = {
        source: head.source,
        sellerTaxCode: inv.sellerTaxCode,
        issueDate: inv.issueDate,
        totalBeforeTax: head.total_before_tax,
        totalTax: head.total_tax,
        // Its rates are stored, or still in this transaction's tail (an earlier item of the same batch).
        taxRates: [
          ...rows.filter((r) => r.tax_rate !== null).map((r) => ({ taxRate: r.tax_rate!, amountBeforeTax: r.amount_before_tax!, tax: r.tax! })),
          ...tail.rates.filter((r) => r.invoice_code === inv.code).map((r) => ({ taxRate: r.tax_rate, amountBeforeTax: r.amount_before_tax, tax: r.tax })),
        ],
      };
      tail.rollups.add(c, counts(t.status) ? 1 : -1);
    }
  }

  async cancelInvoice(c: Cancellation): Promise<CancelOutcome> {
    return this.writing((tx, tail) => this.cancelIn(tx, tail, c));
  }

  private async cancelIn(tx: Db, tail: Tail, c: Cancellation): Promise<CancelOutcome> {
    const row = first(await tx.query<InvoiceRow>(sql`select ${INVOICE_I} from ${BY_CODE} where k.code = ${c.code} for update of i`));
    if (!row) return { kind: "not_found" };
    if (row.status !== "issued" && row.status !== "adjusted") return { kind: "state", invoice: toInvoice(row) };
    await this.transition(tx, tail, {
      invoice: { code: row.code, sellerTaxCode: row.seller_tax_code, issueDate: row.issue_date, status: row.status },
      status: "cancelled",
      events: [{ code: c.code, event: "cancelled", relatedCode: null }],
      at: c.at,
      by: c.by,
      reason: c.reason,
    });
    return { kind: "cancelled", invoice: { ...toInvoice(row), status: "cancelled" } };
  }

  async getInvoice(code: string): Promise<InvoiceSummary | null> {
    const row = first(await this.db.query<InvoiceRow>(sql`select ${INVOICE_I} from ${BY_CODE} where k.code = ${code}`));
    return row && toInvoice(row);
  }

  async getInvoiceByRegisterCode(registerCode: string): Promise<InvoiceSummary | null> {
    const row = first(
      await this.db.query<InvoiceRow>(sql`
        select ${INVOICE_I} from cash_register_codes k
          join invoices i on i.seller_tax_code = k.seller_tax_code and i.issue_date = k.issue_date and i.code = k.code
         where k.register_code = ${registerCode}`),
    );
    return row && toInvoice(row);
  }

  async getInvoiceXml(code: string): Promise<string | null> {
    const row = first(await this.db.query<{ xml: string }>(sql`select i.xml from ${BY_CODE} where k.code = ${code}`));
    return row?.xml ?? null;
  }

  async getInvoiceHistory(code: string): Promise<InvoiceEvent[]> {
    const rows = await this.db.query<{
      event: InvoiceEventKind;
      at: Date;
      by_principal: string;
      reason: string | null;
      related_code: string | null;
    }>(sql`
      select event, at, by_principal, reason, related_code from invoice_events
      where invoice_code = ${code} order by at, id`);
    return rows.map((r) => ({ event: r.event, at: r.at, by: r.by_principal, reason: r.reason, relatedCode: r.related_code }));
  }

  // T-VAN messages ----------------------------------------------------------------------------

  async findMessageReply(sellerTaxCode: string, messageId: string): Promise<MessageReply | null> {
    const row = first(
      await this.db.query<{ reply_type: string | null; reply: string | null }>(sql`
        select reply_type, reply from tvan_messages where seller_tax_code = ${sellerTaxCode} and message_id = ${messageId}`),
    );
    return row?.reply_type && row.reply !== null ? { replyType: row.reply_type, reply: row.reply } : null;
  }

  async recordMessage(m: ReceivedMessage, answer: (work: MessageWork) => Promise<MessageReply>): Promise<MessageReply & { repeated: boolean }> {
    return this.writing(async (tx, tail) => {
      // The placeholder row first: a concurrent repeat of this message id, or a copy of its
      // signed content under another id (tvan_messages_signed, 0008), waits on the unique index
      // until this transaction ends, then finds the reply (and runs nothing itself). No conflict
      // target: either unique key makes the row a repeat.
      const signedDigest = m.signedDigest ?? null;
      const claimed = first(
        await tx.query<{ message_id: string }>(sql`
          insert into tvan_messages (seller_tax_code, message_id, message_type, received_at, signed_digest)
          values (${m.sellerTaxCode}, ${m.messageId}, ${m.messageType}, ${m.receivedAt}, ${signedDigest})
          on conflict do nothing
          returning message_id`),
      );
      if (!claimed) {
        // The same id first (a repeat), else the message with the same signed content (a replay).
        const row = first(
          await tx.query<{ reply_type: string; reply: string }>(sql`
            select reply_type, reply from tvan_messages
            where seller_tax_code = ${m.sellerTaxCode}
              and (message_id = ${m.messageId} or (message_type = ${m.messageType} and signed_digest = ${signedDigest}))
            order by message_id = ${m.messageId} desc
            limit 1`),
        );
        if (!row?.reply) throw new Error("recordMessage: a recorded message without its reply");
        return { replyType: row.reply_type, reply: row.reply, repeated: true };
      }
      const reply = await answer({
        cancelInvoice: (c) => this.cancelIn(tx, tail, c),
        getInvoice: async (code) => {
          const row = first(await tx.query<InvoiceRow>(sql`select ${INVOICE_I} from ${BY_CODE} where k.code = ${code}`));
          return row && toInvoice(row);
        },
        registrations: registrationWork(tx),
        summaries: summaryWork(tx, tail.rollups),
        issueInvoices: (invs) => this.issuePackage(tx, tail, invs),
        cashRegisterRange: async (seller) => first(await tx.query<{ range: string }>(sql`select range from cash_register_ranges where seller_tax_code = ${seller}`))?.range ?? null,
      });
      await tx.query(sql`
        update tvan_messages set reply_type = ${reply.replyType}, reply = ${reply.reply}, answered_at = now()
        where seller_tax_code = ${m.sellerTaxCode} and message_id = ${m.messageId}`);
      return { ...reply, repeated: false };
    });
  }

  // Searches, reports, audit (storage/reports-sql.ts) -------------------------------------------

  /**
   * Keyset pagination on (issue_date, code) descending: a page starts strictly after the last
   * invoice of the previous one, so an invoice inserted meanwhile never shifts what comes next
   * (no repeats, no gaps; one issued into an earlier date shows up on a later page, one into a
   * later date does not). The bound on issue_date lets the planner prune partitions; the
   * row comparison then runs on the index (seller, date, code), (buyer, date, code) or (date, code).
   */
  async searchInvoices(q: InvoiceSearch): Promise<InvoicePage> {
    const where: Sql[] = [];
    if (q.seller !== undefined) where.push(sql`seller_tax_code = ${q.seller}`);
    if (q.buyer !== undefined) where.push(sql`buyer_tax_code = ${q.buyer}`);
    if (q.from !== undefined) where.push(sql`issue_date >= ${q.from}::date`);
    if (q.to !== undefined) where.push(sql`issue_date <= ${q.to}::date`);
    // A literal, not a parameter: a generic plan of the prepared statement could not prove that
    // status = $n implies the predicate of the partial index invoices_seller_status (0006).
    if (q.status !== undefined) where.push(STATUS_LITERAL[q.status]);
    if (q.form !== undefined) where.push(sql`form = ${q.form}`);
    if (q.symbol !== undefined) where.push(sql`symbol = ${q.symbol}`);
    if (q.legacy !== undefined) where.push(LEGACY_LITERAL[q.legacy]);
    if (q.source !== undefined) where.push(SOURCE_LITERAL[q.source]);
    if (q.after !== undefined) {
      where.push(sql`issue_date <= ${q.after.issueDate}::date`);
      where.push(sql`(issue_date, code) < (${q.after.issueDate}::date, ${q.after.code}::char(34))`);
    }
    const rows = await this.db.query<InvoiceRow>(sql`
      select ${INVOICE} from invoices ${where.length ? sql`where ${sql.join(where, sql` and `)}` : sql``}
      order by issue_date desc, code desc limit ${q.limit + 1}`);
    const items = rows.slice(0, q.limit).map(toInvoice);
    const last = items[items.length - 1];
    return { items, next: rows.length > q.limit && last ? { issueDate: last.issueDate, code: last.code } : null };
  }

  reportTotals(q: TotalsQuery): Promise<TotalsReport> {
    return reports.reportTotals(this.db, q);
  }

  checkRollups(): Promise<RollupDrift[]> {
    return reports.checkRollups(this.db);
  }

  recordAudit(e: AuditEntry): Promise<void> {
    return reports.recordAudit(this.db, e);
  }

  listAudit(q: AuditQuery): Promise<AuditPage> {
    return reports.listAudit(this.db, q);
  }

  async countRows(): Promise<Record<string, number>> {
    // Every table of the current schema, so tables added by later migrations are counted too
    // (a partitioned table counts once, through its parent).
    const tables = await this.db.query<{ name: string }>(sql`
      select c.relname as name from pg_class c
      where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p') and not c.relispartition
      order by c.relname`);
    if (tables.length === 0) return {};
    const counts = tables.map((t) => sql`select ${t.name}::text as name, count(*) as n from ${sql.ident(t.name)}`);
    const rows = await this.db.query<{ name: string; n: bigint }>(sql.join(counts, sql` union all `));
    return Object.fromEntries(rows.map((r) => [r.name, Number(r.n)]));
  }
}
