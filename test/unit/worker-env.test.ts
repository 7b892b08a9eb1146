/**
 * The Workers settings in-process (no wrangler): bindings validated with one message naming the
 * setting, and an isolate built from PEM text serving the app with a per-request store.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generateDevAuthority } from "../../src/secrets.js";
import { createServices } from "../../src/services.js";
import type { Store } from "../../src/storage/store.js";
import { buildIsolate, type RequestEnv, type WorkerBindings, workerConfig } from "../../src/worker-env.js";
import { CERTS } from "../helpers/app.js";

async function bindings(overrides: Record<string, unknown> = {}): Promise<WorkerBindings> {
  const dev = await generateDevAuthority("rsa");
  return {
    HYPERDRIVE: { connectionString: "postgres://u:p@127.0.0.1:5432/db" },
    HOADON_SIGNING_KEY: dev.keyPem,
    HOADON_SIGNING_CERT: dev.certPem,
    HOADON_CODE_SECRET: "0123456789abcdef0123456789abcdef",
    HOADON_ADMIN_TOKEN: "hda_worker-unit-admin-token",
    HOADON_TRUST_ANCHORS: readFileSync(CERTS + "trust-anchors.pem", "utf8"),
    HOADON_INTERMEDIATES: readFileSync(CERTS + "intermediates.pem", "utf8"),
    HOADON_ISSUER_ID: "e0",
    ...overrides,
  };
}

describe("Workers settings", () => {
  it("accepts a complete set of bindings, with the defaults filled in", async () => {
    const r = workerConfig(await bindings());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.HOADON_ISSUER_ID).toBe("E0");
    expect(r.config.HOADON_DB_POOL).toBe(5);
    expect(r.config.HOADON_ALLOW_SHA1).toBe("false");
    expect(r.config.HOADON_MAX_SIGNING_LAG_HOURS).toBe(72);
    expect(r.config.HOADON_MAX_ISSUE_DATE_LAG_DAYS).toBe(7);
  });

  it("reads the time window's settings as numbers", async () => {
    const r = workerConfig(await bindings({ HOADON_MAX_SIGNING_LAG_HOURS: "24", HOADON_MAX_ISSUE_DATE_LAG_DAYS: "2" }));
    expect(r.ok && [r.config.HOADON_MAX_SIGNING_LAG_HOURS, r.config.HOADON_MAX_ISSUE_DATE_LAG_DAYS]).toEqual([24, 2]);
  });

  it.each([
    ["HOADON_TRUST_ANCHORS", { HOADON_TRUST_ANCHORS: undefined }],
    ["HOADON_TRUST_ANCHORS", { HOADON_TRUST_ANCHORS: "certs/trust-anchors.pem" }],
    ["HOADON_SIGNING_KEY", { HOADON_SIGNING_KEY: "" }],
    ["HOADON_CODE_SECRET", { HOADON_CODE_SECRET: "short" }],
    ["HOADON_ISSUER_ID", { HOADON_ISSUER_ID: "XYZ" }],
    ["HOADON_DB_SCHEMA", { HOADON_DB_SCHEMA: "Bad-Schema" }],
    ["HOADON_MAX_SIGNING_LAG_HOURS", { HOADON_MAX_SIGNING_LAG_HOURS: "0" }],
    ["HOADON_MAX_ISSUE_DATE_LAG_DAYS", { HOADON_MAX_ISSUE_DATE_LAG_DAYS: "a week" }],
    ["HYPERDRIVE", { HYPERDRIVE: undefined }],
  ])("names %s when it is missing or invalid", async (name, overrides) => {
    const r = workerConfig(await bindings(overrides));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatch(new RegExp(`^invalid configuration: ${name}: `));
    expect(r.error).not.toMatch(/MII|0123456789abcdef|certs\//); // names the setting, never echoes a value
  });

  it("refuses a signing key that does not match the certificate", async () => {
    const other = await generateDevAuthority("rsa");
    const r = workerConfig(await bindings({ HOADON_SIGNING_KEY: other.keyPem }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(() => buildIsolate(r.config)).toThrow(/does not match/);
  });

  it("builds the app once per isolate and takes the services of each request from its environment", async () => {
    const r = workerConfig(await bindings());
    if (!r.ok) throw new Error(r.error);
    const iso = buildIsolate(r.config);
    let pings = 0;
    const store = { ping: async () => void pings++ } as unknown as Store;
    const services = createServices({ store, trust: iso.trust, secrets: iso.secrets, issuerId: "E0", allowSha1: false, counters: iso.counters });
    const env: RequestEnv = { ...(await bindings()), services, clientAddress: "192.0.2.1" };
    const res = await iso.app.fetch(new Request("http://worker/readyz"), env);
    expect(res.status).toBe(200);
    expect(pings).toBe(1);
    const cert = await iso.app.fetch(new Request("http://worker/v1/authority/certificate"), env);
    expect(await cert.text()).toContain("BEGIN CERTIFICATE");
  });
});
