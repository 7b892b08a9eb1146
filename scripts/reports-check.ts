/**
 * Recomputes the report rollups (totals_seller_daily, totals_seller_monthly, totals_daily) from
 * the raw invoices and their per-rate amounts, and compares: exit 0 when they agree, 1 with a
 * readable list of the differences (drift), 2 when the check cannot run.
 *
 *   DATABASE_URL=postgres://… npm run reports:check      # HOADON_DB_SCHEMA=s for tables in schema s
 *   npm run reports:check                                 # the embedded database under HOADON_DATA_DIR
 *                                                         # (./.hoadon): stop the service first, PGlite
 *                                                         # is one process's database
 *
 * Read-only; it runs the three comparisons as plain queries (on a large database, point it at a
 * replica: it reads every counted invoice once per table).
 */
import { sql } from "../src/storage/db.js";
import { openDb } from "../src/storage/index.js";
import { PgStore } from "../src/storage/pg-store.js";
import type { ReportFigures, RollupDrift } from "../src/storage/store.js";

const url = process.env.DATABASE_URL;
const schema = process.env.HOADON_DB_SCHEMA || undefined;
const dataDir = process.env.HOADON_DATA_DIR || "./.hoadon";

const figures = (t: ReportFigures | null): string => (t ? `${t.invoices} invoices, revenue ${t.revenue}, tax ${t.tax}` : "no row");

function report(drift: RollupDrift[]): string {
  const lines = drift.map((d) => `  ${d.table.padEnd(22)} ${d.key.padEnd(36)} expected ${figures(d.expected)}; rollup has ${figures(d.actual)}`);
  return lines.join("\n");
}

let code = 2;
try {
  const db = url ? await openDb({ databaseUrl: url, poolSize: 2, ...(schema ? { schema } : {}) }) : await openDb({ dataDir });
  try {
    const store = new PgStore(db);
    const started = performance.now();
    const [counted] = await db.query<{ n: bigint }>(sql`select count(*) as n from invoices where status in ('issued', 'adjusted')`);
    const drift = await store.checkRollups();
    const ms = Math.round(performance.now() - started);
    const where = url ? "PostgreSQL" : `the embedded database in ${dataDir}`;
    if (drift.length === 0) {
      console.log(`reports:check: the rollups equal their recomputation from ${counted?.n ?? 0n} counted invoices (${where}, ${ms} ms)`);
      code = 0;
    } else {
      console.error(`reports:check: DRIFT: ${drift.length} rollup row(s) differ from the recomputation from ${counted?.n ?? 0n} counted invoices (${where}):`);
      console.error(report(drift));
      console.error("Every write updates the rollups in its own transaction, so drift means a write outside the store or a bug: report it.");
      code = 1;
    }
  } finally {
    await db.close();
  }
} catch (e) {
  console.error(`reports:check: cannot check: ${(e as Error)?.message ?? e}`);
}
process.exit(code);
