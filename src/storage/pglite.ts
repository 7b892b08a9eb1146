/**
 * The embedded PostgreSQL (PGlite) behind the same Db interface as PostgreSQL (db.ts). A module
 * of its own so that nothing else (the Workers bundle in particular) pulls in PGlite or node:fs.
 */
import { mkdir } from "node:fs/promises";
import type { PGlite, Transaction as PgliteTransaction } from "@electric-sql/pglite";
import { checkSchema, DatabaseUnavailableError, type Db, mapped, OID, SESSION, type SqlQuery, TextParts, toQuery } from "./db.js";

export interface PgliteDbOptions {
  /** A directory (created when missing) or "memory://" for a throw-away database. */
  dataDir: string;
  /** Tables live in this schema (created when missing) instead of `public`. */
  schema?: string;
}

/** Opens (creating it when new) an embedded PGlite database. Takes a few seconds. */
export async function openPgliteDb(opts: PgliteDbOptions): Promise<Db> {
  const schema = opts.schema === undefined ? undefined : checkSchema(opts.schema);
  const { PGlite } = await import("@electric-sql/pglite");
  const inMemory = opts.dataDir.startsWith("memory://");
  let pg: PGlite;
  try {
    if (!inMemory) await mkdir(opts.dataDir, { recursive: true });
    pg = await PGlite.create({
      dataDir: opts.dataDir,
      parsers: {
        // PGlite turns int8 into a JS number (losing precision past 2^53) and dates into Dates.
        [OID.int8]: (x: string) => BigInt(x),
        [OID.date]: (x: string) => x,
      },
    });
  } catch (error) {
    throw new DatabaseUnavailableError(`Cannot open the embedded database under ${opts.dataDir}`, { cause: error });
  }

  let savepoints = 0;
  const wrap = (conn: PGlite | PgliteTransaction, inTransaction: boolean): Db => ({
    engine: "pglite",
    query<T>(textOrQuery: string | SqlQuery, params?: readonly unknown[]): Promise<T[]> {
      const q = toQuery(textOrQuery, params);
      const values = q.values.map((v) => (v instanceof TextParts ? v.parts.join("") : v));
      return mapped(async () => (await conn.query<T>(q.text, values)).rows);
    },
    exec(script: string): Promise<void> {
      return mapped(async () => {
        await conn.exec(script);
      });
    },
    transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      if (!inTransaction) return mapped(() => (conn as PGlite).transaction((tx) => fn(wrap(tx, true))));
      // PGlite has no nested transactions: a savepoint does the same job.
      return mapped(async () => {
        const name = `sp_${++savepoints}`;
        await conn.query(`savepoint ${name}`);
        try {
          const result = await fn(wrap(conn, true));
          await conn.query(`release savepoint ${name}`);
          return result;
        } catch (error) {
          await conn.query(`rollback to savepoint ${name}`);
          throw error;
        }
      });
    },
    close(): Promise<void> {
      if (inTransaction) return Promise.reject(new Error("close() inside a transaction"));
      return (conn as PGlite).close();
    },
    ...(inTransaction
      ? {}
      : {
          // One session, in this process: listening is established once and never drops.
          async listen(channel: string, onNotify: (payload: string) => void, onListen: () => void, _onLost: () => void) {
            const unlisten = await mapped(() => (conn as PGlite).listen(channel, onNotify));
            onListen();
            return () => unlisten();
          },
        }),
  });

  // PGlite is a single session, so plain SETs hold for every later query.
  const settings = [
    `set TimeZone = '${SESSION.TimeZone}'`,
    `set DateStyle = '${SESSION.DateStyle}'`,
    ...(schema === undefined ? [] : [`create schema if not exists "${schema}"`, `set search_path = "${schema}"`]),
  ];
  const db = wrap(pg, false);
  await db.exec(settings.join(";\n"));
  return db;
}
