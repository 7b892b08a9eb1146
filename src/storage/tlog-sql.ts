/**
 * The transparency log's SQL (migrations/0009_transparency_log.sql). The submission path uses
 * only `tlogPendingCte`, a piece of the statement its transaction ends with (Tail in transaction.ts);
 * the rest is the sequencer's and the readers'.
 */
import { type Db, jsonRows, type Sql, sql } from "./db.js";

/** `tlog as (insert …)`: appends entries (in order) to tlog_pending, inside the event's statement (if `onlyIf` holds: Tail.ctes). */
export function tlogPendingCte(entries: readonly Uint8Array[], onlyIf: Sql = sql`true`): Sql {
  // base64: a third of the text that hex would be.
  const rows = entries.map((e) => ({ e: Buffer.from(e.buffer, e.byteOffset, e.byteLength).toString("base64") }));
  return sql`tlog as (
    insert into tlog_pending (entry)
    select decode(p.e, 'base64') from rows from (json_to_recordset(${jsonRows(rows)}::text::json) as (e text)) with ordinality as p (e, ord)
     where ${onlyIf}
     order by p.ord)`;
}

/** Appends entries outside any event (the benchmark): the same insert as the CTE. */
export async function appendPending(db: Db, entries: readonly Uint8Array[]): Promise<void> {
  if (entries.length === 0) return;
  await db.query(sql`with ${tlogPendingCte(entries)} select 1`);
}

export interface TlogState {
  size: number;
  root: Uint8Array;
  checkpoint: string | null;
  signedAt: Date | null;
}

interface StateRow {
  size: bigint;
  root: Uint8Array;
  checkpoint: string | null;
  signed_at: Date | null;
}
const toState = (r: StateRow): TlogState => ({ size: Number(r.size), root: r.root, checkpoint: r.checkpoint, signedAt: r.signed_at });

export async function readState(db: Db): Promise<TlogState> {
  const [row] = await db.query<StateRow>(sql`select size, root, checkpoint, signed_at from tlog_state where id = 1`);
  if (!row) throw new Error("tlog_state has no row (migration 0009)");
  return toState(row);
}

/** Locks the state row for this transaction; null when another sequencer holds it. */
export async function lockState(tx: Db): Promise<TlogState | null> {
  const [row] = await tx.query<StateRow>(sql`select size, root, checkpoint, signed_at from tlog_state where id = 1 for update skip locked`);
  return row ? toState(row) : null;
}

/**
 * Takes (deletes and returns) up to `limit` committed pending entries, in append order.
 * `id = any(array(…))`, not `id in (…)`: PostgreSQL plans the latter as a hash semi-join over a
 * sequential scan of the whole table, so each run cost O(backlog) (a 10-million backlog was
 * sequenced at ≈ 3,750 leaves/s); the array is probed through the primary key, O(limit).
 */
export async function takePending(tx: Db, limit: number): Promise<{ id: bigint; entry: Uint8Array }[]> {
  const rows = await tx.query<{ id: bigint; entry: Uint8Array }>(sql`
    delete from tlog_pending where id = any(array(select id from tlog_pending order by id limit ${limit}))
    returning id, entry`);
  return rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** What /metrics shows of the log (tlog/log.ts observe): the state, the backlog and its oldest entry. */
export async function observeLog(db: Db): Promise<{ size: number; signedAt: Date | null; pending: number; oldest: Uint8Array | null }> {
  const [row] = await db.query<{ size: bigint; signed_at: Date | null; pending: bigint; oldest: Uint8Array | null }>(sql`
    select s.size, s.signed_at,
           (select count(*) from tlog_pending) as pending,
           (select p.entry from tlog_pending p order by p.id limit 1) as oldest
      from tlog_state s where s.id = 1`);
  if (!row) throw new Error("tlog_state has no row (migration 0009)");
  return { size: Number(row.size), signedAt: row.signed_at, pending: Number(row.pending), oldest: row.oldest };
}

export async function readTiles(db: Db, tiles: readonly { level: number; n: number }[]): Promise<{ level: number; n: number; hashes: Uint8Array }[]> {
  if (tiles.length === 0) return [];
  const rows = await db.query<{ level: number; n: bigint; hashes: Uint8Array }>(sql`
    select t.level, t.n, t.hashes
      from json_to_recordset(${jsonRows(tiles)}::text::json) as w (level smallint, n bigint)
      join tlog_tiles t on t.level = w.level and t.n = w.n`);
  return rows.map((r) => ({ level: r.level, n: Number(r.n), hashes: r.hashes }));
}

export async function readBundle(db: Db, n: number): Promise<Uint8Array | null> {
  const [row] = await db.query<{ entries: Uint8Array }>(sql`select entries from tlog_bundles where n = ${n}`);
  return row?.entries ?? null;
}

/** Writes what one sequencing run made: tiles and bundles (new or grown), the code index, the state. */
export async function writeSequenced(
  tx: Db,
  w: {
    tiles: { level: number; n: number; hashes: Uint8Array }[];
    bundles: { n: number; entries: Uint8Array }[];
    codes: { code: string; idx: number }[];
    state: { size: number; root: Uint8Array; checkpoint: string };
  },
): Promise<void> {
  const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
  const tiles = w.tiles.map((t) => ({ level: t.level, n: t.n, h: b64(t.hashes) }));
  const bundles = w.bundles.map((b) => ({ n: b.n, e: b64(b.entries) }));
  await tx.query(sql`
    with tiles as (
      insert into tlog_tiles (level, n, hashes)
      select level, n, decode(h, 'base64') from json_to_recordset(${jsonRows(tiles)}::text::json) as (level smallint, n bigint, h text)
      on conflict (level, n) do update set hashes = excluded.hashes),
    bundles as (
      insert into tlog_bundles (n, entries)
      select n, decode(e, 'base64') from json_to_recordset(${jsonRows(bundles)}::text::json) as (n bigint, e text)
      on conflict (n) do update set entries = excluded.entries),
    codes as (
      insert into tlog_codes (code, idx)
      select code, idx from json_to_recordset(${jsonRows(w.codes)}::text::json) as (code char(34), idx bigint))
    update tlog_state set size = ${w.state.size}, root = ${w.state.root}, checkpoint = ${w.state.checkpoint}, signed_at = now()
     where id = 1`);
}

/** Signs the state's checkpoint again (same size: a new key, or none signed yet). */
export async function writeCheckpoint(tx: Db, checkpoint: string): Promise<void> {
  await tx.query(sql`update tlog_state set checkpoint = ${checkpoint}, signed_at = now() where id = 1`);
}

/** The leaf indexes of a code, in order (its issue first). */
export async function codeLeaves(db: Db, code: string): Promise<number[]> {
  const rows = await db.query<{ idx: bigint }>(sql`select idx from tlog_codes where code = ${code} order by idx`);
  return rows.map((r) => Number(r.idx));
}
