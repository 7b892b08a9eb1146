/**
 * Officer sign-in sessions (migrations/0004_officer_sessions.sql): the session id's SHA-256 →
 * officer, until it expires. Beside the Store rather than in it: pages need it, the API does not.
 */
import { type Db, sql } from "./db.js";

export interface OfficerSession {
  officerId: string;
  officerName: string;
  expiresAt: Date;
}

export interface SessionStore {
  /** Keeps a new session (and drops sessions that expired before `createdAt`). */
  createSession(s: { idHash: string; officerId: string; createdAt: Date; expiresAt: Date }): Promise<void>;
  /** The officer of a session that has not expired at `now`, or null (also once the officer's token was revoked). */
  findSession(idHash: string, now: Date): Promise<OfficerSession | null>;
  deleteSession(idHash: string): Promise<void>;
}

/** The sessions table over the service's database (PostgreSQL or PGlite). */
export class SqlSessionStore implements SessionStore {
  constructor(private readonly db: Db) {}

  async createSession(s: { idHash: string; officerId: string; createdAt: Date; expiresAt: Date }): Promise<void> {
    await this.db.query(sql`delete from officer_sessions where expires_at <= ${s.createdAt}`);
    await this.db.query(sql`
      insert into officer_sessions (id_hash, officer_id, created_at, expires_at)
      values (${s.idHash}, ${s.officerId}, ${s.createdAt}, ${s.expiresAt})`);
  }

  async findSession(idHash: string, now: Date): Promise<OfficerSession | null> {
    const [row] = await this.db.query<{ officer_id: string; name: string; expires_at: Date }>(sql`
      select s.officer_id, o.name, s.expires_at from officer_sessions s join officers o on o.id = s.officer_id
      where s.id_hash = ${idHash} and s.expires_at > ${now} and o.revoked_at is null`);
    return row ? { officerId: row.officer_id, officerName: row.name, expiresAt: row.expires_at } : null;
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db.query(sql`delete from officer_sessions where id_hash = ${idHash}`);
  }
}
