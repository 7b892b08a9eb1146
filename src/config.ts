/**
 * All settings (api.md "Start and configuration") in one zod schema. Invalid configuration stops
 * start-up with one line naming the setting.
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { publicBase } from "./domain/qr.js";

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const devCert = (name: string) => resolve(projectRoot, "certs", name);

const existingFile = z.string().min(1).refine((p) => existsSync(p), { message: "file not found" });
const pemOrPath = z
  .string()
  .min(1)
  .refine((v) => v.includes("-----BEGIN") || existsSync(v), { message: "must be PEM text or the path of an existing file" });
const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,7}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const bool = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) => v === "true" || v === "1" || v === "yes");

export const ConfigSchema = z
  .object({
    PORT: z
      .string()
      .regex(/^\d{1,5}$/, "must be a port number")
      .transform(Number)
      .pipe(z.number().int().min(0).max(65535))
      .default(8080),
    HOST: z.string().min(1).default("127.0.0.1"),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
      .optional(),
    HOADON_DATA_DIR: z.string().min(1).default("./.hoadon"),
    HOADON_ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    HOADON_TRUST_ANCHORS: existingFile.default(devCert("trust-anchors.pem")),
    HOADON_INTERMEDIATES: existingFile.optional(),
    HOADON_CRLS: z
      .string()
      .optional()
      .transform((v) => (v ? v.split(",").map((s) => s.trim()).filter(Boolean) : []))
      .refine((paths) => paths.every((p) => existsSync(p)), { message: "a CRL file was not found" }),
    HOADON_SIGNING_KEY: pemOrPath.optional(),
    HOADON_SIGNING_CERT: pemOrPath.optional(),
    // The head of office who co-signs registration decisions (103): generated under the data dir when unset.
    HOADON_OFFICIAL_KEY: pemOrPath.optional(),
    HOADON_OFFICIAL_CERT: pemOrPath.optional(),
    HOADON_CODE_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
    HOADON_ISSUER_ID: z
      .string()
      .regex(/^[0-9A-Fa-f]{2}$/, "must be two hex characters")
      .transform((v) => v.toUpperCase())
      .default("00"),
    HOADON_ALLOW_SHA1: bool.default(false),
    // Legacy RSA keys of 1024–2047 bits for sellers' signatures (refused by default).
    HOADON_ALLOW_RSA1024: bool.default(false),
    // How far SigningTime (hours) and NLap (days) may lie before the receipt (api.md).
    HOADON_MAX_SIGNING_LAG_HOURS: wholeNumber(1, 87_600).default(72),
    HOADON_MAX_ISSUE_DATE_LAG_DAYS: wholeNumber(0, 3650).default(7),
    HOADON_DB_POOL: z
      .string()
      .regex(/^\d{1,3}$/, "must be a whole number")
      .transform(Number)
      .pipe(z.number().int().min(1).max(200))
      .default(10),
    // Operations: /metrics is public unless this token is set; the level of the JSON logs.
    HOADON_METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    HOADON_LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
    // Scale-out: reports and searches read from a replica when set (docs/operations.md "Scaling").
    HOADON_READ_DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
      .optional(),
    // Rate limits: public requests a minute per client address; how often one key may send the same
    // refused invoice in 10 minutes; how many proxies' X-Forwarded-For to believe (0: none).
    HOADON_RATE_LIMIT_PUBLIC: wholeNumber(0, 1_000_000).default(300),
    HOADON_RATE_LIMIT_REFUSALS: wholeNumber(0, 1_000_000).default(5),
    HOADON_TRUST_PROXY: wholeNumber(0, 10).default(0),
    // Large documents (64 KiB or more) one client may have in flight at once (src/heavy-work.ts); 0: no bound.
    HOADON_LARGE_PER_CLIENT: wholeNumber(0, 1000).default(2),
    // Milliseconds a small group of submissions waits for company under sustained traffic (src/domain/group-commit.ts); 0: never.
    HOADON_COMMIT_LINGER_MS: wholeNumber(0, 50).default(2),
    // Processes serving on the port (node:cluster), each with its own pool; PostgreSQL only.
    HOADON_WORKERS: wholeNumber(1, 64).default(1),
    // The buyer's check as the public reaches it (what the pages' QR codes open); default: the request's own origin.
    HOADON_PUBLIC_URL: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return undefined;
        const base = publicBase(v);
        if (!base) ctx.addIssue({ code: "custom", message: "must be an http(s) URL without query or fragment, e.g. https://hoadon.example.vn/" });
        return base ?? undefined;
      }),
    // The transparency log (docs/transparency-log.md): its key (PRIVATE+KEY+… or a file), the
    // origin of a key generated in HOADON_DATA_DIR, and how often its tree head is signed.
    HOADON_LOG_KEY: z.string().min(1).optional(),
    HOADON_LOG_ORIGIN: z.string().regex(/^[^\s+]+$/, "no spaces or plus signs").optional(),
    HOADON_LOG_INTERVAL_MS: wholeNumber(0, 3_600_000).default(2000),
  })
  .superRefine((c, ctx) => {
    if (Boolean(c.HOADON_SIGNING_KEY) !== Boolean(c.HOADON_SIGNING_CERT)) {
      ctx.addIssue({ code: "custom", path: [c.HOADON_SIGNING_KEY ? "HOADON_SIGNING_CERT" : "HOADON_SIGNING_KEY"], message: "HOADON_SIGNING_KEY and HOADON_SIGNING_CERT go together" });
    }
    if (Boolean(c.HOADON_OFFICIAL_KEY) !== Boolean(c.HOADON_OFFICIAL_CERT)) {
      ctx.addIssue({ code: "custom", path: [c.HOADON_OFFICIAL_KEY ? "HOADON_OFFICIAL_CERT" : "HOADON_OFFICIAL_KEY"], message: "HOADON_OFFICIAL_KEY and HOADON_OFFICIAL_CERT go together" });
    }
    if (c.HOADON_WORKERS > 1 && !c.DATABASE_URL) {
      ctx.addIssue({ code: "custom", path: ["HOADON_WORKERS"], message: "more than one worker needs DATABASE_URL (the embedded database belongs to one process)" });
    }
  });

export type Config = z.infer<typeof ConfigSchema> & { HOADON_INTERMEDIATES_DEFAULT: string };

export class ConfigError extends Error {}

/** Reads and validates the environment; throws ConfigError with one line naming the setting. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty variables count as unset.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = ConfigSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? "configuration");
    throw new ConfigError(`invalid configuration: ${name}: ${issue.message}`);
  }
  return { ...parsed.data, HOADON_INTERMEDIATES_DEFAULT: devCert("intermediates.pem") };
}

/** The intermediates bundle in force: the configured one, else the development issuing CA when the anchors are the development root. */
export function intermediatesPath(c: Config): string | undefined {
  if (c.HOADON_INTERMEDIATES) return c.HOADON_INTERMEDIATES;
  return c.HOADON_TRUST_ANCHORS === devCert("trust-anchors.pem") ? c.HOADON_INTERMEDIATES_DEFAULT : undefined;
}
