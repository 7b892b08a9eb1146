/**
 * loadConfig (api.md "Start and configuration"): the defaults, valid values, and one clear line
 * naming the setting for each invalid one. Every test passes its own environment object.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ConfigError, intermediatesPath, loadConfig } from "../../src/config.js";

const CERTS = fileURLToPath(new URL("../../certs/", import.meta.url));

/** Runs loadConfig on `env`, expecting a ConfigError; returns its message. */
function configError(env: Record<string, string | undefined>): string {
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (e) {
    caught = e;
  }
  expect(caught, `no error for ${JSON.stringify(env)}`).toBeInstanceOf(ConfigError);
  expect(caught).toBeInstanceOf(Error);
  return (caught as ConfigError).message;
}

/** The message is one line and names the setting. */
function expectOneLineNaming(message: string, setting: string): void {
  expect(message).not.toMatch(/[\r\n]/);
  expect(message.trim().length).toBeGreaterThan(setting.length);
  expect(message).toContain(setting);
}

describe("defaults", () => {
  it("serves on port 8080 of 127.0.0.1 with issuer 00 when nothing is set", () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(8080);
    expect(c.HOST).toBe("127.0.0.1");
    expect(c.HOADON_ISSUER_ID).toBe("00");
  });

  it("trusts the development CA under certs/ by default, with its issuing CA as intermediate", () => {
    const c = loadConfig({});
    expect(c.HOADON_TRUST_ANCHORS).toBe(CERTS + "trust-anchors.pem");
    expect(existsSync(c.HOADON_TRUST_ANCHORS)).toBe(true);
    expect(readFileSync(c.HOADON_TRUST_ANCHORS, "utf8")).toContain("-----BEGIN CERTIFICATE-----");
    expect(intermediatesPath(c)).toBe(CERTS + "intermediates.pem");
  });

  it("keeps the embedded database under ./.hoadon, no CRLs, SHA-1 off and no fixed secrets", () => {
    const c = loadConfig({});
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.HOADON_DATA_DIR).toBe("./.hoadon");
    expect(c.HOADON_CRLS).toEqual([]);
    expect(c.HOADON_ALLOW_SHA1).toBe(false);
    expect(c.HOADON_ADMIN_TOKEN).toBeUndefined();
    expect(c.HOADON_SIGNING_KEY).toBeUndefined();
    expect(c.HOADON_SIGNING_CERT).toBeUndefined();
    expect(c.HOADON_CODE_SECRET).toBeUndefined();
  });

  it("treats an empty variable as unset", () => {
    const c = loadConfig({ PORT: "", HOST: "", HOADON_ISSUER_ID: "", HOADON_ALLOW_SHA1: "", HOADON_CRLS: "" });
    expect(c).toMatchObject({ PORT: 8080, HOST: "127.0.0.1", HOADON_ISSUER_ID: "00", HOADON_ALLOW_SHA1: false, HOADON_CRLS: [] });
  });

  it("ignores variables it does not know", () => {
    expect(loadConfig({ PATH: "/usr/bin", HOADON_SOMETHING_ELSE: "x" }).PORT).toBe(8080);
  });
});

describe("invalid settings stop start-up with one line naming the setting", () => {
  const cases: [string, Record<string, string>, string][] = [
    ["PORT that is not a number", { PORT: "abc" }, "PORT"],
    ["PORT above 65535", { PORT: "70000" }, "PORT"],
    ["negative PORT", { PORT: "-1" }, "PORT"],
    ["fractional PORT", { PORT: "80.5" }, "PORT"],
    ["issuer id that is not hex", { HOADON_ISSUER_ID: "G1" }, "HOADON_ISSUER_ID"],
    ["issuer id of three characters", { HOADON_ISSUER_ID: "0A0" }, "HOADON_ISSUER_ID"],
    ["DATABASE_URL of another database", { DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    ["trust anchors that do not exist", { HOADON_TRUST_ANCHORS: "/nope" }, "HOADON_TRUST_ANCHORS"],
    ["intermediates that do not exist", { HOADON_INTERMEDIATES: "/nope/intermediates.pem" }, "HOADON_INTERMEDIATES"],
    ["a CRL list with one missing file", { HOADON_CRLS: `${CERTS}issuing-ca.crl.pem,/nope/missing.crl` }, "HOADON_CRLS"],
    ["a signing key without its certificate", { HOADON_SIGNING_KEY: `${CERTS}root-ca.key` }, "HOADON_SIGNING_CERT"],
    ["a signing certificate without its key", { HOADON_SIGNING_CERT: `${CERTS}root-ca.pem` }, "HOADON_SIGNING_KEY"],
    ["a signing key that is neither PEM nor a file", { HOADON_SIGNING_KEY: "/nope/key.pem", HOADON_SIGNING_CERT: `${CERTS}root-ca.pem` }, "HOADON_SIGNING_KEY"],
    ["an admin token that is too short", { HOADON_ADMIN_TOKEN: "short-token" }, "HOADON_ADMIN_TOKEN"],
    ["a code secret that is too short", { HOADON_CODE_SECRET: "not-32-characters" }, "HOADON_CODE_SECRET"],
    ["HOADON_ALLOW_SHA1=maybe", { HOADON_ALLOW_SHA1: "maybe" }, "HOADON_ALLOW_SHA1"],
    ["a database pool of zero", { HOADON_DB_POOL: "0" }, "HOADON_DB_POOL"],
    ["a signing lag of zero hours", { HOADON_MAX_SIGNING_LAG_HOURS: "0" }, "HOADON_MAX_SIGNING_LAG_HOURS"],
    ["a signing lag that is not a number", { HOADON_MAX_SIGNING_LAG_HOURS: "3 days" }, "HOADON_MAX_SIGNING_LAG_HOURS"],
    ["a negative issue-date lag", { HOADON_MAX_ISSUE_DATE_LAG_DAYS: "-1" }, "HOADON_MAX_ISSUE_DATE_LAG_DAYS"],
  ];
  for (const [what, env, setting] of cases) {
    it(`refuses ${what} (${setting})`, () => {
      expectOneLineNaming(configError(env), setting);
    });
  }

  it("still answers in one line when several settings are wrong, naming one of them", () => {
    const message = configError({ PORT: "abc", HOADON_ISSUER_ID: "G1", HOADON_ALLOW_SHA1: "maybe" });
    expect(message).not.toMatch(/[\r\n]/);
    expect(["PORT", "HOADON_ISSUER_ID", "HOADON_ALLOW_SHA1"].some((s) => message.includes(s))).toBe(true);
  });

  it("does not take a PORT of only spaces as port 0 (a random port)", () => {
    // Either refusing it or treating it as unset would do; serving on a random port would not.
    let port: number | undefined;
    try {
      port = loadConfig({ PORT: "  " }).PORT;
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expectOneLineNaming((e as Error).message, "PORT");
      return;
    }
    expect(port).toBe(8080);
  });
});

describe("HOADON_OFFICIAL_KEY and HOADON_OFFICIAL_CERT", () => {
  it("go together", () => {
    expectOneLineNaming(configError({ HOADON_OFFICIAL_KEY: "-----BEGIN PRIVATE KEY-----x" }), "HOADON_OFFICIAL_CERT");
    expectOneLineNaming(configError({ HOADON_OFFICIAL_CERT: "-----BEGIN CERTIFICATE-----x" }), "HOADON_OFFICIAL_KEY");
  });
});

describe("HOADON_PUBLIC_URL", () => {
  it("takes an http(s) base URL, ending it in / so that ?code= can follow", () => {
    expect(loadConfig({}).HOADON_PUBLIC_URL).toBeUndefined();
    expect(loadConfig({ HOADON_PUBLIC_URL: "https://hoadon.example.vn" }).HOADON_PUBLIC_URL).toBe("https://hoadon.example.vn/");
    expect(loadConfig({ HOADON_PUBLIC_URL: "https://example.vn/tra-cuu" }).HOADON_PUBLIC_URL).toBe("https://example.vn/tra-cuu/");
    expect(loadConfig({ HOADON_PUBLIC_URL: "http://127.0.0.1:8080/" }).HOADON_PUBLIC_URL).toBe("http://127.0.0.1:8080/");
  });

  it("refuses anything else with one line naming it", () => {
    for (const bad of ["hoadon.example.vn", "ftp://example.vn/", "https://example.vn/?x=1", "https://example.vn/#top", "https://u:p@example.vn/", "javascript:alert(1)"]) {
      expectOneLineNaming(configError({ HOADON_PUBLIC_URL: bad }), "HOADON_PUBLIC_URL");
    }
  });
});

describe("valid settings", () => {
  it("parses PORT and HOST", () => {
    expect(loadConfig({ PORT: "3000", HOST: "0.0.0.0" })).toMatchObject({ PORT: 3000, HOST: "0.0.0.0" });
    expect(loadConfig({ PORT: "65535" }).PORT).toBe(65535);
    expect(loadConfig({ PORT: "1" }).PORT).toBe(1);
  });

  it("accepts postgres:// and postgresql:// database URLs", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://u:p@db:5432/hoadon" }).DATABASE_URL).toBe("postgres://u:p@db:5432/hoadon");
    expect(loadConfig({ DATABASE_URL: "postgresql://db/hoadon" }).DATABASE_URL).toBe("postgresql://db/hoadon");
  });

  it("upper-cases the issuer id", () => {
    expect(loadConfig({ HOADON_ISSUER_ID: "a7" }).HOADON_ISSUER_ID).toBe("A7");
    expect(loadConfig({ HOADON_ISSUER_ID: "FF" }).HOADON_ISSUER_ID).toBe("FF");
  });

  it("bounds SigningTime to 72 hours and NLap to 7 days before the receipt unless told otherwise", () => {
    expect(loadConfig({})).toMatchObject({ HOADON_MAX_SIGNING_LAG_HOURS: 72, HOADON_MAX_ISSUE_DATE_LAG_DAYS: 7 });
    expect(loadConfig({ HOADON_MAX_SIGNING_LAG_HOURS: "24", HOADON_MAX_ISSUE_DATE_LAG_DAYS: "0" })).toMatchObject({ HOADON_MAX_SIGNING_LAG_HOURS: 24, HOADON_MAX_ISSUE_DATE_LAG_DAYS: 0 });
  });

  it("refuses RSA-1024 seller keys unless HOADON_ALLOW_RSA1024 says otherwise", () => {
    expect(loadConfig({}).HOADON_ALLOW_RSA1024).toBe(false);
    expect(loadConfig({ HOADON_ALLOW_RSA1024: "true" }).HOADON_ALLOW_RSA1024).toBe(true);
    expectOneLineNaming(configError({ HOADON_ALLOW_RSA1024: "1024" }), "HOADON_ALLOW_RSA1024");
  });

  it("reads HOADON_ALLOW_SHA1 as a boolean", () => {
    for (const v of ["true", "1", "yes"]) expect(loadConfig({ HOADON_ALLOW_SHA1: v }).HOADON_ALLOW_SHA1, v).toBe(true);
    for (const v of ["false", "0", "no"]) expect(loadConfig({ HOADON_ALLOW_SHA1: v }).HOADON_ALLOW_SHA1, v).toBe(false);
  });

  it("splits HOADON_CRLS on commas, trimming spaces and dropping empty entries", () => {
    const pem = `${CERTS}issuing-ca.crl.pem`;
    const der = `${CERTS}issuing-ca.crl.der`;
    expect(loadConfig({ HOADON_CRLS: `${pem}, ${der},` }).HOADON_CRLS).toEqual([pem, der]);
  });

  it("takes configured trust anchors and intermediates, and no default intermediates for other anchors", () => {
    const anchors = `${CERTS}root-ca.pem`;
    const c = loadConfig({ HOADON_TRUST_ANCHORS: anchors });
    expect(c.HOADON_TRUST_ANCHORS).toBe(anchors);
    expect(intermediatesPath(c)).toBeUndefined();
    const withIntermediates = loadConfig({ HOADON_TRUST_ANCHORS: anchors, HOADON_INTERMEDIATES: `${CERTS}issuing-ca.pem` });
    expect(intermediatesPath(withIntermediates)).toBe(`${CERTS}issuing-ca.pem`);
  });

  it("accepts the signing key and certificate together, as paths or as PEM text", () => {
    const keyPath = `${CERTS}issuing-ca.key`;
    const certPath = `${CERTS}issuing-ca.pem`;
    expect(loadConfig({ HOADON_SIGNING_KEY: keyPath, HOADON_SIGNING_CERT: certPath })).toMatchObject({ HOADON_SIGNING_KEY: keyPath, HOADON_SIGNING_CERT: certPath });
    const keyPem = readFileSync(keyPath, "utf8");
    const certPem = readFileSync(certPath, "utf8");
    expect(loadConfig({ HOADON_SIGNING_KEY: keyPem, HOADON_SIGNING_CERT: certPem })).toMatchObject({ HOADON_SIGNING_KEY: keyPem, HOADON_SIGNING_CERT: certPem });
  });

  it("accepts an admin token of 16 characters and a code secret of 32", () => {
    const c = loadConfig({ HOADON_ADMIN_TOKEN: "a".repeat(16), HOADON_CODE_SECRET: "s".repeat(32) });
    expect(c.HOADON_ADMIN_TOKEN).toBe("a".repeat(16));
    expect(c.HOADON_CODE_SECRET).toBe("s".repeat(32));
  });

  it("keeps HOADON_DATA_DIR and HOADON_DB_POOL", () => {
    expect(loadConfig({ HOADON_DATA_DIR: "/var/lib/hoadon", HOADON_DB_POOL: "25" })).toMatchObject({ HOADON_DATA_DIR: "/var/lib/hoadon", HOADON_DB_POOL: 25 });
  });

  it("lingers 2 ms for company under sustained traffic unless HOADON_COMMIT_LINGER_MS says otherwise (0–50)", () => {
    expect(loadConfig({}).HOADON_COMMIT_LINGER_MS).toBe(2);
    expect(loadConfig({ HOADON_COMMIT_LINGER_MS: "0" }).HOADON_COMMIT_LINGER_MS).toBe(0);
    expectOneLineNaming(configError({ HOADON_COMMIT_LINGER_MS: "51" }), "HOADON_COMMIT_LINGER_MS");
    expectOneLineNaming(configError({ HOADON_COMMIT_LINGER_MS: "-1" }), "HOADON_COMMIT_LINGER_MS");
  });

  it("runs one process unless HOADON_WORKERS says more, which needs PostgreSQL", () => {
    expect(loadConfig({}).HOADON_WORKERS).toBe(1);
    expect(loadConfig({ HOADON_WORKERS: "2", DATABASE_URL: "postgres://h/db" }).HOADON_WORKERS).toBe(2);
    expectOneLineNaming(configError({ HOADON_WORKERS: "2" }), "HOADON_WORKERS");
    expect(configError({ HOADON_WORKERS: "2" })).toMatch(/DATABASE_URL/);
    expectOneLineNaming(configError({ HOADON_WORKERS: "0", DATABASE_URL: "postgres://h/db" }), "HOADON_WORKERS");
    expectOneLineNaming(configError({ HOADON_WORKERS: "65", DATABASE_URL: "postgres://h/db" }), "HOADON_WORKERS");
  });
});
