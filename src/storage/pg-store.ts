/**
 * The Store over SQL: one text per operation, run as is by PostgreSQL and by PGlite (db.ts).
 * All of Hoadon's SQL lives here and in migrations/.
 */
import { sql, type Db, type Sql } from "./db.js";
import { migrate } from "./migrate.js";
import type {
  CertificateRecord,
  CertificateStatus,
  InvoiceEvent,
  InvoiceEventKind,
  InvoiceStatus,
  InvoiceSummary,
  IssueOutcome,
  NaturalKey,
  NewInvoice,
  Officer,
  Seller,
  SellerStatus,
  Store,
  StoredPrincipal,
} from "./store.js";

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

const INVOICE = sql`code, seller_tax_code, form, symbol, number, status, buyer_tax_code, issue_date, currency,
  trim_scale(exchange_rate) as exchange_rate, trim_scale(total_before_tax) as total_before_tax,
  trim_scale(total_tax) as total_tax, trim_scale(total_payable) as total_payable, digest, issued_at`;
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
});

const first = <T>(rows: T[]): T | null => rows[0] ?? null;

export class PgStore implements Store {
  constructor(readonly db: Db) {}

  async migrate(): Promise<void> {
    await migrate(this.db);
  }

  async ping(): Promise<void> {
    await this.db.query(sql`select 1`);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  // Principals -------------------------------------------------------------------------------

  async createOfficer(o: { id: string; name: string; taxOffice: string | null; tokenHash: string }): Promise<Officer> {
    const [row] = await this.db.query<{ id: string; name: string; tax_office: string | null; created_at: Date }>(sql`
      insert into officers (id, name, tax_office, token_hash)
      values (${o.id}, ${o.name}, ${o.taxOffice}, ${o.tokenHash})
      returning id, name, tax_office, created_at`);
    if (!row) throw new Error("insert into officers returned no row");
    return { id: row.id, name: row.name, taxOffice: row.tax_office, createdAt: row.created_at };
  }

  async createApiKey(k: { id: string; sellerTaxCode: string; keyHash: string }): Promise<void> {
    await this.db.query(sql`
      insert into api_keys (id, seller_tax_code, key_hash) values (${k.id}, ${k.sellerTaxCode}, ${k.keyHash})`);
  }

  async findPrincipal(secretHash: string): Promise<StoredPrincipal | null> {
    // One round trip on every authenticated request; officers win should a hash ever match both.
    const row = first(
      await this.db.query<{ role: "officer" | "seller"; id: string; name: string | null; seller_tax_code: string | null }>(sql`
        select 'officer' as role, id::text as id, name, null::text as seller_tax_code, 0 as rank
          from officers where token_hash = ${secretHash}
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
      await this.db.query<SellerRow>(sql`
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
      await this.db.query<SellerRow>(sql`
        update sellers set ${sql.join(sets)} where tax_code = ${taxCode} returning ${SELLER}`),
    );
    return row && toSeller(row);
  }

  // Certificates -----------------------------------------------------------------------------

  async addCertificate(
    c: Omit<CertificateRecord, "status" | "registeredAt" | "stoppedAt"> & { der: Uint8Array },
  ): Promise<CertificateRecord | null> {
    const row = first(
      await this.db.query<CertificateRow>(sql`
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
    const rows = await this.db.query<CertificateRow>(sql`
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

  async findInvoiceByKey(key: NaturalKey): Promise<InvoiceSummary | null> {
    const row = first(
      await this.db.query<InvoiceRow>(sql`
        select ${INVOICE} from invoices
        where seller_tax_code = ${key.sellerTaxCode} and form = ${key.form}
          and symbol = ${key.symbol} and number = ${key.number}`),
    );
    return row && toInvoice(row);
  }

  async issueInvoice(inv: NewInvoice): Promise<IssueOutcome> {
    decimal(inv.totalBeforeTax, "totalBeforeTax");
    decimal(inv.totalTax, "totalTax");
    decimal(inv.totalPayable, "totalPayable");
    decimal(inv.exchangeRate, "exchangeRate", RATE);
    for (const r of inv.taxRates) {
      decimal(r.amountBeforeTax, `taxRates[${r.taxRate}].amountBeforeTax`);
      decimal(r.tax, `taxRates[${r.taxRate}].tax`);
    }

    return this.db.transaction(async (tx): Promise<IssueOutcome> => {
      // ON CONFLICT on the natural key: under a concurrent insert of the same key this waits
      // for the other transaction and then does nothing (it committed) or inserts (it rolled
      // back). No read-then-write race, and a losing attempt writes nothing at all.
      const inserted = first(
        await tx.query<InvoiceRow>(sql`
          insert into invoices (code, seller_tax_code, form, symbol, number, status, buyer_tax_code,
            issue_date, currency, exchange_rate, total_before_tax, total_tax, total_payable, digest, xml,
            certificate_fingerprint, submitted_by, issued_at)
          values (${inv.code}, ${inv.sellerTaxCode}, ${inv.form}, ${inv.symbol}, ${inv.number}, ${inv.status},
            ${inv.buyerTaxCode}, ${inv.issueDate}, ${inv.currency}, ${inv.exchangeRate}, ${inv.totalBeforeTax},
            ${inv.totalTax}, ${inv.totalPayable}, ${inv.digest}, ${inv.xml}, ${inv.certificateFingerprint},
            ${inv.submittedBy}, ${inv.issuedAt})
          on conflict (seller_tax_code, form, symbol, number) do nothing
          returning ${INVOICE}`),
      );

      if (!inserted) {
        // The statement after ON CONFLICT sees the committed winner (read committed).
        const existing = first(
          await tx.query<{ code: string; digest: string }>(sql`
            select code, digest from invoices
            where seller_tax_code = ${inv.sellerTaxCode} and form = ${inv.form}
              and symbol = ${inv.symbol} and number = ${inv.number}`),
        );
        if (!existing) throw new Error("issueInvoice: natural key conflict but no invoice found");
        if (existing.digest !== inv.digest) return { kind: "conflict", existingCode: existing.code };
        const original = first(await tx.query<InvoiceRow>(sql`select ${INVOICE} from invoices where code = ${existing.code}`));
        if (!original) throw new Error("issueInvoice: replayed invoice vanished");
        return { kind: "replay", invoice: toInvoice(original) };
      }

      if (inv.taxRates.length > 0) {
        const rows = inv.taxRates.map((r) => sql`(${inv.code}, ${r.taxRate}, ${r.amountBeforeTax}, ${r.tax})`);
        await tx.query(sql`
          insert into invoice_tax_rates (invoice_code, tax_rate, amount_before_tax, tax) values ${sql.join(rows)}`);
      }
      await tx.query(sql`
        insert into invoice_events (invoice_code, event, at, by_principal)
        values (${inv.code}, 'issued', ${inv.issuedAt}, ${inv.submittedBy})`);
      return { kind: "issued", invoice: toInvoice(inserted) };
    });
  }

  async getInvoice(code: string): Promise<InvoiceSummary | null> {
    const row = first(await this.db.query<InvoiceRow>(sql`select ${INVOICE} from invoices where code = ${code}`));
    return row && toInvoice(row);
  }

  async getInvoiceXml(code: string): Promise<string | null> {
    const row = first(await this.db.query<{ xml: string }>(sql`select xml from invoices where code = ${code}`));
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
