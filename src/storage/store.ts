/**
 * The store: the domain's ports (domain/ports.ts) and what only the service's own wiring needs
 * (migrations, health, partitions, the T-VAN reads of the officers' pages). One implementation
 * (storage/pg-store.ts, composed of one object per aggregate) runs the same SQL on PostgreSQL
 * (postgres.js) and on PGlite. The vocabulary is the domain's (domain/model.ts), re-exported here.
 */
import type { AuditPort, InvoicesPort, MessagesPort, RegistryPort, ReportsPort } from "../domain/ports.js";
import type { PgTvanStore } from "./tvan-store.js";

export * from "../domain/model.js";
export * from "../domain/ports.js";

/** What a read replica serves (Services.readStore): the reports and searches, and a seller's name beside them. */
export type ReadStore = ReportsPort & Pick<RegistryPort, "getSeller">;

export interface Store extends RegistryPort, InvoicesPort, MessagesPort, ReportsPort, AuditPort {
  /** T-VAN records beyond the message log: answers, registrations (storage/tvan-store.ts). */
  readonly tvan: PgTvanStore;
  /** Applies the SQL migrations that have not run yet (idempotent, safe on every start). */
  migrate(): Promise<void>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Counts rows per table; tests use it to prove that a refusal stored nothing. */
  countRows(): Promise<Record<string, number>>;
  /**
   * Monthly partitions of invoices: last month through three months ahead of `now`, and every
   * month with rows in the default partition (moved into it). Run on start and daily.
   */
  ensurePartitions(now: Date): Promise<{ created: string[]; skipped: string[] }>;
}
