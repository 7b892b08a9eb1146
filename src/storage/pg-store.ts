/**
 * The Store over SQL, composed of one object per aggregate — registry.ts, invoices.ts,
 * messages.ts (with tvan-store.ts and summary-store.ts), search.ts, reports.ts, audit.ts — on
 * one database. Each runs the same SQL on PostgreSQL and on PGlite (db.ts). Transactions that
 * span aggregates (a T-VAN message with the invoices it carries) go through transaction.ts.
 */
import { PgAudit } from "./audit.js";
import { sql, type Db } from "./db.js";
import { PgInvoices } from "./invoices.js";
import { PgMessages } from "./messages.js";
import { migrate } from "./migrate.js";
import { ensureInvoicePartitions, partitionWindow, type PartitionRun } from "./partitions.js";
import { PgRegistry } from "./registry.js";
import { PgReports } from "./reports.js";
import { PgSearch } from "./search.js";
import type { Store } from "./store.js";
import { PgTvanStore } from "./tvan-store.js";

export { TXN_BLOCK_SIZE } from "./invoices.js";


export class PgStore implements Store {
  readonly registry: PgRegistry;
  readonly invoices: PgInvoices;
  readonly messages: PgMessages;
  readonly search: PgSearch;
  readonly reports: PgReports;
  readonly audit: PgAudit;
  /** T-VAN records beyond the message log: answers, registrations (storage/tvan-store.ts). */
  readonly tvan: PgTvanStore;

  constructor(readonly db: Db) {
    this.registry = new PgRegistry(db);
    this.invoices = new PgInvoices(db);
    this.messages = new PgMessages(db);
    this.search = new PgSearch(db);
    this.reports = new PgReports(db);
    this.audit = new PgAudit(db);
    this.tvan = new PgTvanStore(db);
  }

  /**
   * Starts keeping the registry in memory (registry-cache.ts): LISTENs for the database's
   * announcements of registry changes. A long-lived process calls it once after migrating; a
   * database that cannot listen leaves the cache off.
   */
  cacheRegistry(): Promise<void> {
    return this.registry.startCache();
  }

  async migrate(): Promise<void> {
    await migrate(this.db);
    await this.ensurePartitions(new Date());
  }

  ensurePartitions(now: Date): Promise<PartitionRun> {
    return ensureInvoicePartitions(this.db, partitionWindow(now));
  }

  async ping(): Promise<void> {
    await this.db.query(sql`select 1`);
  }

  async close(): Promise<void> {
    await this.registry.stopCache();
    await this.db.close();
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

  // Registry ----------------------------------------------------------------------------------

  readonly createOfficer: Store["createOfficer"] = (...a) => this.registry.createOfficer(...a);
  readonly createApiKey: Store["createApiKey"] = (...a) => this.registry.createApiKey(...a);
  readonly listOfficers: Store["listOfficers"] = (...a) => this.registry.listOfficers(...a);
  readonly revokeOfficer: Store["revokeOfficer"] = (...a) => this.registry.revokeOfficer(...a);
  readonly listApiKeys: Store["listApiKeys"] = (...a) => this.registry.listApiKeys(...a);
  readonly revokeApiKey: Store["revokeApiKey"] = (...a) => this.registry.revokeApiKey(...a);
  readonly recordCredentialUses: Store["recordCredentialUses"] = (...a) => this.registry.recordCredentialUses(...a);
  readonly findPrincipal: Store["findPrincipal"] = (...a) => this.registry.findPrincipal(...a);
  readonly createSeller: Store["createSeller"] = (...a) => this.registry.createSeller(...a);
  readonly getSeller: Store["getSeller"] = (...a) => this.registry.getSeller(...a);
  readonly sellerRegistration: Store["sellerRegistration"] = (...a) => this.registry.sellerRegistration(...a);
  readonly updateSeller: Store["updateSeller"] = (...a) => this.registry.updateSeller(...a);
  readonly addCertificate: Store["addCertificate"] = (...a) => this.registry.addCertificate(...a);
  readonly listCertificates: Store["listCertificates"] = (...a) => this.registry.listCertificates(...a);
  readonly findCertificate: Store["findCertificate"] = (...a) => this.registry.findCertificate(...a);
  readonly stopCertificate: Store["stopCertificate"] = (...a) => this.registry.stopCertificate(...a);

  // Invoices ----------------------------------------------------------------------------------

  readonly reserveTransactionNumbers: Store["reserveTransactionNumbers"] = (...a) => this.invoices.reserveTransactionNumbers(...a);
  readonly findInvoiceByKey: Store["findInvoiceByKey"] = (...a) => this.invoices.findInvoiceByKey(...a);
  readonly findInvoicesByKeys: Store["findInvoicesByKeys"] = (...a) => this.invoices.findInvoicesByKeys(...a);
  readonly issueInvoice: Store["issueInvoice"] = (...a) => this.invoices.issueInvoice(...a);
  readonly issueInvoices: Store["issueInvoices"] = (...a) => this.invoices.issueInvoices(...a);
  readonly cancelInvoice: Store["cancelInvoice"] = (...a) => this.invoices.cancelInvoice(...a);
  readonly getInvoice: Store["getInvoice"] = (...a) => this.invoices.getInvoice(...a);
  readonly getInvoiceByRegisterCode: Store["getInvoiceByRegisterCode"] = (...a) => this.invoices.getInvoiceByRegisterCode(...a);
  readonly getInvoiceXml: Store["getInvoiceXml"] = (...a) => this.invoices.getInvoiceXml(...a);
  readonly getInvoiceHistory: Store["getInvoiceHistory"] = (...a) => this.invoices.getInvoiceHistory(...a);

  // Messages ----------------------------------------------------------------------------------

  readonly nextNoticeNumber: Store["nextNoticeNumber"] = (...a) => this.messages.nextNoticeNumber(...a);
  readonly findMessageReply: Store["findMessageReply"] = (...a) => this.messages.findMessageReply(...a);
  readonly recordMessage: Store["recordMessage"] = (...a) => this.messages.recordMessage(...a);

  // Search ------------------------------------------------------------------------------------

  readonly searchInvoices: Store["searchInvoices"] = (...a) => this.search.searchInvoices(...a);

  // Reports -----------------------------------------------------------------------------------

  readonly reportTotals: Store["reportTotals"] = (...a) => this.reports.reportTotals(...a);
  readonly checkRollups: Store["checkRollups"] = (...a) => this.reports.checkRollups(...a);

  // Audit -------------------------------------------------------------------------------------

  readonly recordAudit: Store["recordAudit"] = (...a) => this.audit.recordAudit(...a);
  readonly listAudit: Store["listAudit"] = (...a) => this.audit.listAudit(...a);
}
