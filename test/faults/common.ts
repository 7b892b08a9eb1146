/**
 * What the fault tests share: a database of their own on the PostgreSQL server of DATABASE_URL
 * (created and dropped per test file, so the child service can use its `public` schema), and a
 * seller registered over HTTP with invoices signed beforehand by the test helpers.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { buildInvoice, nextNumber, randomTaxCode } from "../helpers/invoice.js";
import { issueSellerCert } from "../helpers/pki.js";
import { signInvoice } from "../helpers/sign.js";

export const ADMIN = "hda_fault-admin-token-0123456789";
export const CODE_SECRET = "fault-test-code-secret-0123456789abcdef";

/** The server of DATABASE_URL, or undefined: the fault tests need PostgreSQL. */
export const SERVER_URL = process.env.DATABASE_URL;
export const NEEDS_POSTGRES = "the fault tests run on PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test (CI does)";

/** A new, empty database on the server of `serverUrl`; `drop()` removes it (forcing out leftover sessions). */
export async function freshDatabase(serverUrl: string): Promise<{ url: string; name: string; sql: postgres.Sql; drop(): Promise<void> }> {
  const name = `hoadon_fault_${randomBytes(5).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  const sql = postgres(u.toString(), { max: 2, onnotice: () => {} });
  return {
    url: u.toString(),
    name,
    sql,
    async drop() {
      await sql.end({ timeout: 2 });
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 2 });
    },
  };
}

const dataDirs: string[] = [];

/** Deletes the data dirs serviceEnv made (call in afterAll, once the services have stopped). */
export function removeDataDirs(): void {
  for (const d of dataDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** The settings of a child service: fixed secrets (so a restart issues under the same key), its own data dir. */
export function serviceEnv(databaseUrl: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  const dataDir = mkdtempSync(join(tmpdir(), "hoadon-fault-"));
  dataDirs.push(dataDir);
  return {
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    HOADON_DATA_DIR: dataDir,
    HOADON_ADMIN_TOKEN: ADMIN,
    HOADON_CODE_SECRET: CODE_SECRET,
    HOADON_ISSUER_ID: "0F",
    HOADON_DB_POOL: "8",
    ...extra,
  };
}

export interface RemoteSeller {
  taxCode: string;
  apiKey: string;
  /** The registered certificate and its key (PEM). */
  cert: { certPem: string; keyPem: string };
  /** Signs `count` new invoices of this seller (distinct numbers). */
  invoices(count: number): string[];
}

/** Registers a seller, its certificate and an API key on the running service at `url`. */
export async function registerSeller(url: string): Promise<RemoteSeller> {
  const taxCode = randomTaxCode();
  const call = async (path: string, body?: unknown, contentType = "application/json") => {
    const res = await fetch(url + path, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { "content-type": contentType }) },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as Record<string, string>;
  };
  await call("/v1/sellers", { taxCode, name: `Công ty TNHH Sự cố ${taxCode}`, address: "1 Tràng Tiền, Hà Nội", taxOffice: "Cục Thuế TP Hà Nội", province: "Hà Nội" });
  const cert = await issueSellerCert({ taxCode, keyType: "rsa" });
  await call(`/v1/sellers/${taxCode}/certificates`, { pem: cert.certPem });
  const { key } = await call(`/v1/sellers/${taxCode}/api-keys`);
  return {
    taxCode,
    apiKey: key!,
    cert: { certPem: cert.certPem, keyPem: cert.keyPem },
    invoices: (count) =>
      Array.from({ length: count }, () => signInvoice(buildInvoice({ sellerTaxCode: taxCode, number: nextNumber() }), { keyPem: cert.keyPem, certPem: cert.certPem })),
  };
}

/**
 * POST /v1/invoices; network failures come back as status 0 with the error's text.
 * `newConnection`: on a connection of its own, closed after the answer, never an idle keep-alive
 * one that the server (or a worker that was killed) may be closing at that very moment.
 */
export async function submit(
  url: string,
  apiKey: string,
  xml: string,
  timeoutMs = 10_000,
  { newConnection = false }: { newConnection?: boolean } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers | null; ms: number }> {
  const start = performance.now();
  try {
    const res = await fetch(`${url}/v1/invoices`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/xml", ...(newConnection ? { connection: "close" } : {}) },
      body: xml,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { text };
    }
    return { status: res.status, body, headers: res.headers, ms: performance.now() - start };
  } catch (e) {
    return { status: 0, body: { error: String((e as Error).cause ?? e) }, headers: null, ms: performance.now() - start };
  }
}

/** SHDon of a signed invoice (the natural key within one seller, form and symbol). */
export function numberOf(xml: string): number {
  return Number(/<SHDon>(\d+)<\/SHDon>/.exec(xml)![1]);
}
