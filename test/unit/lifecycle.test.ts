/**
 * The lifecycle table (domain/lifecycle.ts) and everything that must agree with it: its derived
 * answers, the SQL storage generates from it, the transparency log's type bytes, and the SQL
 * that stays literal (the migrations' CHECKs and backfills), read from the migration files and
 * from a migrated database (PGlite, and PostgreSQL with DATABASE_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  COUNTED_STATUSES,
  countsInReports,
  FINAL_STATUSES,
  fromInWords,
  INITIAL_STATUS,
  INVOICE_EVENT_KINDS,
  INVOICE_STATUSES,
  type InvoiceStatus,
  LIFECYCLE,
  may,
  STATUSES_FOR_DISPLAY,
  type Transition,
  transitionOfRelation,
} from "../../src/domain/lifecycle.js";
import { sql } from "../../src/storage/db.js";
import { COUNTED_LIST, STATUS_IS } from "../../src/storage/lifecycle-sql.js";
import { loadMigrations } from "../../src/storage/migrate.js";
import type { PgStore } from "../../src/storage/pg-store.js";
import { ENTRY_TYPES } from "../../src/tlog/entry.js";
import { testStore } from "../helpers/db.js";

const TRANSITIONS: Transition[] = ["replace", "adjust", "cancel"];

describe("the lifecycle table", () => {
  it("has the contract's statuses in the contract's order, and a stored invoice starts issued", () => {
    expect(INVOICE_STATUSES).toEqual(["issued", "replaced", "adjusted", "cancelled"]);
    expect(INITIAL_STATUS).toBe("issued");
  });

  it("lets an issued or adjusted invoice be replaced, adjusted or cancelled, and nothing leave replaced or cancelled", () => {
    const allowed = Object.fromEntries(INVOICE_STATUSES.map((s) => [s, TRANSITIONS.filter((t) => may(t, s))]));
    expect(allowed).toEqual({ issued: ["replace", "adjust", "cancel"], adjusted: ["replace", "adjust", "cancel"], replaced: [], cancelled: [] });
    expect(FINAL_STATUSES).toEqual(["replaced", "cancelled"]);
  });

  it("moves to replaced, adjusted and cancelled", () => {
    expect(TRANSITIONS.map((t) => LIFECYCLE.transitions[t].to)).toEqual(["replaced", "adjusted", "cancelled"]);
  });

  it("counts issued and adjusted invoices in reports, not replaced or cancelled ones", () => {
    expect(INVOICE_STATUSES.filter(countsInReports)).toEqual(["issued", "adjusted"]);
    expect(COUNTED_STATUSES).toEqual(["issued", "adjusted"]);
  });

  it("lists statuses in force first on the pages", () => {
    expect(STATUSES_FOR_DISPLAY).toEqual(["issued", "adjusted", "replaced", "cancelled"]);
  });

  it("writes the contract's event kinds, in the contract's order", () => {
    expect(INVOICE_EVENT_KINDS).toEqual(["issued", "replaced", "replaces", "adjusted", "adjusts", "cancelled"]);
  });

  it("maps a replacing and an adjusting invoice to their transitions", () => {
    expect(transitionOfRelation("replaces")).toBe("replace");
    expect(transitionOfRelation("adjusts")).toBe("adjust");
  });

  it("says where a transition may start in words, as the refusal messages have it", () => {
    expect(fromInWords("cancel")).toBe("issued or adjusted");
    expect(fromInWords("replace")).toBe("issued or adjusted");
  });
});

describe("what is generated from the table", () => {
  it("builds the status filters and the counted list as SQL literals", () => {
    expect(STATUS_IS.cancelled.text).toBe("status = 'cancelled'");
    expect(STATUS_IS.cancelled.values).toEqual([]);
    expect(Object.keys(STATUS_IS)).toEqual([...INVOICE_STATUSES]);
    expect(COUNTED_LIST.text).toBe("('issued', 'adjusted')");
    expect(COUNTED_LIST.values).toEqual([]);
  });

  it("keeps the transparency log's type bytes (1 issued … 4 cancelled, then 5 uncoded, 6 cashRegister)", () => {
    expect(ENTRY_TYPES).toEqual(["issued", "replaced", "adjusted", "cancelled", "uncoded", "cashRegister"]);
  });
});

/** The quoted words of an SQL list: `('issued', 'adjusted')` → ["issued", "adjusted"]. */
const words = (list: string): string[] => [...list.matchAll(/'([^']*)'/g)].map((m) => m[1]!);
const sorted = (xs: readonly string[]): string[] => [...xs].sort();

describe("the migrations' literal SQL agrees with the table", () => {
  it("allows exactly the table's statuses and event kinds (every CHECK on invoices.status and invoice_events.event)", async () => {
    const text = (await loadMigrations()).map((m) => m.sql).join("\n");
    const statusChecks = [...text.matchAll(/^\s*status\s+text not null check \(status in \(([^)]*)\)\)/gm)].map((m) => words(m[1]!));
    const invoiceChecks = statusChecks.filter((ws) => ws.some((w) => (INVOICE_STATUSES as readonly string[]).includes(w)));
    expect(invoiceChecks).toHaveLength(2); // 0001 and the partitioned table of 0003
    for (const ws of invoiceChecks) expect(sorted(ws)).toEqual(sorted(INVOICE_STATUSES));
    const eventChecks = [...text.matchAll(/event\s+text not null check \(event in \(([^)]*)\)\)/g)].map((m) => words(m[1]!));
    expect(eventChecks).toHaveLength(1);
    expect(sorted(eventChecks[0]!)).toEqual(sorted(INVOICE_EVENT_KINDS));
  });

  it("backfills the rollups from the counted statuses only (0003, 0013)", async () => {
    const backfills = (await loadMigrations()).flatMap((m) => [...m.sql.matchAll(/where (?:i\.)?status in \(([^)]*)\)/g)].map((x) => ({ name: m.name, list: words(x[1]!) })));
    expect(new Set(backfills.map((b) => b.name.slice(0, 4)))).toEqual(new Set(["0003", "0013"]));
    for (const b of backfills) expect(b.list).toEqual([...COUNTED_STATUSES]);
  });

  it("leaves only the initial status out of the status index (0006), so a search for any other status can use it", async () => {
    const m = (await loadMigrations()).find((x) => x.name.startsWith("0006"))!;
    expect(words(/where status <> ('[^']*')/.exec(m.sql)![1]!)).toEqual([INITIAL_STATUS]);
  });
});

describe("the migrated database agrees with the table", () => {
  let store: PgStore;
  beforeAll(async () => {
    store = await testStore();
  }, 120_000);
  afterAll(async () => {
    await store?.close();
  });

  const checks = async (table: string): Promise<string[]> =>
    (
      await store.db.query<{ def: string }>(sql`
        select pg_get_constraintdef(c.oid) as def from pg_constraint c
         where c.conrelid = to_regclass(${table}) and c.contype = 'c' order by c.conname`)
    ).map((r) => r.def);

  it("refuses any status outside the table, and allows each of the table's", async () => {
    const status = (await checks("invoices")).filter((d) => /\bstatus\b/.test(d));
    expect(status).toHaveLength(1);
    expect(sorted(words(status[0]!))).toEqual(sorted(INVOICE_STATUSES));
  });

  it("asks a related code of exactly the events of a relation, and a reason of the cancellation's event", async () => {
    const defs = await checks("invoice_events");
    const related = defs.find((d) => d.includes("related_code"));
    const reason = defs.find((d) => d.includes("reason"));
    const relational = Object.values(LIFECYCLE.transitions).flatMap((t): string[] => (t.causeEvent === null ? [] : [t.event, t.causeEvent]));
    expect(sorted(words(related!))).toEqual(sorted(relational));
    expect(words(reason!)).toEqual([LIFECYCLE.transitions.cancel.event]);
  });

  it("selects exactly the counted statuses with the generated list, on the database", async () => {
    const statuses = await store.db.query<{ s: InvoiceStatus }>(sql`select unnest(array[${sql.join(INVOICE_STATUSES.map((s) => sql.literal(s)))}]) as s`);
    expect(statuses.map((r) => r.s)).toEqual([...INVOICE_STATUSES]);
    const counted = await store.db.query<{ n: number }>(sql`select count(*)::int as n from (select unnest(array['issued', 'replaced', 'adjusted', 'cancelled']) as status) x where status in ${COUNTED_LIST}`);
    expect(counted[0]!.n).toBe(COUNTED_STATUSES.length);
  });
});
