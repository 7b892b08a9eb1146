/**
 * Opening the store: PostgreSQL when a database URL is configured, else the embedded PGlite
 * under the data directory. Either way the migrations have run when the promise resolves.
 */
import { join } from "node:path";
import { type Db, openPostgresDb } from "./db.js";
import { PgStore } from "./pg-store.js";
import { openPgliteDb } from "./pglite.js";
import type { Store } from "./store.js";

export interface StoreOptions {
  /** postgres://… — selects PostgreSQL through Postgres.js. */
  databaseUrl?: string;
  /**
   * Without databaseUrl: the service's data directory. The embedded database lives in its
   * `pglite/` subdirectory (the data directory also holds keys and secrets). "memory://" gives
   * a throw-away in-memory database.
   */
  dataDir?: string;
  /** A PostgreSQL schema for the tables (created when missing) instead of `public`. */
  schema?: string;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** PostgreSQL: give up connecting after this long (default 10 s), so that a dead server answers 503 fast. */
  connectTimeoutSeconds?: number;
  /** Wraps the opened Db (the metrics' timing layer, storage/instrument.ts). */
  instrument?: (db: Db) => Db;
}

/** Opens the database the options name, without migrating. */
export async function openDb(opts: StoreOptions): Promise<Db> {
  if (opts.databaseUrl) {
    return openPostgresDb({
      url: opts.databaseUrl,
      ...(opts.schema === undefined ? {} : { schema: opts.schema }),
      ...(opts.poolSize === undefined ? {} : { poolSize: opts.poolSize }),
      ...(opts.connectTimeoutSeconds === undefined ? {} : { connectTimeoutSeconds: opts.connectTimeoutSeconds }),
    });
  }
  if (!opts.dataDir) throw new Error("openStore: give databaseUrl or dataDir");
  const dataDir = opts.dataDir.startsWith("memory://") ? opts.dataDir : join(opts.dataDir, "pglite");
  return openPgliteDb({ dataDir, ...(opts.schema === undefined ? {} : { schema: opts.schema }) });
}

/** Opens the store and applies pending migrations. */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const db = await openDb(opts);
  const store = new PgStore(opts.instrument ? opts.instrument(db) : db);
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  return store;
}

export { type Db, sql } from "./db.js";
export { PgStore } from "./pg-store.js";
export type * from "./store.js";
