/**
 * The registry aggregate: sellers, their certificates, officers and API keys (the principals),
 * and the last use of keys and tokens. What the gate reads on every request is kept in memory
 * while the database's announcements of changes can be heard (registry-cache.ts).
 */
import type { RegistryPort } from "../domain/ports.js";
import { recordAudit } from "./audit.js";
import { type Db, jsonRows, type Sql, sql } from "./db.js";
import { RegistryCache } from "./registry-cache.js";
import { first } from "./rows.js";
import type {
  ApiKeyRecord,
  AuditEntry,
  CertificateRecord,
  CertificateStatus,
  CredentialUse,
  Officer,
  RegisteredSeller,
  SellerRegistration,
  SellerStatus,
  StoredPrincipal,
} from "./store.js";

// Column lists, one per record type.

const SELLER = sql`tax_code, name, address, tax_office, province, status, created_at, updated_at`;
interface SellerRow {
  tax_code: string;
  name: string;
  address: string;
  tax_office: string | null;
  province: string | null;
  status: SellerStatus;
  created_at: Date;
  updated_at: Date;
}
const toSeller = (r: SellerRow): RegisteredSeller => ({
  taxCode: r.tax_code,
  name: r.name,
  address: r.address,
  taxOffice: r.tax_office,
  province: r.province,
  status: r.status,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const CERTIFICATE = sql`seller_tax_code, fingerprint, serial, issuer, subject, not_before, not_after, status, registered_at, stopped_at`;
interface CertificateRow {
  seller_tax_code: string;
  fingerprint: string;
  serial: string;
  issuer: string;
  subject: string;
  not_before: Date;
  not_after: Date;
  status: CertificateStatus;
  registered_at: Date;
  stopped_at: Date | null;
}
const toCertificate = (r: CertificateRow): CertificateRecord => ({
  sellerTaxCode: r.seller_tax_code,
  fingerprint: r.fingerprint,
  serial: r.serial,
  issuer: r.issuer,
  subject: r.subject,
  notBefore: r.not_before,
  notAfter: r.not_after,
  status: r.status,
  registeredAt: r.registered_at,
  stoppedAt: r.stopped_at,
});

interface OfficerRow {
  id: string;
  name: string;
  tax_office: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}
const toOfficer = (r: OfficerRow): Officer => ({
  id: r.id,
  name: r.name,
  taxOffice: r.tax_office,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

interface ApiKeyRow {
  id: string;
  seller_tax_code: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}
const toApiKey = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id,
  sellerTaxCode: r.seller_tax_code,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

export class PgRegistry implements RegistryPort {
  /** Keys, sellers and certificates in memory, once `startCache()` listens for their changes. */
  readonly cache = new RegistryCache();
  private unlisten: (() => Promise<void>) | null = null;

  constructor(private readonly db: Db) {}

  /**
   * Starts keeping the registry in memory (registry-cache.ts): LISTENs for the database's
   * announcements of registry changes. A long-lived process calls it once after migrating; a
   * database that cannot listen leaves the cache off.
   */
  async startCache(): Promise<void> {
    if (this.unlisten || !this.db.listen) return;
    const [row] = await this.db.query<{ schema: string }>(sql`select current_schema() as schema`);
    const ours = `${row?.schema ?? "public"}.`;
    this.unlisten = await this.db.listen(
      "hoadon_registry",
      // "schema.table": a change in another schema of the same database is not ours.
      (payload) => {
        if (payload.startsWith(ours)) this.cache.invalidate();
      },
      () => this.cache.setListening(true),
      // Announcements may be lost until listening again: nothing is served from memory meanwhile.
      () => this.cache.setListening(false),
    );
  }

  /** Stops listening; nothing is served from memory any more. */
  async stopCache(): Promise<void> {
    this.cache.setListening(false);
    const unlisten = this.unlisten;
    this.unlisten = null;
    if (unlisten) await unlisten().catch(() => {});
  }

  /**
   * A statement that changes the registry: once it has run (or failed, its outcome unknown),
   * this instance forgets what it cached; the others do on the database's announcement.
   */
  private async registryWrite<T>(q: Sql): Promise<T[]> {
    try {
      return await this.db.query<T>(q);
    } finally {
      this.cache.invalidate();
    }
  }

  private async registryTransaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(fn);
    } finally {
      this.cache.invalidate();
    }
  }

  // Principals -------------------------------------------------------------------------------

  async createOfficer(o: { id: string; name: string; taxOffice: string | null; tokenHash: string }, audit?: AuditEntry): Promise<Officer> {
    const row = await this.registryTransaction(async (tx) => {
      const [r] = await tx.query<OfficerRow>(sql`
        insert into officers (id, name, tax_office, token_hash)
        values (${o.id}, ${o.name}, ${o.taxOffice}, ${o.tokenHash})
        returning id, name, tax_office, created_at, null::timestamptz as last_used_at, revoked_at`);
      if (audit) await recordAudit(tx, audit);
      return r;
    });
    if (!row) throw new Error("insert into officers returned no row");
    return toOfficer(row);
  }

  async createApiKey(k: { id: string; sellerTaxCode: string; keyHash: string }, audit?: AuditEntry): Promise<void> {
    await this.registryTransaction(async (tx) => {
      await tx.query(sql`
        insert into api_keys (id, seller_tax_code, key_hash) values (${k.id}, ${k.sellerTaxCode}, ${k.keyHash})`);
      if (audit) await recordAudit(tx, audit);
    });
  }

  async listOfficers(): Promise<Officer[]> {
    const rows = await this.db.query<OfficerRow>(sql`
      select o.id, o.name, o.tax_office, o.created_at, u.last_used_at, o.revoked_at
        from officers o left join credential_use u on u.credential_id = o.id
       order by o.created_at, o.id`);
    return rows.map(toOfficer);
  }

  async revokeOfficer(id: string, at: Date, audit: AuditEntry): Promise<Officer | null> {
    const row = await this.registryTransaction(async (tx) => {
      const [revoked] = await tx.query<{ id: string }>(sql`
        update officers set revoked_at = ${at} where id = ${id} and revoked_at is null returning id`);
      if (revoked) {
        // The dashboard's sessions end with the token that opened them (findSession checks too).
        await tx.query(sql`delete from officer_sessions where officer_id = ${id}`);
        await recordAudit(tx, audit);
      }
      return first(
        await tx.query<OfficerRow>(sql`
          select o.id, o.name, o.tax_office, o.created_at, u.last_used_at, o.revoked_at
            from officers o left join credential_use u on u.credential_id = o.id
           where o.id = ${id}`),
      );
    });
    return row && toOfficer(row);
  }

  async listApiKeys(sellerTaxCode: string): Promise<ApiKeyRecord[]> {
    const rows = await this.db.query<ApiKeyRow>(sql`
      select k.id, k.seller_tax_code, k.created_at, u.last_used_at, k.revoked_at
        from api_keys k left join credential_use u on u.credential_id = k.id
       where k.seller_tax_code = ${sellerTaxCode}
       order by k.created_at desc, k.id`);
    return rows.map(toApiKey);
  }

  async revokeApiKey(sellerTaxCode: string, id: string, at: Date, audit: AuditEntry): Promise<ApiKeyRecord | null> {
    const row = await this.registryTransaction(async (tx) => {
      const [revoked] = await tx.query<{ id: string }>(sql`
        update api_keys set revoked_at = ${at}
         where id = ${id} and seller_tax_code = ${sellerTaxCode} and revoked_at is null returning id`);
      if (revoked) await recordAudit(tx, audit);
      return first(
        await tx.query<ApiKeyRow>(sql`
          select k.id, k.seller_tax_code, k.created_at, u.last_used_at, k.revoked_at
            from api_keys k left join credential_use u on u.credential_id = k.id
           where k.id = ${id} and k.seller_tax_code = ${sellerTaxCode}`),
      );
    });
    return row && toApiKey(row);
  }

  async recordCredentialUses(uses: readonly CredentialUse[]): Promise<void> {
    if (uses.length === 0) return;
    // One statement for any number of uses (jsonRows); a concurrent flush of another instance
    // may have written a later use already: greatest() keeps it.
    await this.db.query(sql`
      insert into credential_use (credential_id, last_used_at)
      select id, max(at) from json_to_recordset(${jsonRows(uses.map((u) => ({ id: u.id, at: u.at.toISOString() })))}::text::json) as v (id uuid, at timestamptz)
       group by id
      on conflict (credential_id) do update set last_used_at = greatest(credential_use.last_used_at, excluded.last_used_at)`);
  }

  findPrincipal(secretHash: string): Promise<StoredPrincipal | null> {
    return this.cache.read(`principal:${secretHash}`, () => this.loadPrincipal(secretHash), (p) => p !== null);
  }

  private async loadPrincipal(secretHash: string): Promise<StoredPrincipal | null> {
    // One round trip on every authenticated request; officers win should a hash ever match both.
    const row = first(
      await this.db.query<{ role: "officer" | "seller"; id: string; name: string | null; seller_tax_code: string | null }>(sql`
        select 'officer' as role, id::text as id, name, null::text as seller_tax_code, 0 as rank
          from officers where token_hash = ${secretHash} and revoked_at is null
        union all
        select 'seller', id::text, null, seller_tax_code, 1
          from api_keys where key_hash = ${secretHash} and revoked_at is null
        order by rank
        limit 1`),
    );
    if (!row) return null;
    if (row.role === "officer") return { role: "officer", id: row.id, name: row.name ?? "" };
    return { role: "seller", id: row.id, sellerTaxCode: row.seller_tax_code ?? "" };
  }

  // Sellers ----------------------------------------------------------------------------------

  async createSeller(s: Omit<RegisteredSeller, "status" | "createdAt" | "updatedAt">): Promise<RegisteredSeller | null> {
    const row = first(
      await this.registryWrite<SellerRow>(sql`
        insert into sellers (tax_code, name, address, tax_office, province)
        values (${s.taxCode}, ${s.name}, ${s.address}, ${s.taxOffice}, ${s.province})
        on conflict (tax_code) do nothing
        returning ${SELLER}`),
    );
    return row && toSeller(row);
  }

  async getSeller(taxCode: string): Promise<RegisteredSeller | null> {
    const row = first(await this.db.query<SellerRow>(sql`select ${SELLER} from sellers where tax_code = ${taxCode}`));
    return row && toSeller(row);
  }

  sellerRegistration(taxCode: string): Promise<SellerRegistration> {
    return this.cache.read(
      `seller:${taxCode}`,
      async () => {
        const [seller, certificates] = await Promise.all([this.getSeller(taxCode), this.listCertificates(taxCode)]);
        return Object.freeze({ seller: seller && Object.freeze(seller), certificates: Object.freeze(certificates.map((c) => Object.freeze(c))) });
      },
      (r) => r.seller !== null,
    );
  }

  async updateSeller(
    taxCode: string,
    patch: Partial<Pick<RegisteredSeller, "status" | "name" | "address" | "taxOffice" | "province">>,
  ): Promise<RegisteredSeller | null> {
    // undefined leaves a field as it is; null clears a nullable one.
    const sets: Sql[] = [];
    if (patch.status !== undefined) sets.push(sql`status = ${patch.status}`);
    if (patch.name !== undefined) sets.push(sql`name = ${patch.name}`);
    if (patch.address !== undefined) sets.push(sql`address = ${patch.address}`);
    if (patch.taxOffice !== undefined) sets.push(sql`tax_office = ${patch.taxOffice}`);
    if (patch.province !== undefined) sets.push(sql`province = ${patch.province}`);
    if (sets.length === 0) return this.getSeller(taxCode);
    sets.push(sql`updated_at = now()`);
    const row = first(
      await this.registryWrite<SellerRow>(sql`
        update sellers set ${sql.join(sets)} where tax_code = ${taxCode} returning ${SELLER}`),
    );
    return row && toSeller(row);
  }

  // Certificates -----------------------------------------------------------------------------

  async addCertificate(
    c: Omit<CertificateRecord, "status" | "registeredAt" | "stoppedAt"> & { der: Uint8Array },
  ): Promise<CertificateRecord | null> {
    const row = first(
      await this.registryWrite<CertificateRow>(sql`
        insert into certificates (seller_tax_code, fingerprint, serial, issuer, subject, not_before, not_after, der)
        values (${c.sellerTaxCode}, ${c.fingerprint}, ${c.serial}, ${c.issuer}, ${c.subject},
                ${c.notBefore}, ${c.notAfter}, ${c.der})
        on conflict (seller_tax_code, fingerprint) do nothing
        returning ${CERTIFICATE}`),
    );
    return row && toCertificate(row);
  }

  async listCertificates(sellerTaxCode: string): Promise<CertificateRecord[]> {
    const rows = await this.db.query<CertificateRow>(sql`
      select ${CERTIFICATE} from certificates where seller_tax_code = ${sellerTaxCode}
      order by registered_at, fingerprint`);
    return rows.map(toCertificate);
  }

  async findCertificate(sellerTaxCode: string, fingerprint: string): Promise<CertificateRecord | null> {
    const row = first(
      await this.db.query<CertificateRow>(sql`
        select ${CERTIFICATE} from certificates
        where seller_tax_code = ${sellerTaxCode} and fingerprint = ${fingerprint}`),
    );
    return row && toCertificate(row);
  }

  async stopCertificate(sellerTaxCode: string, serial: string, at: Date): Promise<CertificateRecord[]> {
    const rows = await this.registryWrite<CertificateRow>(sql`
      update certificates set status = 'stopped', stopped_at = ${at}
      where seller_tax_code = ${sellerTaxCode} and serial = ${serial} and status = 'active'
      returning ${CERTIFICATE}`);
    return rows.map(toCertificate);
  }
}
