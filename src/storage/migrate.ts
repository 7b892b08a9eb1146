/**
 * Applies the SQL files of storage/migrations in name order, each once, recorded in
 * `schema_migrations`. Safe on every start and with several instances starting at once:
 * everything runs in one transaction holding an advisory lock, so one instance migrates while
 * the others wait and then find nothing left to do. An applied file that was edited since is
 * refused (the checksum differs): schema changes go in a new file.
 */
import { createHash } from "node:crypto";
import { type Db, sql } from "./db.js";

export interface Migration {
  /** The file name, e.g. "0001_init.sql"; order is by name. */
  name: string;
  sql: string;
}

/** Reads the migration files shipped next to this module. */
export async function loadMigrations(dir: URL = new URL("./migrations/", import.meta.url)): Promise<Migration[]> {
  // Imported here, not at the top: the Workers bundle reaches this module through the store but
  // never migrates (migrations run from Node), and must not load node:fs.
  const { readdir, readFile } = await import("node:fs/promises");
  const names = (await readdir(dir)).filter((n) => /^\d{4}_[a-z0-9_]+\.sql$/.test(n)).sort();
  return Promise.all(names.map(async (name) => ({ name, sql: await readFile(new URL(name, dir), "utf8") })));
}

const checksum = (text: string): string => createHash("sha256").update(text).digest("hex");

/** Applies the migrations not applied yet; returns the names it applied. */
export async function migrate(db: Db, migrations?: Migration[]): Promise<string[]> {
  const files = migrations ?? (await loadMigrations());
  return db.transaction(async (tx) => {
    // Keyed by schema, so that test files each migrating their own schema on one server do not
    // queue behind each other, while two instances on the same schema do. The lock is released
    // at commit or rollback: a crashed migration leaves no lock behind.
    await tx.query(sql`select pg_advisory_xact_lock(hashtextextended('hoadon.migrate:' || coalesce(current_schema(), ''), 0))`);
    await tx.exec(`create table if not exists schema_migrations (
      name       text primary key,
      checksum   text not null,
      applied_at timestamptz not null default now()
    )`);
    const applied = new Map(
      (await tx.query<{ name: string; checksum: string }>(sql`select name, checksum from schema_migrations`)).map((r) => [
        r.name,
        r.checksum,
      ]),
    );
    const done: string[] = [];
    for (const m of files) {
      const sum = checksum(m.sql);
      const previous = applied.get(m.name);
      if (previous !== undefined) {
        if (previous !== sum) {
          throw new Error(`Migration ${m.name} was edited after it was applied (checksum differs); add a new migration instead.`);
        }
        continue;
      }
      await tx.exec(m.sql);
      await tx.query(sql`insert into schema_migrations (name, checksum) values (${m.name}, ${sum})`);
      done.push(m.name);
    }
    // Applied names without a file are kept as they are: a newer release may have migrated
    // this database while an older one is still rolling out.
    return done;
  });
}
