/**
 * Cloudflare Workers: the settings come from bindings (wrangler.toml vars, `wrangler secret`,
 * the Hyperdrive binding) instead of process.env and files. What does not change between
 * requests (settings, trust store, authority key, the app itself) is built once per isolate; the
 * database client is made per request, because a Worker may not reuse one request's I/O in
 * another.
 *
 * Nothing here (or below it) imports node:fs, PGlite or pino: migrations run from Node or CI
 * (`npm run migrate`), never from a Worker.
 */
import "reflect-metadata";
import type { Context } from "hono";
import { z } from "zod";
import { buildApp } from "./app.js";
import { hashSecret } from "./auth.js";
import { authorityKeyFromPem } from "./authority.js";
import type { AppEnv, Services } from "./context.js";
import { publicBase } from "./domain/qr.js";
import { consoleLogger } from "./log.js";
import { Metrics } from "./metrics.js";
import { parsePemBundle } from "./pki/certificate.js";
import { TrustStore } from "./pki/trust.js";
import { MemoryCounterStore } from "./rate-limit.js";
import { createServices } from "./services.js";
import { CredentialUseRecorder } from "./storage/credential-use.js";
import { type Db, openPostgresDb } from "./storage/db.js";
import { instrumentDb } from "./storage/instrument.js";
import { PgStore } from "./storage/pg-store.js";

/** The bindings of wrangler.toml and the secrets set with `wrangler secret put`. */
export interface WorkerBindings {
  HYPERDRIVE: { connectionString: string };
  [name: string]: unknown;
}

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,7}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const pem = (label: string) => z.string().includes(`-----BEGIN ${label}`, { message: `must be PEM text (-----BEGIN ${label}…)` });

/** The Workers settings: the Node names where they mean the same, PEM text where Node takes a path. */
export const WorkerConfigSchema = z.object({
  HOADON_SIGNING_KEY: pem("PRIVATE KEY"),
  HOADON_SIGNING_CERT: pem("CERTIFICATE"),
  HOADON_CODE_SECRET: z.string().min(32, "must be at least 32 characters"),
  // The head of office who co-signs registration decisions (103); without it a T-VAN 100 answers 500.
  HOADON_OFFICIAL_KEY: pem("PRIVATE KEY").optional(),
  HOADON_OFFICIAL_CERT: pem("CERTIFICATE").optional(),
  HOADON_ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters"),
  HOADON_METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  HOADON_TRUST_ANCHORS: pem("CERTIFICATE"),
  HOADON_INTERMEDIATES: pem("CERTIFICATE").optional(),
  HOADON_CRLS: pem("X509 CRL").optional(),
  HOADON_ISSUER_ID: z
    .string()
    .regex(/^[0-9A-Fa-f]{2}$/, "must be two hex characters")
    .transform((v) => v.toUpperCase()),
  HOADON_ALLOW_SHA1: z.enum(["true", "false"]).default("false"),
  HOADON_ALLOW_RSA1024: z.enum(["true", "false"]).default("false"),
  HOADON_MAX_SIGNING_LAG_HOURS: wholeNumber(1, 87_600).default(72),
  HOADON_MAX_ISSUE_DATE_LAG_DAYS: wholeNumber(0, 3650).default(7),
  HOADON_DB_POOL: z
    .string()
    .regex(/^\d{1,2}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(1).max(20))
    .default(5),
  HOADON_PUBLIC_URL: z
    .string()
    .refine((v) => publicBase(v) !== null, { message: "must be an http(s) URL without query or fragment, e.g. https://hoadon.example.vn/" })
    .transform((v) => publicBase(v)!)
    .optional(),
  /** Tables in this schema instead of `public` (the tests' isolated schemas). */
  HOADON_DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a plain lower-case identifier")
    .optional(),
});
export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;

/** Validates the bindings; the error names the first bad setting, as on Node. */
export function workerConfig(env: WorkerBindings): { ok: true; config: WorkerConfig } | { ok: false; error: string } {
  const strings = Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === "string" && v !== ""));
  const parsed = WorkerConfigSchema.safeParse(strings);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, error: `invalid configuration: ${String(issue.path[0] ?? "configuration")}: ${issue.message}` };
  }
  if (typeof env.HYPERDRIVE?.connectionString !== "string") return { ok: false, error: "invalid configuration: HYPERDRIVE: the Hyperdrive binding is missing" };
  return { ok: true, config: parsed.data };
}

/** What one isolate keeps between requests. */
export interface Isolate {
  config: WorkerConfig;
  metrics: Metrics;
  app: ReturnType<typeof buildApp>;
  trust: TrustStore;
  secrets: Parameters<typeof createServices>[0]["secrets"];
  /** Rate-limit counters of this isolate (each isolate counts on its own: put Cloudflare's rate limiting rules in front). */
  counters: MemoryCounterStore;
  /** Last use of keys and tokens noted by this isolate's requests, written at the end of a request every 30 s (storage/credential-use.ts). */
  credentialUse: CredentialUseRecorder;
}

/** The per-request environment handed to the app: the bindings, this request's services and the client's address. */
export type RequestEnv = WorkerBindings & { services: Services; clientAddress: string };

/** Builds the per-isolate part: trust store, authority key, app. Throws on unusable PEM. */
export function buildIsolate(config: WorkerConfig): Isolate {
  const logger = consoleLogger({ service: "hoadon", runtime: "workers" });
  const metrics = new Metrics();
  const encoder = new TextEncoder();
  const trust = new TrustStore(
    {
      anchors: parsePemBundle(config.HOADON_TRUST_ANCHORS),
      intermediates: config.HOADON_INTERMEDIATES ? parsePemBundle(config.HOADON_INTERMEDIATES) : [],
      crls: config.HOADON_CRLS ? [encoder.encode(config.HOADON_CRLS)] : [],
    },
    { warn: (message) => logger.warn({ message }, "pki"), allowRsa1024: config.HOADON_ALLOW_RSA1024 === "true" },
  );
  const secrets = {
    authority: authorityKeyFromPem(config.HOADON_SIGNING_KEY, config.HOADON_SIGNING_CERT),
    codeSecret: Buffer.from(config.HOADON_CODE_SECRET, "utf8"),
    adminTokenHash: hashSecret(config.HOADON_ADMIN_TOKEN),
    ...(config.HOADON_OFFICIAL_KEY && config.HOADON_OFFICIAL_CERT ? { official: authorityKeyFromPem(config.HOADON_OFFICIAL_KEY, config.HOADON_OFFICIAL_CERT) } : {}),
  };
  const app = buildApp((c: Context<AppEnv>) => (c.env as RequestEnv).services, {
    logger,
    metrics,
    ...(config.HOADON_METRICS_TOKEN ? { metricsTokenHash: hashSecret(config.HOADON_METRICS_TOKEN) } : {}),
  });
  return { config, metrics, app, trust, secrets, counters: new MemoryCounterStore(), credentialUse: new CredentialUseRecorder() };
}

/**
 * This request's database client (Postgres.js over Hyperdrive) and services. Close the Db when
 * the answer is ready (`ctx.waitUntil(db.close())`): the client belongs to this request only.
 */
export async function requestServices(iso: Isolate, env: WorkerBindings): Promise<{ db: Db; services: Services }> {
  const c = iso.config;
  const db = await openPostgresDb({
    url: env.HYPERDRIVE.connectionString,
    poolSize: c.HOADON_DB_POOL,
    connectTimeoutSeconds: 2,
    // Hyperdrive keeps the connections warm; a probe or a type lookup would cost a round trip per request.
    probe: false,
    fetchTypes: false,
    ...(c.HOADON_DB_SCHEMA ? { schema: c.HOADON_DB_SCHEMA } : {}),
  });
  const store = new PgStore(instrumentDb(db, iso.metrics));
  const services = createServices({
    store,
    trust: iso.trust,
    secrets: iso.secrets,
    issuerId: c.HOADON_ISSUER_ID,
    allowSha1: c.HOADON_ALLOW_SHA1 === "true",
    maxSigningLagHours: c.HOADON_MAX_SIGNING_LAG_HOURS,
    maxIssueDateLagDays: c.HOADON_MAX_ISSUE_DATE_LAG_DAYS,
    counters: iso.counters,
    credentialUse: iso.credentialUse,
    ...(c.HOADON_PUBLIC_URL ? { publicUrl: c.HOADON_PUBLIC_URL } : {}),
  });
  return { db, services };
}
