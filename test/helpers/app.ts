/**
 * An in-process Hoadon for route tests: the real app, store (PGlite, or PostgreSQL when
 * DATABASE_URL is set), trust store over certs/, a generated authority key. One per test file.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type AppOptions, buildApp } from "../../src/app.js";
import { hashSecret } from "../../src/auth.js";
import type { Services } from "../../src/context.js";
import { silentLogger } from "../../src/log.js";
import { type TrustMaterial, TrustStore } from "../../src/pki/trust.js";
import { loadTrust } from "../../src/pki/trust-files.js";
import type { RateLimitSettings } from "../../src/rate-limit.js";
import { authorityKeyFromPem, DEV_OFFICIAL_NAME, generateDevAuthority } from "../../src/secrets.js";
import { createServices } from "../../src/services.js";
import type { PgStore } from "../../src/storage/pg-store.js";
import { TransparencyLog } from "../../src/tlog/log.js";
import { signerFromSeed } from "../../src/tlog/note.js";
import { testStore } from "./db.js";
import { type BuildInvoiceOptions, buildInvoice, randomTaxCode } from "./invoice.js";
import { issueSellerCert, type KeyType, type NodeKeySpec } from "./pki.js";
import { type SignOptions, signInvoice } from "./sign.js";

export const CERTS = fileURLToPath(new URL("../../certs/", import.meta.url));
export const ADMIN_TOKEN = "hda_test-admin-token-0123456789";

export interface Harness {
  app: ReturnType<typeof buildApp>;
  services: Services;
  store: PgStore;
  authorityCertPem: string;
  /** The head of office's certificate (103's TTCQT signature). */
  officialCertPem: string;
  /** JSON request as `token` (default: admin). */
  call(method: string, path: string, body?: unknown, token?: string, headers?: Record<string, string>): Promise<Response>;
  /** POST /v1/invoices with the XML as the seller's key. */
  submit(xml: string | Uint8Array, key: string, headers?: Record<string, string>): Promise<Response>;
  /** POST /v1/messages (a TDiep) as the seller's key; the authority's answer, which must be a 200. */
  message(xml: string, key: string): Promise<string>;
  /** A new tax officer's token (POST /v1/officers as the admin). */
  officer(name?: string, taxOffice?: string): Promise<string>;
  /** A registered, active seller with a registered certificate and an API key. */
  seller(opts?: { taxCode?: string; keyType?: KeyType; notBefore?: Date; /** A key node:crypto makes (e.g. RSA-1024, which WebCrypto will not). */ nodeKey?: NodeKeySpec }): Promise<TestSeller>;
  close(): Promise<void>;
}

export interface TestSeller {
  taxCode: string;
  apiKey: string;
  certPem: string;
  keyPem: string;
  serial: string;
  /** Builds and signs an invoice of this seller with the project's test signer. */
  invoice(opts?: BuildInvoiceOptions, sign?: Partial<SignOptions>): string;
}

export interface HarnessOptions {
  trust?: TrustMaterial;
  allowSha1?: boolean;
  /** HOADON_ALLOW_RSA1024 (default false). */
  allowRsa1024?: boolean;
  /** HOADON_MAX_SIGNING_LAG_HOURS, HOADON_MAX_ISSUE_DATE_LAG_DAYS (default: the service's, 72 and 7). */
  maxSigningLagHours?: number;
  maxIssueDateLagDays?: number;
  clock?: () => Date;
  authorityKeyType?: "rsa" | "ec";
  /** Rate limits (default: the service's defaults); `{ refusalLimit: 0 }` turns the refusal slow-down off. */
  rateLimits?: Partial<RateLimitSettings>;
  /** Logger, metrics, /metrics token, assets (default: request logs discarded). */
  app?: AppOptions;
  /** HOADON_PUBLIC_URL (normalized, ending in "/"). */
  publicUrl?: string;
  /** The store (default: a fresh one, testStore); e.g. secondStore(other.store) for a second instance on the same database. */
  store?: PgStore;
}

/** Builds the harness (call in beforeAll; PGlite takes seconds to start). */
export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const store = opts.store ?? (await testStore());
  // As the server runs: the registry cached, dropped on the database's announcements.
  await store.cacheRegistry();
  const trust = new TrustStore(opts.trust ?? loadTrust({ anchorsPath: CERTS + "trust-anchors.pem", intermediatesPath: CERTS + "intermediates.pem" }), { warn: () => {}, allowRsa1024: opts.allowRsa1024 ?? false });
  const [dev, official] = await Promise.all([generateDevAuthority(opts.authorityKeyType ?? "rsa"), generateDevAuthority("rsa", DEV_OFFICIAL_NAME)]);
  const authority = authorityKeyFromPem(dev.keyPem, dev.certPem);
  // The transparency log, sequenced only when a test asks (log.sequence()): no background writes.
  const log = new TransparencyLog(store.db, signerFromSeed("hoadon.test/log", randomBytes(32)), authority);
  const services = createServices({
    log,
    store,
    trust,
    secrets: { authority, official: authorityKeyFromPem(official.keyPem, official.certPem), codeSecret: Buffer.alloc(32, 7), adminTokenHash: hashSecret(ADMIN_TOKEN) },
    issuerId: "0A",
    allowSha1: opts.allowSha1 ?? false,
    ...(opts.maxSigningLagHours !== undefined ? { maxSigningLagHours: opts.maxSigningLagHours } : {}),
    ...(opts.maxIssueDateLagDays !== undefined ? { maxIssueDateLagDays: opts.maxIssueDateLagDays } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.rateLimits ? { rateLimits: opts.rateLimits } : {}),
    ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
  });
  const app = buildApp(services, { logger: silentLogger, logError: (e) => console.error(e), ...opts.app });

  const call: Harness["call"] = (method, path, body, token = ADMIN_TOKEN, headers = {}) =>
    Promise.resolve(
      app.request(path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      }),
    );

  const submit: Harness["submit"] = (xml, key, headers = {}) =>
    Promise.resolve(app.request("/v1/invoices", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/xml", ...headers }, body: xml as BodyInit }));

  const message: Harness["message"] = async (xml, key) => {
    const res = await app.request("/v1/messages", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/xml" }, body: xml });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`POST /v1/messages: ${res.status} ${text}`);
    return text;
  };

  const officer: Harness["officer"] = async (name = "Cán bộ Thử nghiệm", taxOffice = "Cục Thuế TP Hà Nội") => {
    const res = await call("POST", "/v1/officers", { name, taxOffice });
    if (res.status !== 201) throw new Error(`officer: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  };

  const seller: Harness["seller"] = async (o = {}) => {
    const taxCode = o.taxCode ?? randomTaxCode();
    const created = await call("POST", "/v1/sellers", { taxCode, name: `Công ty TNHH Thử nghiệm ${taxCode}`, address: "1 Tràng Tiền, Hà Nội", taxOffice: "Cục Thuế TP Hà Nội", province: "Hà Nội" });
    if (created.status !== 201) throw new Error(`seller: ${created.status} ${await created.text()}`);
    const cert = await issueSellerCert({ taxCode, keyType: o.keyType ?? "rsa", ...(o.notBefore ? { notBefore: o.notBefore } : {}), ...(o.nodeKey ? { nodeKey: o.nodeKey } : {}) });
    const reg = await call("POST", `/v1/sellers/${taxCode}/certificates`, { pem: cert.certPem });
    if (reg.status !== 201) throw new Error(`certificate: ${reg.status} ${await reg.text()}`);
    const serial = ((await reg.json()) as { serial: string }).serial;
    const k = await call("POST", `/v1/sellers/${taxCode}/api-keys`);
    if (k.status !== 201) throw new Error(`api key: ${k.status} ${await k.text()}`);
    const apiKey = ((await k.json()) as { key: string }).key;
    return {
      taxCode,
      apiKey,
      certPem: cert.certPem,
      keyPem: cert.keyPem,
      serial,
      invoice: (b = {}, s = {}) => signInvoice(buildInvoice({ sellerTaxCode: taxCode, ...b }), { keyPem: cert.keyPem, certPem: cert.certPem, ...s }),
    };
  };

  return {
    app,
    services,
    store,
    authorityCertPem: dev.certPem,
    officialCertPem: official.certPem,
    call,
    submit,
    message,
    officer,
    seller,
    close: () => store.close(),
  };
}

/** Reads a file of certs/. */
export const cert = (name: string): string => readFileSync(CERTS + name, "utf8");
