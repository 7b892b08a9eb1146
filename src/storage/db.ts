/**
 * A minimal SQL executor with two drivers behind it: PostgreSQL through Postgres.js and the
 * embedded PGlite. The store writes one SQL text (the `sql` tag numbers the parameters
 * `$1…$n`) and both engines run exactly that text with the extended protocol.
 *
 * Results look the same on both engines (the adapters install the same parsers):
 *   int2/int4 → number · int8 (bigint, count(*)) → bigint · numeric → decimal string ·
 *   date → "YYYY-MM-DD" string · timestamptz → Date · bytea → Uint8Array · uuid, text → string.
 * Both sessions run with TimeZone=UTC and DateStyle=ISO, so text casts agree as well.
 *
 * Errors: a unique violation (SQLSTATE 23505) surfaces as UniqueViolationError; a database that
 * cannot be reached (refused, dropped or shut-down connection, PGlite closed) or cannot write
 * now (SQLSTATE 25006: a node mid-failover, docs/high-availability.md) as
 * DatabaseUnavailableError, which the HTTP layer answers with 503. Any other error is the
 * driver's own, with its SQLSTATE in `code` (read it with `sqlState`).
 */
import postgres from "postgres";
import { StoreUnavailableError, WriteConflictError } from "../domain/ports.js";

/** A query text with `$n` placeholders and its values, in order. */
export interface SqlQuery {
  readonly text: string;
  readonly values: readonly unknown[];
  /**
   * Planned afresh at each execution (PostgreSQL: an unnamed statement) instead of prepared
   * once per connection: for a statement whose best plan depends on how large the tables have
   * grown since the connection prepared it (see keysIn in invoices.ts).
   */
  readonly unprepared?: boolean;
}

export interface Db {
  /** Runs one statement; `text` may carry `$n` placeholders. */
  query<T>(text: string, params?: readonly unknown[]): Promise<T[]>;
  query<T>(q: SqlQuery): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  /** Runs `fn` in a transaction (a savepoint when already inside one); throws roll it back. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  readonly engine: "postgres" | "pglite";
  /**
   * LISTENs on `channel`: `onNotify` for each notification, `onListen` each time the listening
   * session is (re)established, `onLost` as soon as it is lost (notifications sent meanwhile are
   * lost: a caller that keeps state by them must stop trusting it until `onListen`). Resolves
   * with the function that stops listening. Absent on a transaction's Db.
   */
  listen?(channel: string, onNotify: (payload: string) => void, onListen: () => void, onLost: () => void): Promise<() => Promise<void>>;
}

// ---------------------------------------------------------------------------------------------
// The `sql` tag

/** A piece of SQL built by the `sql` tag; pieces nest and are renumbered when they do. */
export class Sql implements SqlQuery {
  /** @internal chunks.length === values.length + 1: text between the placeholders. */
  constructor(
    readonly chunks: readonly string[],
    readonly values: readonly unknown[],
  ) {}

  get text(): string {
    let text = this.chunks[0] ?? "";
    for (let i = 1; i < this.chunks.length; i++) text += `$${i}${this.chunks[i]}`;
    return text;
  }
}

function tag(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  const chunks: string[] = [strings[0] ?? ""];
  const params: unknown[] = [];
  values.forEach((value, i) => {
    const next = strings[i + 1] ?? "";
    if (value instanceof Sql) {
      chunks[chunks.length - 1] += value.chunks[0] ?? "";
      // Loops, not push(...spread): a large batch has more values than a call may take arguments.
      for (let k = 1; k < value.chunks.length; k++) chunks.push(value.chunks[k]!);
      for (const v of value.values) params.push(v);
      chunks[chunks.length - 1] += next;
    } else {
      // Postgres.js refuses undefined and PGlite would send NULL: refuse it on both, so a
      // missing field is a bug found in tests rather than a silent NULL.
      if (value === undefined) throw new TypeError(`sql: parameter ${params.length + 1} is undefined`);
      params.push(value);
      chunks.push(next);
    }
  });
  return new Sql(chunks, params);
}

/**
 * Joins pieces of SQL with a separator (default ", "). Linear in the total size: a batch's
 * multi-row insert joins thousands of rows (a fold over the template tag copied the whole
 * accumulated query at every step, ~16 ms for 500 rows of 18 values).
 */
function join(parts: readonly Sql[], separator: Sql = new Sql([", "], [])): Sql {
  const chunks: string[] = [""];
  const values: unknown[] = [];
  const append = (piece: Sql) => {
    chunks[chunks.length - 1] += piece.chunks[0] ?? "";
    for (let i = 1; i < piece.chunks.length; i++) chunks.push(piece.chunks[i]!);
    for (const v of piece.values) values.push(v);
  };
  parts.forEach((part, i) => {
    if (i > 0) append(separator);
    append(part);
  });
  return new Sql(chunks, values);
}

/** A quoted identifier (a table or schema name that cannot be a parameter). */
function ident(name: string): Sql {
  return new Sql([`"${name.replaceAll('"', '""')}"`], []);
}

/**
 * A string constant of the code as an SQL literal (a status, a source): where a partial index's
 * predicate must be implied by the query text itself, which a parameter would not do in a generic
 * plan. Never for input.
 */
function literal(value: string): Sql {
  return new Sql([`'${value.replaceAll("'", "''")}'`], []);
}

/**
 * Tagged-template SQL: ``sql`select … where a = ${x}` `` gives `{text: "select … where a = $1",
 * values: [x]}`. Interpolated `Sql` pieces are spliced in (not parameters); see `sql.join`,
 * `sql.ident`, `sql.literal`.
 */
export const sql = Object.assign(tag, { join, ident, literal });

/**
 * Rows for a statement as ONE parameter: a JSON array that json_to_recordset turns back into
 * typed rows, in order. The statement's text is then the same for 1 row or 1,000, so each
 * connection prepares it once: a multi-row VALUES list is a new statement for every row count
 * (and combination of counts), each kept prepared by the driver and the server until the
 * connection closes — gigabytes per connection under a bulk load. Amounts travel as strings
 * and are read as numeric: exact. Cast `::text::json`: a parameter typed json would be
 * JSON-encoded once more by Postgres.js.
 */
export const jsonRows = (rows: readonly object[]): string => JSON.stringify(rows);

// ---------------------------------------------------------------------------------------------
// Errors

/** The database cannot be reached or is shutting down: retry later (HTTP 503). */
export class DatabaseUnavailableError extends StoreUnavailableError {
  override readonly name = "DatabaseUnavailableError";
  constructor(message = "The database is unavailable.", options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** SQLSTATE 23505: an insert or update hit a unique constraint. */
export class UniqueViolationError extends WriteConflictError {
  override readonly name = "UniqueViolationError";
  readonly code = "23505";
  constructor(
    readonly constraint: string | null,
    options?: { cause?: unknown },
  ) {
    super(`unique violation${constraint ? ` on ${constraint}` : ""}`, options);
  }
}

/** The SQLSTATE of a database error (both drivers put it in `code`), if it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

// Node socket errors and Postgres.js' own connection errors.
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);

function isUnavailable(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(isUnavailable);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && CONNECTION_CODES.has(code)) return true;
  const state = sqlState(error);
  if (state) {
    // 08: connection exception; 53: insufficient resources (too many connections, disk full);
    // 57P01-57P03: admin/crash shutdown, cannot connect now; 28: bad credentials; 3D000: no such
    // database; 25006: a write refused as read-only, which the service's own transactions never
    // are: the node is a standby, or a secondary being promoted (pg_auto_failover keeps it
    // read-only until the old primary is known to be down). All mean "this database cannot
    // serve us now", not "this request is wrong".
    return (
      state.startsWith("08") ||
      state.startsWith("53") ||
      state.startsWith("28") ||
      ["57P01", "57P02", "57P03", "3D000", "25006"].includes(state)
    );
  }
  return error instanceof Error && /PGlite is closed/i.test(error.message);
}

/** Maps driver errors to the two classes callers act on; other errors pass unchanged. */
export function mapDbError(error: unknown): unknown {
  if (error instanceof DatabaseUnavailableError || error instanceof UniqueViolationError) return error;
  if (sqlState(error) === "23505") {
    const e = error as { constraint?: string; constraint_name?: string };
    return new UniqueViolationError(e.constraint ?? e.constraint_name ?? null, { cause: error });
  }
  if (isUnavailable(error)) {
    const detail = error instanceof Error ? error.message : String(error);
    return new DatabaseUnavailableError(`The database is unavailable: ${detail}`, { cause: error });
  }
  return error;
}

/** @internal Runs `work`, mapping driver errors (shared with pglite.ts). */
export async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw mapDbError(error);
  }
}

/** @internal */
export function toQuery(textOrQuery: string | SqlQuery, params?: readonly unknown[]): SqlQuery {
  const q: SqlQuery = typeof textOrQuery === "string" ? { text: textOrQuery, values: params ?? [] } : textOrQuery;
  const missing = q.values.indexOf(undefined);
  if (missing >= 0) throw new TypeError(`query: parameter ${missing + 1} is undefined`);
  return q;
}

/** Schema names are interpolated into SET/CREATE statements: allow only plain identifiers. */
export function checkSchema(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new TypeError(`invalid schema name: ${schema}`);
  return schema;
}

// The session settings both engines run with, so that text casts of dates and times agree.
export const SESSION = { TimeZone: "UTC", DateStyle: "ISO, YMD" } as const;

// OIDs of the types whose parsing we pin (pg_type.oid, stable across versions).
export const OID = { int8: 20, bytea: 17, text: 25, date: 1082 } as const;

/**
 * A text parameter given in parts, which the driver writes one after the other (the stamped XMLs
 * of a group, storage/invoices.ts): Postgres.js encodes each part once into its message, with no
 * joined copy and no separate pass to measure it (our patch to its Bind, patches/). Two-byte
 * strings of ≈ 11,000 characters each, those two passes were ≈ 28 µs an invoice on Node 24
 * (load-tests/RESULTS.md). PGlite gets the joined text.
 */
export class TextParts {
  constructor(readonly parts: readonly string[]) {}
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL through Postgres.js

export interface PostgresDbOptions {
  url: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Tables live in this schema (created when missing) instead of `public`. */
  schema?: string;
  connectTimeoutSeconds?: number;
  /**
   * Connect (and create the schema) before returning (default true). Workers open a client per
   * request and skip it: the first query connects, and the schema was made by the migrations.
   */
  probe?: boolean;
  /** Let Postgres.js read the server's array types on connecting (default true; one round trip more per new client). */
  fetchTypes?: boolean;
}

type PgClient = postgres.Sql<Record<string, unknown>>;

/**
 * How long a pooled connection that closed on an error waits before it reconnects, after the
 * pool's `retries`-th failed attempt in a row: 0.05 s doubling, at most 1 s, with jitter.
 * Postgres.js' default grows as 3^retries/100 up to 20 s, and a connection keeps the delay it
 * got when it closed even after the server is back: after an outage of a few seconds (dozens of
 * refused attempts), a request queued on such a connection waited 10–18 s while /readyz already
 * answered 200 (test/faults/postgres-down.test.ts). While the server is down a request is
 * answered 503 at once either way; the short cap only bounds how long recovery takes.
 */
export function reconnectDelaySeconds(retries: number): number {
  return (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 1);
}

/** Opens a pool on a PostgreSQL server. Connects (and creates the schema) before returning. */
export async function openPostgresDb(opts: PostgresDbOptions): Promise<Db> {
  const schema = opts.schema === undefined ? undefined : checkSchema(opts.schema);
  const client = postgres(opts.url, {
    max: opts.poolSize ?? 10,
    connect_timeout: opts.connectTimeoutSeconds ?? 10,
    backoff: reconnectDelaySeconds,
    fetch_types: opts.fetchTypes ?? true,
    // NOTICEs (e.g. "relation already exists, skipping") are not worth a console line.
    onnotice: () => {},
    // Startup parameters: every pooled connection gets them, including reconnects, which a
    // `SET` after connecting would not guarantee. A search_path naming a schema that does not
    // exist yet is accepted; it takes effect once the schema is created below.
    connection: {
      application_name: "hoadon",
      ...SESSION,
      ...(schema === undefined ? {} : { search_path: `"${schema}"` }),
    },
    types: {
      bigint: postgres.BigInt,
      // Postgres.js turns dates into JS Dates at local midnight; keep the ISO text instead.
      isoDate: {
        to: OID.date,
        from: [OID.date],
        serialize: (x: unknown) => (x instanceof Date ? x.toISOString().slice(0, 10) : String(x)),
        parse: (x: string) => x,
      },
      // TextParts go to Bind as the array of their parts (our patch writes each); other text as before.
      textParts: {
        to: OID.text,
        from: [],
        serialize: (x: unknown) => (x instanceof TextParts ? x.parts : "" + x),
        parse: (x: string) => x,
      },
      // Postgres.js gives Buffers; hand out plain Uint8Arrays like PGlite.
      bytes: {
        to: OID.bytea,
        from: [OID.bytea],
        serialize: (x: Uint8Array) => "\\x" + Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("hex"),
        parse: (x: string) => new Uint8Array(Buffer.from(x.slice(2), "hex")),
      },
    },
  }) as unknown as PgClient;

  const wrap = (conn: PgClient | postgres.TransactionSql<Record<string, unknown>>, inTransaction: boolean): Db => ({
    engine: "postgres",
    query<T>(textOrQuery: string | SqlQuery, params?: readonly unknown[]): Promise<T[]> {
      const q = toQuery(textOrQuery, params);
      // simple: false keeps the extended protocol even without parameters, as PGlite does
      // (so a script of several statements fails the same way on both engines).
      const options = { prepare: !q.unprepared, simple: false } as postgres.UnsafeQueryOptions;
      const values = q.values.some((v) => v instanceof TextParts) ? q.values.map((v) => (v instanceof TextParts ? client.typed(v as never, OID.text) : v)) : q.values;
      return mapped(async () => Array.from(await conn.unsafe(q.text, values as never[], options)) as T[]);
    },
    exec(script: string): Promise<void> {
      return mapped(async () => {
        await conn.unsafe(script);
      });
    },
    transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      return mapped(async () => {
        if (inTransaction) {
          const tx = conn as postgres.TransactionSql<Record<string, unknown>>;
          return (await tx.savepoint((sp) => fn(wrap(sp, true)))) as T;
        }
        return (await (conn as PgClient).begin((tx) => fn(wrap(tx, true)))) as T;
      });
    },
    close(): Promise<void> {
      if (inTransaction) return Promise.reject(new Error("close() inside a transaction"));
      return (conn as PgClient).end({ timeout: 5 });
    },
    ...(inTransaction
      ? {}
      : {
          listen: (channel: string, onNotify: (payload: string) => void, onListen: () => void, onLost: () => void) => listenOn(opts, channel, onNotify, onListen, onLost),
        }),
  });

  const db = wrap(client, false);
  if (opts.probe === false) return db;
  try {
    if (schema !== undefined) await createSchema(db, schema);
    else await db.query("select 1");
  } catch (error) {
    await client.end({ timeout: 1 }).catch(() => {});
    throw error;
  }
  return db;
}

/**
 * LISTEN on a connection of its own, outside the pool. Not Postgres.js' `listen`: while the
 * server is down, that one re-listens from its close handler as fast as connections are refused
 * (a busy loop that starved the service), and says nothing when the session is lost. Here a lost
 * session is reported at once and retried with a backoff of 0.5 s doubling to 10 s.
 */
async function listenOn(opts: PostgresDbOptions, channel: string, onNotify: (payload: string) => void, onListen: () => void, onLost: () => void): Promise<() => Promise<void>> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  // onnotify is an option of Postgres.js (src/index.js parseOptions) that its types leave out.
  const options = {
    max: 1,
    idle_timeout: 0,
    max_lifetime: null,
    fetch_types: false,
    connect_timeout: opts.connectTimeoutSeconds ?? 10,
    onnotice: () => {},
    connection: { application_name: "hoadon-listen", ...SESSION },
    onnotify: (c: string, payload: string) => {
      if (c === channel) onNotify(payload);
    },
    onclose: () => {
      if (stopped) return;
      onLost();
      retry();
    },
  };
  const conn = postgres(opts.url, options as unknown as postgres.Options<Record<string, postgres.PostgresType>>);
  const statement = `listen "${channel.replaceAll('"', '""')}"`;
  const attempt = async () => {
    try {
      await conn.unsafe(statement);
      failures = 0;
      onListen();
    } catch {
      retry();
    }
  };
  function retry(): void {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void attempt();
    }, Math.min(500 * 2 ** failures++, 10_000));
    timer.unref();
  }
  try {
    await mapped(() => conn.unsafe(statement));
  } catch (error) {
    stopped = true;
    await conn.end({ timeout: 1 }).catch(() => {});
    throw error;
  }
  onListen();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await conn.end({ timeout: 1 }).catch(() => {});
  };
}

async function createSchema(db: Db, schema: string): Promise<void> {
  try {
    await db.exec(`create schema if not exists "${schema}"`);
  } catch (error) {
    // Two instances starting at once can both pass "if not exists": the loser sees 23505 on
    // pg_namespace (or 42P06), and the schema exists either way.
    if (!(error instanceof UniqueViolationError) && sqlState(error) !== "42P06") throw error;
  }
}
