/**
 * The Workers build: `wrangler deploy --dry-run` bundles offline without PGlite, pino or a static
 * node:fs import, and the bundle starts under `wrangler dev` (workerd, loopback only) and serves
 * the same API over PostgreSQL through the local Hyperdrive binding: a seller registered, an
 * invoice issued and replayed, the docs and metrics served.
 *
 * Needs PostgreSQL (DATABASE_URL), which the local Hyperdrive binding connects to.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDevAuthority } from "../../src/secrets.js";
import { type Db, sql } from "../../src/storage/db.js";
import { openDb } from "../../src/storage/index.js";
import { migrate } from "../../src/storage/migrate.js";
import { buildInvoice, nextNumber, randomTaxCode } from "../helpers/invoice.js";
import { issueSellerCert } from "../helpers/pki.js";
import { type Child, childEnv, freePort, ROOT, startChild, waitUntil } from "../helpers/process.js";
import { signInvoice } from "../helpers/sign.js";

const SERVER_URL = process.env.DATABASE_URL;
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
const ADMIN = "hda_worker-admin-token-0123456789";
const METRICS = "worker-metrics-token-0123456789";

/** wrangler without network: no telemetry, no update check, no Request.cf download, config inside the project. */
const wranglerEnv = (extra: Record<string, string> = {}) =>
  childEnv({
    CI: "true",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    XDG_CONFIG_HOME: join(ROOT, ".wrangler", "config"),
    ...extra,
  });

describe("wrangler deploy --dry-run", () => {
  it("bundles src/worker.ts offline, without PGlite, pino, or a static import of node:fs", () => {
    const out = mkdtempSync(join(tmpdir(), "hoadon-worker-"));
    try {
      const r = spawnSync(WRANGLER, ["deploy", "--dry-run", "--outdir", join(out, "dist"), "--metafile", join(out, "meta.json"), "--env", ""], {
        cwd: ROOT,
        env: wranglerEnv() as NodeJS.ProcessEnv,
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const meta = JSON.parse(readFileSync(join(out, "meta.json"), "utf8")) as { inputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }> };
      const inputs = Object.keys(meta.inputs);
      expect(inputs.filter((p) => /@electric-sql\/pglite|node_modules\/pino|log-node|metrics-node|assets-node|trust-files|src\/secrets|src\/config/.test(p))).toEqual([]);
      const staticFs = Object.entries(meta.inputs).flatMap(([p, v]) => v.imports.filter((i) => /^(node:)?fs(\/promises)?$/.test(i.path) && i.kind !== "dynamic-import").map((i) => `${p} → ${i.path}`));
      expect(staticFs).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!SERVER_URL)(`wrangler dev (${SERVER_URL ? "PostgreSQL through local Hyperdrive" : "skipped: set DATABASE_URL, the local Hyperdrive binding needs PostgreSQL"})`, () => {
  const schema = `worker_${randomBytes(4).toString("hex")}`;
  let dir: string;
  let db: Db;
  let dev: Child;
  let url: string;

  beforeAll(async () => {
    // The schema is migrated from Node, as in a deployment: a Worker never migrates.
    db = await openDb({ databaseUrl: SERVER_URL!, schema, poolSize: 2 });
    await migrate(db);

    dir = mkdtempSync(join(tmpdir(), "hoadon-wrangler-"));
    const authority = await generateDevAuthority("ec"); // ECDSA on workerd: the r‖s encoding path
    const q = (s: string) => JSON.stringify(s); // dotenv expands \n inside double quotes
    writeFileSync(
      join(dir, ".env"),
      [
        `HOADON_SIGNING_KEY=${q(authority.keyPem)}`,
        `HOADON_SIGNING_CERT=${q(authority.certPem)}`,
        `HOADON_CODE_SECRET=${q(randomBytes(32).toString("hex"))}`,
        `HOADON_ADMIN_TOKEN=${q(ADMIN)}`,
        `HOADON_METRICS_TOKEN=${q(METRICS)}`,
        `HOADON_TRUST_ANCHORS=${q(readFileSync(join(ROOT, "certs/trust-anchors.pem"), "utf8"))}`,
        `HOADON_INTERMEDIATES=${q(readFileSync(join(ROOT, "certs/intermediates.pem"), "utf8"))}`,
        `HOADON_DB_SCHEMA=${q(schema)}`,
      ].join("\n") + "\n",
    );
    const port = await freePort();
    const local = new URL(SERVER_URL!);
    local.password ||= "unused"; // Miniflare insists on a password; trust auth ignores it
    dev = startChild(
      WRANGLER,
      ["dev", "--env-file", join(dir, ".env"), "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()), "--show-interactive-dev-session=false", "--log-level", "warn", "--env", ""],
      wranglerEnv({ CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: local.toString() }),
    );
    url = `http://127.0.0.1:${port}`;
    let exited: unknown;
    void dev.exited.then((c) => (exited = c));
    await waitUntil(
      async () => {
        if (exited !== undefined) throw new Error(`wrangler dev exited (${String(exited)}): ${dev.output()}`);
        return (await fetch(`${url}/healthz`)).ok;
      },
      60_000,
      "wrangler dev to answer /healthz",
    );
  });
  afterAll(async () => {
    await dev?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (db) {
      await db.query(sql`drop schema if exists ${sql.ident(schema)} cascade`).catch(() => {});
      await db.close();
    }
  });

  const admin = (path: string, init: RequestInit = {}) =>
    fetch(url + path, { ...init, headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json", ...(init.headers as Record<string, string>) } });

  it("is ready: the per-request database client reaches PostgreSQL", async () => {
    const res = await fetch(`${url}/readyz`);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("registers a seller, issues an invoice (201), replays it (200) and reads it back", async () => {
    const taxCode = randomTaxCode();
    expect((await admin("/v1/sellers", { method: "POST", body: JSON.stringify({ taxCode, name: "Công ty TNHH Workers", address: "1 Tràng Tiền, Hà Nội" }) })).status).toBe(201);
    const cert = await issueSellerCert({ taxCode, keyType: "rsa" });
    const reg = await admin(`/v1/sellers/${taxCode}/certificates`, { method: "POST", body: JSON.stringify({ pem: cert.certPem }) });
    expect(reg.status, await reg.clone().text()).toBe(201);
    const key = ((await (await admin(`/v1/sellers/${taxCode}/api-keys`, { method: "POST" })).json()) as { key: string }).key;

    const xml = signInvoice(buildInvoice({ sellerTaxCode: taxCode, number: nextNumber() }), { keyPem: cert.keyPem, certPem: cert.certPem });
    const post = () => fetch(`${url}/v1/invoices`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/xml" }, body: xml });
    const issued = await post();
    const body = (await issued.json()) as { code: string; xml: string };
    expect(issued.status, JSON.stringify(body)).toBe(201);
    expect(body.code).toMatch(/^D0[0-9A-F]{32}$/); // the issuer id of wrangler.toml's [vars]
    expect(body.xml).toContain("<MCCQT");
    const replay = await post();
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as { code: string }).code).toBe(body.code);
    const read = await fetch(`${url}/v1/invoices/${body.code}`, { headers: { authorization: `Bearer ${key}` } });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { status: string }).status).toBe("issued");
  });

  it("verifies an ECDSA seller signature on workerd and counter-signs with the ECDSA authority key", async () => {
    const taxCode = randomTaxCode();
    expect((await admin("/v1/sellers", { method: "POST", body: JSON.stringify({ taxCode, name: "Công ty TNHH ECDSA", address: "Hà Nội" }) })).status).toBe(201);
    const cert = await issueSellerCert({ taxCode, keyType: "ec" });
    expect((await admin(`/v1/sellers/${taxCode}/certificates`, { method: "POST", body: JSON.stringify({ pem: cert.certPem }) })).status).toBe(201);
    const key = ((await (await admin(`/v1/sellers/${taxCode}/api-keys`, { method: "POST" })).json()) as { key: string }).key;
    const xml = signInvoice(buildInvoice({ sellerTaxCode: taxCode, number: nextNumber() }), { keyPem: cert.keyPem, certPem: cert.certPem });
    const res = await fetch(`${url}/v1/invoices`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/xml" }, body: xml });
    expect(res.status, await res.clone().text()).toBe(201);
    const stamped = ((await res.json()) as { xml: string }).xml;
    expect(stamped).toContain("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256");
    // A tampered amount is refused on workerd as on Node.
    const tampered = xml.replace(/<TgTTTBSo>(\d+)<\/TgTTTBSo>/, (_m, n: string) => `<TgTTTBSo>${BigInt(n) + 1n}</TgTTTBSo>`);
    expect(tampered).not.toBe(xml);
    const refused = await fetch(`${url}/v1/invoices`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/xml" }, body: tampered });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("SIGNATURE_INVALID");
  });

  it("serves the pages on workerd: the buyer's lookup with its QR, the style sheet, the officer's sign-in; and POST /v1/verify", async () => {
    const taxCode = randomTaxCode();
    expect((await admin("/v1/sellers", { method: "POST", body: JSON.stringify({ taxCode, name: "Công ty TNHH Trang", address: "Hà Nội" }) })).status).toBe(201);
    const cert = await issueSellerCert({ taxCode, keyType: "rsa" });
    expect((await admin(`/v1/sellers/${taxCode}/certificates`, { method: "POST", body: JSON.stringify({ pem: cert.certPem }) })).status).toBe(201);
    const key = ((await (await admin(`/v1/sellers/${taxCode}/api-keys`, { method: "POST" })).json()) as { key: string }).key;
    const xml = signInvoice(buildInvoice({ sellerTaxCode: taxCode, number: nextNumber() }), { keyPem: cert.keyPem, certPem: cert.certPem });
    const issued = (await (await fetch(`${url}/v1/invoices`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/xml" }, body: xml })).json()) as { code: string; xml: string };
    const page = await fetch(`${url}/?code=${issued.code}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const html = await page.text();
    expect(html).toContain("Hóa đơn thật");
    expect(html).toContain('src="data:image/svg+xml;base64,');
    expect((await fetch(`${url}/assets/hoadon.css`)).headers.get("content-type")).toMatch(/^text\/css/);
    expect(await (await fetch(`${url}/officer`)).text()).toContain('name="token"');
    const verdict = await fetch(`${url}/v1/verify`, { method: "POST", headers: { "content-type": "application/xml" }, body: issued.xml });
    expect(await verdict.json()).toMatchObject({ valid: true, checks: { sellerSignature: true, authoritySignature: true, codeAuthentic: true, matchesRecord: true } });
  });

  it("serves /openapi.json, /docs with its scripts, and /metrics behind its token", async () => {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/v1/invoices");
    expect(await (await fetch(`${url}/docs`)).text()).toContain('src="/docs/scalar.js"');
    const scalar = await fetch(`${url}/docs/scalar.js`);
    expect(scalar.status).toBe(200);
    expect(await scalar.text()).toContain("createApiReference");
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } })).text();
    expect(metrics).toMatch(/hoadon_invoices_issued_total [1-9]/);
    expect(metrics).toContain('route="/v1/invoices"');
  });
});
