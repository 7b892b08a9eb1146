/**
 * The database under the aggregates (pg-store.ts: migrate, ping, countRows; db.ts: the sql tag,
 * errors), on whichever backend test/helpers/db.ts gives: in-memory PGlite by default, a fresh
 * schema on PostgreSQL when DATABASE_URL is set. Same suite, both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatabaseUnavailableError, sql, sqlState } from "../../src/storage/db.js";
import { openStore } from "../../src/storage/index.js";
import type { PgStore } from "../../src/storage/pg-store.js";
import { testStore } from "../helpers/db.js";

let store: PgStore;
beforeAll(async () => {
  store = await testStore();
});
afterAll(async () => {
  await store?.close();
});

const prefix = String(100000 + Math.floor(Math.random() * 900000));
let counter = 0;
const newTaxCode = (): string => `${prefix}${String(++counter).padStart(4, "0")}`;

describe("sql tag", () => {
  it("numbers parameters in order and splices nested pieces", () => {
    const where = sql`a = ${1} and b = ${"x"}`;
    const q = sql`select * from t where ${where} and c in (${sql.join([sql`${2}`, sql`${3}`])}) limit ${4}`;
    expect(q.text).toBe("select * from t where a = $1 and b = $2 and c in ($3, $4) limit $5");
    expect(q.values).toEqual([1, "x", 2, 3, 4]);
  });

  it("quotes identifiers and refuses undefined parameters", () => {
    expect(sql`select * from ${sql.ident('we"ird')}`.text).toBe('select * from "we""ird"');
    expect(() => sql`select ${undefined}`).toThrow(TypeError);
  });
});

describe("the database", () => {
  it("answers a ping and migrates again without applying anything", async () => {
    await store.ping();
    const before = await store.countRows();
    await Promise.all([store.migrate(), store.migrate()]);
    expect(await store.countRows()).toEqual(before);
  });

  it("counts the rows of every table", async () => {
    const counts = await store.countRows();
    for (const table of ["sellers", "certificates", "officers", "api_keys", "invoices", "invoice_tax_rates", "invoice_events"]) {
      expect(counts[table], table).toBeTypeOf("number");
    }
  });

  it("reports an unreachable server as DatabaseUnavailableError", async () => {
    await expect(openStore({ databaseUrl: "postgres://postgres@127.0.0.1:1/none" })).rejects.toBeInstanceOf(DatabaseUnavailableError);
  });

  it("reports a write refused as read-only (SQLSTATE 25006: a node mid-failover) as DatabaseUnavailableError", async () => {
    const taxCode = newTaxCode();
    const write = store.db.transaction(async (tx) => {
      await tx.exec("set transaction read only");
      await tx.query(sql`insert into sellers (tax_code, name, address) values (${taxCode}, ${"Công ty B"}, ${"Huế"})`);
    });
    const error = await write.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(sqlState((error as Error).cause)).toBe("25006");
    expect(await store.registry.getSeller(taxCode)).toBeNull();
  });
});
