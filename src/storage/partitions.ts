/**
 * Monthly partitions of invoices (migrations/0003). The DEFAULT partition takes any issue date
 * without a partition, so an insert never fails for want of one; this module creates the
 * months ahead of need and drains the default partition into months of their own.
 *
 * It runs on every start (PgStore.migrate, pg-store.ts), on `npm run migrate`, and daily in a long-running
 * Node process (server.ts). Creating a partition takes an ACCESS EXCLUSIVE lock on invoices for
 * a few milliseconds (CREATE TABLE … PARTITION OF, and a scan of the default partition, which
 * stays small); doing it months ahead keeps that lock away from the first invoices of a month,
 * which would otherwise all queue behind it. A lock that cannot be had within `lockTimeoutMs`
 * (a long report holding invoices) is given up and tried again on the next run: nothing
 * depends on it but the size of the default partition.
 */
import { type Db, sql, sqlState } from "./db.js";

/** The months (first days, YYYY-MM-01) to have ahead: last month through three months ahead of `now`. */
export function partitionWindow(now: Date, before = 1, after = 3): string[] {
  const months: string[] = [];
  for (let k = -before; k <= after; k++) months.push(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + k, 1)).toISOString().slice(0, 10));
  return months;
}

/** invoices_yYYYYmMM */
export const partitionName = (month: string): string => `invoices_y${month.slice(0, 4)}m${month.slice(5, 7)}`;

const nextMonth = (month: string): string => {
  const d = new Date(`${month}T00:00:00Z`);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).toISOString().slice(0, 10);
};

export interface PartitionRun {
  /** Partitions created (their names). */
  created: string[];
  /** Months given up for a lock timeout; the next run tries again. */
  skipped: string[];
}

/**
 * Creates the monthly partitions of `months` (YYYY-MM-01) that do not exist yet, and of every
 * month that has rows in the default partition (moving those rows into it).
 */
export async function ensureInvoicePartitions(db: Db, months: string[], lockTimeoutMs = 5000): Promise<PartitionRun> {
  const stray = await db.query<{ month: string }>(sql`
    select distinct to_char(date_trunc('month', issue_date), 'YYYY-MM-DD') as month from invoices_default`);
  const wanted = [...new Set([...months, ...stray.map((r) => r.month)])].sort();
  const existing = new Set(
    (
      await db.query<{ name: string }>(sql`
        select c.relname as name from pg_inherits h join pg_class c on c.oid = h.inhrelid
        where h.inhparent = 'invoices'::regclass`)
    ).map((r) => r.name),
  );
  const run: PartitionRun = { created: [], skipped: [] };
  for (const month of wanted) {
    if (!/^\d{4}-\d{2}-01$/.test(month)) throw new RangeError(`ensureInvoicePartitions: not the first day of a month: ${month}`);
    const name = partitionName(month);
    if (existing.has(name)) continue;
    try {
      if (await createPartition(db, month, lockTimeoutMs)) run.created.push(name);
    } catch (error) {
      // 55P03 lock_not_available: someone held invoices longer than the timeout.
      if (sqlState(error) !== "55P03") throw error;
      run.skipped.push(name);
    }
  }
  return run;
}

/** One month's partition, in one transaction; false when another process created it first. */
async function createPartition(db: Db, month: string, lockTimeoutMs: number): Promise<boolean> {
  const name = partitionName(month);
  const end = nextMonth(month);
  return db.transaction(async (tx) => {
    await tx.query(`set local lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
    // Taken first, so that the check below and the creation see the same default partition
    // (no insert can slip a row of this month into it in between).
    await tx.query(sql`lock table invoices in access exclusive mode`);
    const [found] = await tx.query<{ found: string | null }>(sql`select to_regclass(${name})::text as found`);
    if (found?.found) return false;
    // A partition cannot be created over rows of its range in the default partition: set them
    // aside, create it, put them back (they are routed into the new partition). Nothing
    // references invoices, so rows may leave and return within the transaction.
    const [stray] = await tx.query<{ n: bigint }>(sql`
      select count(*) as n from invoices_default where issue_date >= ${month}::date and issue_date < ${end}::date`);
    const moving = (stray?.n ?? 0n) > 0n;
    if (moving) {
      await tx.exec(`create temporary table invoices_moving (like invoices) on commit drop`);
      await tx.query(sql`
        with moved as (delete from invoices_default where issue_date >= ${month}::date and issue_date < ${end}::date returning *)
        insert into invoices_moving select * from moved`);
    }
    // Dates come from the regex-checked month: safe to write into the DDL.
    await tx.exec(`create table ${sql.ident(name).text} partition of invoices for values from ('${month}') to ('${end}')`);
    if (moving) await tx.exec(`insert into invoices select * from invoices_moving`);
    return true;
  });
}
