/**
 * Applies the pending migrations to DATABASE_URL and exits: the migration step of a Workers
 * deployment (a Worker never migrates) or of a rollout that migrates before starting instances.
 * `npm start` migrates by itself as well, under the same advisory lock.
 *
 *   DATABASE_URL=postgres://… npm run migrate            # tables in public
 *   DATABASE_URL=… HOADON_DB_SCHEMA=s npm run migrate    # tables in schema s (created when missing)
 */
import { openDb } from "../src/storage/index.js";
import { migrate } from "../src/storage/migrate.js";
import { ensureInvoicePartitions, partitionWindow } from "../src/storage/partitions.js";

const url = process.env.DATABASE_URL;
if (!url || !/^postgres(ql)?:\/\//.test(url)) {
  console.error("hoadon migrate: invalid configuration: DATABASE_URL: must be a postgres:// URL");
  process.exit(1);
}
const schema = process.env.HOADON_DB_SCHEMA || undefined;
try {
  const db = await openDb({ databaseUrl: url, poolSize: 1, ...(schema ? { schema } : {}) });
  try {
    const applied = await migrate(db);
    console.log(`hoadon migrate: ${applied.length === 0 ? "nothing to apply" : `applied ${applied.join(", ")}`}`);
    // Monthly partitions of invoices ahead of need (storage/partitions.ts): run this at least monthly.
    const partitions = await ensureInvoicePartitions(db, partitionWindow(new Date()));
    if (partitions.created.length) console.log(`hoadon migrate: created partitions ${partitions.created.join(", ")}`);
    if (partitions.skipped.length) console.log(`hoadon migrate: partitions left for the next run (invoices was locked): ${partitions.skipped.join(", ")}`);
  } finally {
    await db.close();
  }
} catch (e) {
  console.error(`hoadon migrate: ${(e as Error).message}`);
  process.exit(1);
}
