/**
 * Revocation without a restart: the real service (src/server.ts, as a child process) reads
 * HOADON_CRLS at start and again on SIGHUP. A certificate accepted before is CERT_REVOKED once the
 * CRL file lists it and the process got SIGHUP; a CRL file that cannot be used keeps the CRLs in
 * force and logs one line; DER works as well as PEM. On PGlite in a temporary data dir, or on a
 * database of its own when DATABASE_URL is set.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase } from "../faults/common.js";
import { CERTS } from "../helpers/app.js";
import { buildInvoice, randomTaxCode } from "../helpers/invoice.js";
import { type IssuedCert, issueSellerCert, makeCrl, pemToDer } from "../helpers/pki.js";
import { type Child, childEnv, freePort, startChild, waitUntil } from "../helpers/process.js";
import { signInvoice } from "../helpers/sign.js";

const ADMIN = "hda_crl-reload-admin-token-0123456789";
const issuing = { certPem: readFileSync(CERTS + "issuing-ca.pem", "utf8"), keyPem: readFileSync(CERTS + "issuing-ca.key", "utf8") };

let dir: string;
let crlFile: string;
let child: Child;
let url: string;
let db: Awaited<ReturnType<typeof freshDatabase>> | undefined;
let taxCode: string;
let cert: IssuedCert;
let apiKey: string;

async function post(path: string, body: string, token: string, contentType = "application/json"): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url + path, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": contentType }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const submit = () => post("/v1/invoices", signInvoice(buildInvoice({ sellerTaxCode: taxCode }), cert), apiKey, "application/xml");
const codeOf = (r: { json: Record<string, unknown> }) => (r.json.error as { code?: string } | undefined)?.code;
const count = (text: string, needle: string) => text.split(needle).length - 1;

/** Sends SIGHUP to the service process itself and waits for its log line. */
async function hangUp(expectLine: string): Promise<void> {
  const before = count(child.output(), expectLine);
  child.proc.kill("SIGHUP");
  await waitUntil(() => count(child.output(), expectLine) > before, 10_000, `"${expectLine}" in the service log`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "hoadon-crl-reload-"));
  crlFile = join(dir, "issuing-ca.crl");
  writeFileSync(crlFile, await makeCrl(issuing, []));
  if (process.env.DATABASE_URL) db = await freshDatabase(process.env.DATABASE_URL);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  // node with the tsx loader, one process: SIGHUP reaches the service itself, not a wrapper.
  child = startChild(
    process.execPath,
    ["--import", "tsx", "src/server.ts"],
    childEnv({
      PORT: String(port),
      HOST: "127.0.0.1",
      HOADON_DATA_DIR: join(dir, "data"),
      HOADON_ADMIN_TOKEN: ADMIN,
      HOADON_CRLS: crlFile,
      HOADON_LOG_LEVEL: "info",
      ...(db ? { DATABASE_URL: db.url } : {}),
    }),
  );
  await waitUntil(async () => (await fetch(`${url}/healthz`)).ok, 60_000, `${url}/healthz`).catch(async (e) => {
    throw new Error(`${(e as Error).message}\n${child.output()}`);
  });

  taxCode = randomTaxCode();
  expect((await post("/v1/sellers", JSON.stringify({ taxCode, name: `Công ty ${taxCode}`, address: "Hà Nội" }), ADMIN)).status).toBe(201);
  cert = await issueSellerCert({ taxCode });
  expect((await post(`/v1/sellers/${taxCode}/certificates`, JSON.stringify({ pem: cert.certPem }), ADMIN)).status).toBe(201);
  apiKey = (await post(`/v1/sellers/${taxCode}/api-keys`, "{}", ADMIN)).json.key as string;
}, 90_000);

afterAll(async () => {
  if (child) {
    child.proc.kill("SIGTERM");
    await Promise.race([child.exited, new Promise((r) => setTimeout(r, 10_000))]);
    await child.kill();
  }
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe("HOADON_CRLS reloaded on SIGHUP", () => {
  it("refuses a previously accepted certificate as CERT_REVOKED once the CRL file lists it and the service got SIGHUP, without a restart", async () => {
    expect((await submit()).status).toBe(201);
    writeFileSync(crlFile, await makeCrl(issuing, [cert.serialHex]));
    // Not before the signal: the file alone changes nothing.
    expect((await submit()).status).toBe(201);
    await hangUp("CRLs reloaded");
    const refused = await submit();
    expect(refused.status).toBe(422);
    expect(codeOf(refused)).toBe("CERT_REVOKED");
    expect(child.proc.exitCode).toBeNull();
  });

  it("keeps the CRLs in force when the file cannot be used, and says so in one log line", async () => {
    writeFileSync(crlFile, "-----BEGIN X509 CRL-----\nnot a CRL\n-----END X509 CRL-----\n");
    const before = child.output();
    await hangUp("CRL reload failed");
    const added = child.output().slice(before.length);
    expect(added.split("\n").filter((l) => l.includes("CRL reload failed"))).toHaveLength(1);
    expect(codeOf(await submit())).toBe("CERT_REVOKED");
  });

  it("reads a DER CRL as well: a CRL that no longer lists the certificate lets it sign again", async () => {
    writeFileSync(crlFile, pemToDer(await makeCrl(issuing, [])));
    await hangUp("CRLs reloaded");
    expect((await submit()).status).toBe(201);
    writeFileSync(crlFile, pemToDer(await makeCrl(issuing, [cert.serialHex])));
    await hangUp("CRLs reloaded");
    expect(codeOf(await submit())).toBe("CERT_REVOKED");
  });
});
