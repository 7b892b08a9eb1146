/**
 * The audit log: who read or changed what, when, from where. `recordAudit` also runs inside the
 * transaction of the change it records (registry.ts: keys and tokens issued and revoked).
 */
import { type Db, type Sql, sql } from "./db.js";
import type { AuditEntry, AuditPage, AuditPort, AuditQuery, AuditRecord } from "./store.js";

export async function recordAudit(db: Db, e: AuditEntry): Promise<void> {
  await db.query(sql`
    insert into audit_log (at, actor_role, actor_id, action, target, query, client_address, request_id)
    values (${e.at}, ${e.actorRole}, ${e.actorId}, ${e.action}, ${e.target}, ${JSON.stringify(e.query)}::jsonb, ${e.clientAddress}, ${e.requestId})`);
}

interface AuditRow {
  id: bigint;
  at: Date;
  actor_role: AuditEntry["actorRole"];
  actor_id: string;
  actor_name: string | null;
  action: AuditEntry["action"];
  target: string | null;
  query: Record<string, string | number> | string;
  client_address: string;
  request_id: string;
}

export async function listAudit(db: Db, q: AuditQuery): Promise<AuditPage> {
  const where: Sql[] = [];
  if (q.actor !== undefined) where.push(sql`a.actor_id = ${q.actor}`);
  if (q.action !== undefined) where.push(sql`a.action = ${q.action}`);
  if (q.from !== undefined) where.push(sql`a.at >= ${q.from}`);
  if (q.to !== undefined) where.push(sql`a.at <= ${q.to}`);
  if (q.before !== undefined) where.push(sql`a.id < ${q.before.toString()}::bigint`);
  const rows = await db.query<AuditRow>(sql`
    select a.id, a.at, a.actor_role, a.actor_id, o.name as actor_name, a.action, a.target, a.query, a.client_address, a.request_id
      from audit_log a left join officers o on a.actor_role = 'officer' and o.id::text = a.actor_id
     ${where.length ? sql`where ${sql.join(where, sql` and `)}` : sql``}
     order by a.id desc limit ${q.limit + 1}`);
  const items: AuditRecord[] = rows.slice(0, q.limit).map((r) => ({
    id: r.id,
    at: r.at,
    actorRole: r.actor_role,
    actorId: r.actor_id,
    actorName: r.actor_name,
    action: r.action,
    target: r.target,
    query: typeof r.query === "string" ? (JSON.parse(r.query) as Record<string, string | number>) : r.query,
    clientAddress: r.client_address,
    requestId: r.request_id,
  }));
  const last = items[items.length - 1];
  return { items, next: rows.length > q.limit && last ? last.id : null };
}

export class PgAudit implements AuditPort {
  constructor(private readonly db: Db) {}

  recordAudit(e: AuditEntry): Promise<void> {
    return recordAudit(this.db, e);
  }

  /** The audit log, newest first. */
  listAudit(q: AuditQuery): Promise<AuditPage> {
    return listAudit(this.db, q);
  }
}
