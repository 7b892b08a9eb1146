/**
 * The Store over SQL: one object per aggregate, each implementing its port of domain/ports.ts —
 * registry.ts (RegistryPort), invoices.ts (InvoicesPort), messages.ts (MessagesPort, with
 * tvan-store.ts and summary-store.ts), reports.ts (ReportsPort, with search.ts), audit.ts
 * (AuditPort) — on one database, and the start-up, health and partition work of that database.
 * Each runs the same SQL on PostgreSQL and on PGlite (db.ts). A transaction that spans
 * aggregates (a T-VAN message with the invoices it carries) goes through transaction.ts.
 *
 * The domain asks for several ports on one object (submit.ts: InvoicesPort & RegistryPort &
 * MessagesPort), so PgStore also answers every port's calls, each passed to its aggregate.
 */
import type { AuditPort, InvoicesPort, MessagesPort, RegistryPort, ReportsPort } from "../domain/ports.js";
import { PgAudit } from "./audit.js";
import { type Db, sql } from "./db.js";
import { PgInvoices } from "./invoices.js";
import { PgMessages } from "./messages.js";
import { migrate } from "./migrate.js";
import { ensureInvoicePartitions, type PartitionRun, partitionWindow } from "./partitions.js";
import { PgRegistry } from "./registry.js";
import { PgReports } from "./reports.js";
import type { Store } from "./store.js";
import { PgTvanStore } from "./tvan-store.js";

export class PgStore implements Store {
  readonly registry: PgRegistry;
  readonly invoices: PgInvoices;
  readonly messages: PgMessages;
  readonly reports: PgReports;
  readonly audit: PgAudit;
  /** T-VAN records beyond the message log: answers, registrations (storage/tvan-store.ts). */
  readonly tvan: PgTvanStore;

  constructor(readonly db: Db) {
    this.registry = new PgRegistry(db);
    this.invoices = new PgInvoices(db);
    this.messages = new PgMessages(db);
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

  /** Monthly partitions of invoices around `now`, and for any month found in the default partition (storage/partitions.ts). */
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

  readonly createOfficer: RegistryPort["createOfficer"] = (...a) => this.registry.createOfficer(...a);
  readonly createApiKey: RegistryPort["createApiKey"] = (...a) => this.registry.createApiKey(...a);
  readonly listOfficers: RegistryPort["listOfficers"] = (...a) => this.registry.listOfficers(...a);
  readonly revokeOfficer: RegistryPort["revokeOfficer"] = (...a) => this.registry.revokeOfficer(...a);
  readonly listApiKeys: RegistryPort["listApiKeys"] = (...a) => this.registry.listApiKeys(...a);
  readonly revokeApiKey: RegistryPort["revokeApiKey"] = (...a) => this.registry.revokeApiKey(...a);
  readonly recordCredentialUses: RegistryPort["recordCredentialUses"] = (...a) => this.registry.recordCredentialUses(...a);
  readonly findPrincipal: RegistryPort["findPrincipal"] = (...a) => this.registry.findPrincipal(...a);
  readonly createSeller: RegistryPort["createSeller"] = (...a) => this.registry.createSeller(...a);
  readonly getSeller: RegistryPort["getSeller"] = (...a) => this.registry.getSeller(...a);
  readonly sellerRegistration: RegistryPort["sellerRegistration"] = (...a) => this.registry.sellerRegistration(...a);
  readonly updateSeller: RegistryPort["updateSeller"] = (...a) => this.registry.updateSeller(...a);
  readonly addCertificate: RegistryPort["addCertificate"] = (...a) => this.registry.addCertificate(...a);
  readonly listCertificates: RegistryPort["listCertificates"] = (...a) => this.registry.listCertificates(...a);
  readonly findCertificate: RegistryPort["findCertificate"] = (...a) => this.registry.findCertificate(...a);
  readonly stopCertificate: RegistryPort["stopCertificate"] = (...a) => this.registry.stopCertificate(...a);

  // Invoices ----------------------------------------------------------------------------------

  readonly reserveTransactionNumbers: InvoicesPort["reserveTransactionNumbers"] = (...a) => this.invoices.reserveTransactionNumbers(...a);
  readonly findInvoiceByKey: InvoicesPort["findInvoiceByKey"] = (...a) => this.invoices.findInvoiceByKey(...a);
  readonly findInvoicesByKeys: InvoicesPort["findInvoicesByKeys"] = (...a) => this.invoices.findInvoicesByKeys(...a);
  readonly issueInvoice: InvoicesPort["issueInvoice"] = (...a) => this.invoices.issueInvoice(...a);
  readonly issueInvoices: InvoicesPort["issueInvoices"] = (...a) => this.invoices.issueInvoices(...a);
  readonly cancelInvoice: InvoicesPort["cancelInvoice"] = (...a) => this.invoices.cancelInvoice(...a);
  readonly getInvoice: InvoicesPort["getInvoice"] = (...a) => this.invoices.getInvoice(...a);
  readonly getInvoiceByRegisterCode: InvoicesPort["getInvoiceByRegisterCode"] = (...a) => this.invoices.getInvoiceByRegisterCode(...a);
  readonly getInvoiceXml: InvoicesPort["getInvoiceXml"] = (...a) => this.invoices.getInvoiceXml(...a);
  readonly getInvoiceHistory: InvoicesPort["getInvoiceHistory"] = (...a) => this.invoices.getInvoiceHistory(...a);

  // Messages ----------------------------------------------------------------------------------

  readonly nextNoticeNumber: MessagesPort["nextNoticeNumber"] = (...a) => this.messages.nextNoticeNumber(...a);
  readonly findMessageReply: MessagesPort["findMessageReply"] = (...a) => this.messages.findMessageReply(...a);
  readonly recordMessage: MessagesPort["recordMessage"] = (...a) => this.messages.recordMessage(...a);

  // Reports -----------------------------------------------------------------------------------

  readonly searchInvoices: ReportsPort["searchInvoices"] = (...a) => this.reports.searchInvoices(...a);
  readonly reportTotals: ReportsPort["reportTotals"] = (...a) => this.reports.reportTotals(...a);
  readonly checkRollups: ReportsPort["checkRollups"] = (...a) => this.reports.checkRollups(...a);

  // Audit -------------------------------------------------------------------------------------

  readonly recordAudit: AuditPort["recordAudit"] = (...a) => this.audit.recordAudit(...a);
  readonly listAudit: AuditPort["listAudit"] = (...a) => this.audit.listAudit(...a);
}
