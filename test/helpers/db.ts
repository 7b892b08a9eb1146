/**
 * The store for a test file: a fresh, uniquely named schema on the PostgreSQL server named by
 * DATABASE_URL (dropped again by `close`), else an in-memory PGlite. Opening PGlite takes
 * seconds, so a test file opens one store in beforeAll and shares it; tests keep out of each
 * other's way by using their own sellers and invoice numbers.
 */
import { createHash, randomBytes } from "node:crypto";
import { sql } from "../../src/storage/db.js";
import { openDb } from "../../src/storage/index.js";
import { PgStore } from "../../src/storage/pg-store.js";

/** A PgStore that drops its schema when closed. */
class SchemaStore extends PgStore {
  constructor(
    db: PgStore["db"],
    readonly schema: string,
  ) {
    super(db);
  }

  override async close(): Promise<void> {
    try {
      await this.db.query(sql`drop schema if exists ${sql.ident(this.schema)} cascade`);
    } finally {
      await super.close();
    }
  }
}

/**
 * A second instance's store on the database of `store` (from testStore): on PostgreSQL a pool
 * of its own on the same schema, on PGlite the same in-process database; either way its own
 * registry cache and LISTEN, as another instance of the service has. Close it before `store`
 * (closing it leaves the database and schema alone).
 */
export async function secondStore(store: PgStore): Promise<PgStore> {
  if (store instanceof SchemaStore) return new PgStore(await openDb({ databaseUrl: process.env.DATABASE_URL!, schema: store.schema, poolSize: 2 }));
  return new PgStore({ ...store.db, close: async () => {} });
}

/** Opens and migrates a store for one test file; close it in afterAll. */
export async function testStore(): Promise<PgStore> {
  const databaseUrl = process.env.DATABASE_URL;
  const store = databaseUrl
    ? await (async () => {
        const schema = `test_${process.pid}_${randomBytes(4).toString("hex")}`;
        // A small pool: many test files may run at once against one server.
        return new SchemaStore(await openDb({ databaseUrl, schema, poolSize: 4 }), schema);
      })()
    : new PgStore(await openDb({ dataDir: "memory://" }));
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  return store;
}

/** Each test makes its own sellers and numbers: a random prefix per test file, a counter per call. */
const prefix = String(100000 + Math.floor(Math.random() * 900000));
let counter = 0;
/** A tax code no other test file uses. */
export const newTaxCode = (): string => `${prefix}${String(++counter).padStart(4, "0")}`;
/** A random MCCQT-shaped code. */
export const newCode = (): string => randomBytes(17).toString("hex").toUpperCase();
/** A random content hash. */
export const newHash = (): string => randomBytes(32).toString("base64url");

/** A certificate record of `sellerTaxCode` (random DER bytes: the store does not parse them). */
export function certificateFor(sellerTaxCode: string, serial = randomBytes(8).toString("hex").toUpperCase()) {
  const der = new Uint8Array(randomBytes(300));
  return {
    sellerTaxCode,
    fingerprint: createHash("sha256").update(der).digest("hex"),
    serial,
    issuer: "CN=Hoadon Test CA",
    subject: `UID=MST:${sellerTaxCode}, CN=Test Seller`,
    notBefore: new Date("2026-01-01T00:00:00Z"),
    notAfter: new Date("2028-01-01T00:00:00Z"),
    der,
  };
}
