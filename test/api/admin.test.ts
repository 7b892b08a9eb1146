/**
 * The administration endpoints through the routes: officers, sellers, their certificates and
 * API keys, who may call what, the error envelope, and the public operational endpoints.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PgStore } from "../../src/storage/pg-store.js";
import { ADMIN_TOKEN as ADMIN, cert, type Harness, startHarness } from "../helpers/app.js";
import { randomTaxCode } from "../helpers/invoice.js";
import { issueSellerCert, makeTestCa } from "../helpers/pki.js";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

interface ErrorBody {
  error: { code: string; message: string; details: { code: string; message: string; path?: string }[]; requestId: string };
}

interface SellerJson {
  taxCode: string;
  name: string;
  address: string;
  taxOffice: string | null;
  province: string | null;
  status: string;
  createdAt: string;
  updatedAt: string;
  certificates?: CertificateJson[];
}

interface CertificateJson {
  serial: string;
  fingerprint: string;
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  status: string;
  registeredAt: string;
  stoppedAt: string | null;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;
const DAY = 86_400_000;

/** Checks the one error shape of api.md and that its requestId is the X-Request-Id header; returns the body. */
async function expectError(res: Response, status: number, code: string | RegExp): Promise<ErrorBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(Object.keys(body)).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "details", "message", "requestId"]);
  if (typeof code === "string") expect(body.error.code).toBe(code);
  else expect(body.error.code).toMatch(code);
  expect(body.error.message).toEqual(expect.any(String));
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(Array.isArray(body.error.details)).toBe(true);
  for (const d of body.error.details) {
    expect(d.code).toEqual(expect.any(String));
    expect(d.message).toEqual(expect.any(String));
  }
  expect(body.error.requestId.length).toBeGreaterThan(0);
  expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
  return body;
}

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** A request with no Authorization header at all. */
const anonymous = (method: string, path: string, body?: unknown) =>
  Promise.resolve(
    h.app.request(path, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    }),
  );

const sha256Hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const db = () => (h.store as PgStore).db;

/** A valid tax code with its check digit changed: always invalid, as each 9 digits have one check digit. */
function wrongCheckDigit(taxCode: string): string {
  const last = Number(taxCode[9]);
  return taxCode.slice(0, 9) + String((last + 1) % 10);
}

const sellerBody = (taxCode: string) => ({ taxCode, name: `Công ty TNHH Quản trị ${taxCode}`, address: "12 Lý Thường Kiệt, Hoàn Kiếm, Hà Nội" });

/** Registers a fresh seller (as admin unless another token is given) and returns its tax code. */
async function newSeller(token?: string): Promise<string> {
  const taxCode = randomTaxCode();
  await json(await h.call("POST", "/v1/sellers", sellerBody(taxCode), token), 201);
  return taxCode;
}

/** Seller 0100000010, the MST of the attack certificates under certs/ (registered once per store). */
async function seller0100000010(): Promise<string> {
  const res = await h.call("POST", "/v1/sellers", sellerBody("0100000010"));
  expect([201, 409]).toContain(res.status);
  return "0100000010";
}

async function newOfficer(): Promise<{ id: string; token: string }> {
  return json<{ id: string; token: string }>(await h.call("POST", "/v1/officers", { name: "Nguyễn Văn Kiểm", taxOffice: "Cục Thuế TP Hà Nội" }), 201);
}

async function newKey(taxCode: string): Promise<string> {
  return (await json<{ key: string }>(await h.call("POST", `/v1/sellers/${taxCode}/api-keys`), 201)).key;
}

const registerPem = (taxCode: string, pem: string, token?: string) => h.call("POST", `/v1/sellers/${taxCode}/certificates`, pem, token, { "content-type": "application/x-pem-file" });
const registerJson = (taxCode: string, pem: string, token?: string) => h.call("POST", `/v1/sellers/${taxCode}/certificates`, { pem }, token);

async function getSeller(taxCode: string): Promise<SellerJson> {
  return json<SellerJson>(await h.call("GET", `/v1/sellers/${taxCode}`), 200);
}

/** What `openssl x509 -serial -noout` prints for the certificate, or null when openssl is not installed. */
function opensslSerial(pem: string): string | null {
  const r = spawnSync("openssl", ["x509", "-serial", "-noout"], { input: pem, encoding: "utf8" });
  if (r.error) return null;
  if (r.status !== 0) throw new Error(`openssl x509 failed: ${r.stderr}`);
  return r.stdout.trim().replace(/^serial=/, "");
}

/** Every row of a table as JSON text, to look for a secret in any column. */
async function rowsAsText(table: "officers" | "api_keys"): Promise<string[]> {
  const rows = await db().query<{ j: string }>(`select row_to_json(t)::text as j from ${table} t`);
  return rows.map((r) => r.j);
}

describe("POST /v1/officers", () => {
  it("issues an officer and a bearer token to the admin (201 {id, token})", async () => {
    const res = await h.call("POST", "/v1/officers", { name: "Trần Thị Thanh Tra", taxOffice: "Chi cục Thuế Quận 1" });
    const body = await json<{ id: string; name: string; taxOffice: string | null; token: string }>(res, 201);
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(body.token.length).toBeGreaterThanOrEqual(32);
    expect(body).toMatchObject({ name: "Trần Thị Thanh Tra", taxOffice: "Chi cục Thuế Quận 1" });
  });

  it("gives each officer a different id and token", async () => {
    const a = await newOfficer();
    const b = await newOfficer();
    expect(a.id).not.toBe(b.id);
    expect(a.token).not.toBe(b.token);
  });

  it("lets the new token act as an officer: it registers and reads sellers but cannot create officers", async () => {
    const { token } = await newOfficer();
    const taxCode = await newSeller(token);
    expect((await json<SellerJson>(await h.call("GET", `/v1/sellers/${taxCode}`, undefined, token), 200)).taxCode).toBe(taxCode);
    await expectError(await h.call("POST", "/v1/officers", { name: "Ai đó" }, token), 403, "FORBIDDEN");
  });

  it("refuses an officer token (403 FORBIDDEN)", async () => {
    const { token } = await newOfficer();
    await expectError(await h.call("POST", "/v1/officers", { name: "Lê Văn Phụ" }, token), 403, "FORBIDDEN");
  });

  it("refuses a seller's API key (403 FORBIDDEN), before looking at the body", async () => {
    const key = await newKey(await newSeller());
    await expectError(await h.call("POST", "/v1/officers", { name: "Phạm Văn Bán" }, key), 403, "FORBIDDEN");
    await expectError(await h.call("POST", "/v1/officers", {}, key), 403, "FORBIDDEN");
  });

  it("refuses a request without credentials (401 UNAUTHENTICATED) and with an unknown token", async () => {
    await expectError(await anonymous("POST", "/v1/officers", { name: "Vô Danh" }), 401, "UNAUTHENTICATED");
    await expectError(await h.call("POST", "/v1/officers", { name: "Vô Danh" }, "hdo_not-a-real-token-000000000000000"), 401, "UNAUTHENTICATED");
    await expectError(await h.call("POST", "/v1/officers", { name: "Vô Danh" }, undefined, { authorization: "Basic YWRtaW46YWRtaW4=" }), 401, "UNAUTHENTICATED");
  });

  it("takes the scheme name in any case (RFC 9110 §11.1: bearer, BEARER), and still no other scheme", async () => {
    const key = await newKey(await newSeller());
    for (const scheme of ["bearer", "BEARER", "bEaReR"]) {
      const res = await h.call("POST", "/v1/officers", { name: `Lê ${scheme}` }, undefined, { authorization: `${scheme} ${ADMIN}` });
      expect(res.status, scheme).toBe(201);
      // A seller's key too: known, and so refused for the role (403), not unauthenticated (401).
      await expectError(await h.call("POST", "/v1/officers", { name: "Lê" }, undefined, { authorization: `${scheme} ${key}` }), 403, "FORBIDDEN");
    }
    await expectError(await h.call("POST", "/v1/officers", { name: "Vô Danh" }, undefined, { authorization: `Token ${ADMIN}` }), 401, "UNAUTHENTICATED");
  });

  it("refuses a missing name, naming it in details (422 SCHEMA_INVALID)", async () => {
    const body = await expectError(await h.call("POST", "/v1/officers", { taxOffice: "Cục Thuế" }), 422, "SCHEMA_INVALID");
    expect(body.error.details.map((d) => d.path)).toContain("name");
  });

  it("stores only a SHA-256 hash of the token: the token itself appears nowhere in the officers table", async () => {
    const { id, token } = await newOfficer();
    const [row] = await db().query<{ token_hash: string }>("select token_hash from officers where id = $1", [id]);
    expect(row?.token_hash).toBe(sha256Hex(token));
    const all = await rowsAsText("officers");
    expect(all.length).toBeGreaterThan(0);
    for (const r of all) expect(r).not.toContain(token);
    // Nor the random part without its prefix.
    for (const r of all) expect(r).not.toContain(token.slice(token.indexOf("_") + 1));
  });
});

describe("POST /v1/sellers", () => {
  it("registers a seller as the admin: 201, active, with a Location that reads it back", async () => {
    const taxCode = randomTaxCode();
    const res = await h.call("POST", "/v1/sellers", { ...sellerBody(taxCode), taxOffice: "Cục Thuế TP Hồ Chí Minh", province: "TP Hồ Chí Minh" });
    expect(res.headers.get("location")).toBe(`/v1/sellers/${taxCode}`);
    const body = await json<SellerJson>(res, 201);
    expect(body).toMatchObject({ taxCode, name: sellerBody(taxCode).name, address: sellerBody(taxCode).address, taxOffice: "Cục Thuế TP Hồ Chí Minh", province: "TP Hồ Chí Minh", status: "active" });
    expect(body.createdAt).toMatch(ISO_INSTANT);
    const again = await json<SellerJson>(await h.call("GET", res.headers.get("location")!), 200);
    expect(again).toMatchObject({ taxCode, status: "active", taxOffice: "Cục Thuế TP Hồ Chí Minh", province: "TP Hồ Chí Minh", certificates: [] });
  });

  it("leaves the optional taxOffice and province null when not given", async () => {
    const taxCode = await newSeller();
    expect(await getSeller(taxCode)).toMatchObject({ taxOffice: null, province: null });
  });

  it("lets an officer register a seller", async () => {
    const { token } = await newOfficer();
    const taxCode = randomTaxCode();
    expect((await json<SellerJson>(await h.call("POST", "/v1/sellers", sellerBody(taxCode), token), 201)).taxCode).toBe(taxCode);
  });

  it("refuses a seller's API key (403 FORBIDDEN) and stores nothing", async () => {
    const key = await newKey(await newSeller());
    const taxCode = randomTaxCode();
    await expectError(await h.call("POST", "/v1/sellers", sellerBody(taxCode), key), 403, "FORBIDDEN");
    await expectError(await h.call("GET", `/v1/sellers/${taxCode}`), 404, "NOT_FOUND");
  });

  it("refuses a request without credentials (401 UNAUTHENTICATED)", async () => {
    await expectError(await anonymous("POST", "/v1/sellers", sellerBody(randomTaxCode())), 401, "UNAUTHENTICATED");
  });

  it("refuses a tax code with a wrong check digit (422 TAX_CODE_INVALID) and stores nothing", async () => {
    const bad = wrongCheckDigit(randomTaxCode());
    const body = await expectError(await h.call("POST", "/v1/sellers", sellerBody(bad)), 422, "TAX_CODE_INVALID");
    expect(body.error.details.map((d) => d.path)).toContain("taxCode");
    await expectError(await h.call("GET", `/v1/sellers/${bad}`), 404, "NOT_FOUND");
  });

  it("refuses the spec's invalid example 0310000025 and tax codes of the wrong form (422 TAX_CODE_INVALID)", async () => {
    for (const bad of ["0310000025", "12345", "01000000101", "0100000010-01", "010000001A", `${randomTaxCode()}-000`]) {
      await expectError(await h.call("POST", "/v1/sellers", sellerBody(bad)), 422, "TAX_CODE_INVALID");
    }
  });

  it("refuses a missing name, naming it in details[].path (422 SCHEMA_INVALID)", async () => {
    const taxCode = randomTaxCode();
    const body = await expectError(await h.call("POST", "/v1/sellers", { taxCode, address: "1 Đường Láng" }), 422, "SCHEMA_INVALID");
    expect(body.error.details.map((d) => d.path)).toContain("name");
    await expectError(await h.call("GET", `/v1/sellers/${taxCode}`), 404, "NOT_FOUND");
  });

  it("names every missing field, and refuses a blank name", async () => {
    const both = await expectError(await h.call("POST", "/v1/sellers", { taxCode: randomTaxCode() }), 422, "SCHEMA_INVALID");
    expect(both.error.details.map((d) => d.path)).toEqual(expect.arrayContaining(["name", "address"]));
    const blank = await expectError(await h.call("POST", "/v1/sellers", { ...sellerBody(randomTaxCode()), name: "   " }), 422, "SCHEMA_INVALID");
    expect(blank.error.details.map((d) => d.path)).toContain("name");
  });

  it("refuses a second registration of the same tax code (409 CONFLICT) and keeps the first", async () => {
    const taxCode = await newSeller();
    await expectError(await h.call("POST", "/v1/sellers", { ...sellerBody(taxCode), name: "Kẻ mạo danh" }), 409, "CONFLICT");
    expect((await getSeller(taxCode)).name).toBe(sellerBody(taxCode).name);
  });

  it("accepts a branch code <mst>-001 as its own seller", async () => {
    const head = await newSeller();
    const branch = `${head}-001`;
    const res = await h.call("POST", "/v1/sellers", sellerBody(branch));
    expect(res.headers.get("location")).toBe(`/v1/sellers/${branch}`);
    expect((await json<SellerJson>(res, 201)).taxCode).toBe(branch);
    expect((await getSeller(branch)).taxCode).toBe(branch);
    expect((await getSeller(head)).taxCode).toBe(head);
  });

  it("accepts an individual's 12-digit tax code", async () => {
    const taxCode = "0" + String(Math.floor(Math.random() * 1e11)).padStart(11, "0");
    expect((await json<SellerJson>(await h.call("POST", "/v1/sellers", sellerBody(taxCode)), 201)).taxCode).toBe(taxCode);
  });
});

describe("GET /v1/sellers/{taxCode}", () => {
  it("shows the seller with status and certificates to the admin, an officer and that seller", async () => {
    const taxCode = await newSeller();
    const issued = await issueSellerCert({ taxCode });
    await json(await registerJson(taxCode, issued.certPem), 201);
    const key = await newKey(taxCode);
    const { token } = await newOfficer();
    for (const who of [undefined, token, key]) {
      const s = await json<SellerJson>(await h.call("GET", `/v1/sellers/${taxCode}`, undefined, who), 200);
      expect(s).toMatchObject({ taxCode, status: "active" });
      expect(s.certificates).toHaveLength(1);
      expect(s.certificates![0]).toMatchObject({ serial: issued.serialHex, status: "active", stoppedAt: null });
    }
  });

  it("refuses another seller's key (403 FORBIDDEN), also for an unregistered tax code, so a key cannot probe who exists", async () => {
    const mine = await newSeller();
    const theirs = await newSeller();
    const key = await newKey(mine);
    await expectError(await h.call("GET", `/v1/sellers/${theirs}`, undefined, key), 403, "FORBIDDEN");
    await expectError(await h.call("GET", `/v1/sellers/${randomTaxCode()}`, undefined, key), 403, "FORBIDDEN");
  });

  it("answers 404 NOT_FOUND for an unknown seller", async () => {
    await expectError(await h.call("GET", `/v1/sellers/${randomTaxCode()}`), 404, "NOT_FOUND");
  });

  it("refuses a request without credentials (401 UNAUTHENTICATED)", async () => {
    await expectError(await anonymous("GET", `/v1/sellers/${await newSeller()}`), 401, "UNAUTHENTICATED");
  });
});

describe("PATCH /v1/sellers/{taxCode}", () => {
  it("suspends, marks ceased and reactivates a seller, and GET shows each status", async () => {
    const taxCode = await newSeller();
    for (const status of ["suspended", "ceased", "active"]) {
      const body = await json<SellerJson>(await h.call("PATCH", `/v1/sellers/${taxCode}`, { status }), 200);
      expect(body).toMatchObject({ taxCode, status });
      expect((await getSeller(taxCode)).status).toBe(status);
    }
  });

  it("corrects a seller's name and address without touching its status", async () => {
    const taxCode = await newSeller();
    await h.call("PATCH", `/v1/sellers/${taxCode}`, { status: "suspended" });
    const body = await json<SellerJson>(await h.call("PATCH", `/v1/sellers/${taxCode}`, { name: "Công ty Cổ phần Mới", address: "5 Hai Bà Trưng, Hà Nội" }), 200);
    expect(body).toMatchObject({ taxCode, name: "Công ty Cổ phần Mới", address: "5 Hai Bà Trưng, Hà Nội", status: "suspended" });
    expect(await getSeller(taxCode)).toMatchObject({ name: "Công ty Cổ phần Mới", status: "suspended" });
  });

  it("lets an officer suspend a seller", async () => {
    const taxCode = await newSeller();
    const { token } = await newOfficer();
    expect((await json<SellerJson>(await h.call("PATCH", `/v1/sellers/${taxCode}`, { status: "suspended" }, token), 200)).status).toBe("suspended");
  });

  it("refuses an unknown status (422 SCHEMA_INVALID naming status) and leaves the seller as it was", async () => {
    const taxCode = await newSeller();
    const body = await expectError(await h.call("PATCH", `/v1/sellers/${taxCode}`, { status: "closed" }), 422, "SCHEMA_INVALID");
    expect(body.error.details.map((d) => d.path)).toContain("status");
    expect((await getSeller(taxCode)).status).toBe("active");
  });

  it("answers 404 NOT_FOUND for an unknown seller", async () => {
    await expectError(await h.call("PATCH", `/v1/sellers/${randomTaxCode()}`, { status: "suspended" }), 404, "NOT_FOUND");
  });

  it("refuses a seller's key, even on its own record (403 FORBIDDEN)", async () => {
    const taxCode = await newSeller();
    const key = await newKey(taxCode);
    await expectError(await h.call("PATCH", `/v1/sellers/${taxCode}`, { status: "active" }, key), 403, "FORBIDDEN");
    await h.call("PATCH", `/v1/sellers/${taxCode}`, { status: "suspended" });
    await expectError(await h.call("PATCH", `/v1/sellers/${taxCode}`, { status: "active" }, key), 403, "FORBIDDEN");
    expect((await getSeller(taxCode)).status).toBe("suspended");
  });
});

describe("POST /v1/sellers/{taxCode}/certificates", () => {
  it("registers a certificate sent as application/x-pem-file: 201 {serial, subject, notBefore, notAfter}", async () => {
    const taxCode = await newSeller();
    const notBefore = new Date("2026-01-01T00:00:00Z");
    const notAfter = new Date(Math.floor((Date.now() + 365 * DAY) / 1000) * 1000);
    const issued = await issueSellerCert({ taxCode, notBefore, notAfter });
    const res = await registerPem(taxCode, issued.certPem);
    const body = await json<{ serial: string; subject: string; notBefore: string; notAfter: string }>(res, 201);
    expect(body.serial).toMatch(/^[0-9A-F]+$/);
    expect(body.serial).toBe(issued.serialHex);
    const openssl = opensslSerial(issued.certPem);
    if (openssl !== null) expect(body.serial).toBe(openssl);
    expect(body.subject).toContain(`MST:${taxCode}`);
    expect(body.notBefore).toMatch(ISO_INSTANT);
    expect(body.notAfter).toMatch(ISO_INSTANT);
    expect(new Date(body.notBefore).getTime()).toBe(notBefore.getTime());
    expect(new Date(body.notAfter).getTime()).toBe(notAfter.getTime());
    expect(res.headers.get("location")).toBe(`/v1/sellers/${taxCode}/certificates/${body.serial}`);
  });

  it("registers a certificate sent as JSON {pem}, and the seller lists it as active", async () => {
    const taxCode = await newSeller();
    const issued = await issueSellerCert({ taxCode, keyType: "ec" });
    const body = await json<{ serial: string }>(await registerJson(taxCode, issued.certPem), 201);
    const openssl = opensslSerial(issued.certPem);
    if (openssl !== null) expect(body.serial).toBe(openssl);
    const listed = (await getSeller(taxCode)).certificates!;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ serial: body.serial, status: "active", stoppedAt: null });
    expect(listed[0]!.fingerprint).toBe(createHash("sha256").update(issued.der).digest("hex"));
  });

  it("gives the serial of the checked-in development certificate exactly as openssl prints it", async (ctx) => {
    const pem = cert("seller-0310000024-ec.pem");
    const expected = opensslSerial(pem);
    if (expected === null) ctx.skip();
    const taxCode = await newSellerWithCode("0310000024");
    const body = await json<{ serial: string }>(await registerPem(taxCode, pem), 201);
    expect(body.serial).toBe(expected);
  });

  it("lets an officer register a certificate", async () => {
    const taxCode = await newSeller();
    const { token } = await newOfficer();
    await json(await registerJson(taxCode, (await issueSellerCert({ taxCode })).certPem, token), 201);
  });

  it("refuses a seller's key, even for its own certificates (403 FORBIDDEN)", async () => {
    const taxCode = await newSeller();
    const key = await newKey(taxCode);
    await expectError(await registerJson(taxCode, (await issueSellerCert({ taxCode })).certPem, key), 403, "FORBIDDEN");
    expect((await getSeller(taxCode)).certificates).toEqual([]);
  });

  it("refuses a certificate carrying another tax code (422 CERT_TAX_CODE_MISMATCH) and stores nothing", async () => {
    const taxCode = await newSeller();
    const other = randomTaxCode();
    await expectError(await registerJson(taxCode, (await issueSellerCert({ taxCode: other })).certPem), 422, "CERT_TAX_CODE_MISMATCH");
    expect((await getSeller(taxCode)).certificates).toEqual([]);
  });

  it("refuses the head office's certificate for a branch, and a branch's certificate for the head office (CERT_TAX_CODE_MISMATCH)", async () => {
    const head = await newSeller();
    const branch = `${head}-001`;
    await json(await h.call("POST", "/v1/sellers", sellerBody(branch)), 201);
    await expectError(await registerJson(branch, (await issueSellerCert({ taxCode: head })).certPem), 422, "CERT_TAX_CODE_MISMATCH");
    await expectError(await registerJson(head, (await issueSellerCert({ taxCode: branch })).certPem), 422, "CERT_TAX_CODE_MISMATCH");
  });

  it("refuses certs/untrusted-seller-0100000010.pem, from a root that is not a trust anchor (422 CERT_UNTRUSTED)", async () => {
    const taxCode = await seller0100000010();
    await expectError(await registerPem(taxCode, cert("untrusted-seller-0100000010.pem")), 422, "CERT_UNTRUSTED");
  });

  it("refuses a certificate of a freshly made CA that is not configured (422 CERT_UNTRUSTED)", async () => {
    const taxCode = await newSeller();
    const rogue = await makeTestCa();
    await expectError(await registerJson(taxCode, (await issueSellerCert({ taxCode, issuer: rogue.issuing })).certPem), 422, "CERT_UNTRUSTED");
    expect((await getSeller(taxCode)).certificates).toEqual([]);
  });

  it("refuses certs/seller-0100000010-expired.pem, expired now (422 CERT_EXPIRED)", async () => {
    const taxCode = await seller0100000010();
    await expectError(await registerPem(taxCode, cert("seller-0100000010-expired.pem")), 422, "CERT_EXPIRED");
  });

  it("refuses a freshly issued certificate that expired yesterday (422 CERT_EXPIRED)", async () => {
    const taxCode = await newSeller();
    const issued = await issueSellerCert({ taxCode, notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
    await expectError(await registerJson(taxCode, issued.certPem), 422, "CERT_EXPIRED");
    expect((await getSeller(taxCode)).certificates).toEqual([]);
  });

  it("refuses certs/seller-0100000010-ca.pem, a CA certificate (422 CERT_UNTRUSTED)", async () => {
    const taxCode = await seller0100000010();
    await expectError(await registerPem(taxCode, cert("seller-0100000010-ca.pem")), 422, "CERT_UNTRUSTED");
  });

  it("refuses certs/seller-0100000010-notyet.pem, not valid yet (422 CERT_EXPIRED)", async () => {
    const taxCode = await seller0100000010();
    await expectError(await registerPem(taxCode, cert("seller-0100000010-notyet.pem")), 422, "CERT_EXPIRED");
  });

  it("refuses certs/seller-0100000010-nokeyusage.pem, which may not sign (422 CERT_UNTRUSTED)", async () => {
    const taxCode = await seller0100000010();
    await expectError(await registerPem(taxCode, cert("seller-0100000010-nokeyusage.pem")), 422, "CERT_UNTRUSTED");
  });

  it("never registers any of the refused certs/ attack certificates to seller 0100000010", async () => {
    const taxCode = await seller0100000010();
    const serials = ["untrusted-seller-0100000010.pem", "seller-0100000010-expired.pem", "seller-0100000010-ca.pem", "seller-0100000010-notyet.pem", "seller-0100000010-nokeyusage.pem"];
    for (const f of serials) await registerPem(taxCode, cert(f));
    expect((await getSeller(taxCode)).certificates).toEqual([]);
  });

  it("refuses a body that is not a PEM certificate (422 SCHEMA_INVALID), as PEM text and as JSON", async () => {
    const taxCode = await newSeller();
    await expectError(await registerPem(taxCode, "this is not a certificate"), 422, "SCHEMA_INVALID");
    await expectError(await registerJson(taxCode, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 422, "SCHEMA_INVALID");
    const missing = await expectError(await h.call("POST", `/v1/sellers/${taxCode}/certificates`, { certificate: "x" }), 422, "SCHEMA_INVALID");
    expect(missing.error.details.map((d) => d.path)).toContain("pem");
    expect((await getSeller(taxCode)).certificates).toEqual([]);
  });

  it("refuses a content type other than PEM or JSON (415 UNSUPPORTED_MEDIA_TYPE)", async () => {
    const taxCode = await newSeller();
    const pem = (await issueSellerCert({ taxCode })).certPem;
    await expectError(await h.call("POST", `/v1/sellers/${taxCode}/certificates`, pem, undefined, { "content-type": "application/xml" }), 415, "UNSUPPORTED_MEDIA_TYPE");
    await expectError(await h.call("POST", `/v1/sellers/${taxCode}/certificates`, pem, undefined, { "content-type": "multipart/form-data; boundary=x" }), 415, "UNSUPPORTED_MEDIA_TYPE");
    expect((await getSeller(taxCode)).certificates).toEqual([]);
  });

  it("answers 404 NOT_FOUND for an unknown seller, even with a good certificate for that tax code", async () => {
    const taxCode = randomTaxCode();
    await expectError(await registerJson(taxCode, (await issueSellerCert({ taxCode })).certPem), 404, "NOT_FOUND");
  });

  it("refuses the same certificate twice for one seller (409 CONFLICT)", async () => {
    const taxCode = await newSeller();
    const pem = (await issueSellerCert({ taxCode })).certPem;
    await json(await registerJson(taxCode, pem), 201);
    await expectError(await registerPem(taxCode, pem), 409, "CONFLICT");
    expect((await getSeller(taxCode)).certificates).toHaveLength(1);
  });
});

/** Registers a seller with a fixed tax code (the checked-in certificates name one); tolerates an earlier registration. */
async function newSellerWithCode(taxCode: string): Promise<string> {
  const res = await h.call("POST", "/v1/sellers", sellerBody(taxCode));
  expect([201, 409]).toContain(res.status);
  return taxCode;
}

describe("DELETE /v1/sellers/{taxCode}/certificates/{serial}", () => {
  async function sellerWithCert(): Promise<{ taxCode: string; serial: string }> {
    const taxCode = await newSeller();
    const serial = (await json<{ serial: string }>(await registerJson(taxCode, (await issueSellerCert({ taxCode })).certPem), 201)).serial;
    return { taxCode, serial };
  }

  it("stops a certificate from now on: 200 with it stopped and stoppedAt set, and the seller shows it stopped", async () => {
    const { taxCode, serial } = await sellerWithCert();
    const before = Date.now();
    const body = await json<{ stopped: CertificateJson[] }>(await h.call("DELETE", `/v1/sellers/${taxCode}/certificates/${serial}`), 200);
    expect(body.stopped).toHaveLength(1);
    expect(body.stopped[0]).toMatchObject({ serial, status: "stopped" });
    expect(body.stopped[0]!.stoppedAt).toMatch(ISO_INSTANT);
    expect(new Date(body.stopped[0]!.stoppedAt!).getTime()).toBeGreaterThanOrEqual(before - 1000);
    const listed = (await getSeller(taxCode)).certificates!;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ serial, status: "stopped", stoppedAt: body.stopped[0]!.stoppedAt });
  });

  it("answers 404 NOT_FOUND when the certificate is stopped already", async () => {
    const { taxCode, serial } = await sellerWithCert();
    await json(await h.call("DELETE", `/v1/sellers/${taxCode}/certificates/${serial}`), 200);
    await expectError(await h.call("DELETE", `/v1/sellers/${taxCode}/certificates/${serial}`), 404, "NOT_FOUND");
  });

  it("accepts the serial in lower case", async () => {
    const { taxCode, serial } = await sellerWithCert();
    const body = await json<{ stopped: CertificateJson[] }>(await h.call("DELETE", `/v1/sellers/${taxCode}/certificates/${serial.toLowerCase()}`), 200);
    expect(body.stopped[0]).toMatchObject({ serial, status: "stopped" });
  });

  it("stops only the named certificate of the seller, not another of its certificates", async () => {
    const { taxCode, serial } = await sellerWithCert();
    const second = (await json<{ serial: string }>(await registerJson(taxCode, (await issueSellerCert({ taxCode })).certPem), 201)).serial;
    await json(await h.call("DELETE", `/v1/sellers/${taxCode}/certificates/${serial}`), 200);
    const bySerial = Object.fromEntries((await getSeller(taxCode)).certificates!.map((c) => [c.serial, c.status]));
    expect(bySerial).toEqual({ [serial]: "stopped", [second]: "active" });
  });

  it("answers 404 for a serial the seller does not have, or a seller that does not exist", async () => {
    const { taxCode, serial } = await sellerWithCert();
    const other = await newSeller();
    await expectError(await h.call("DELETE", `/v1/sellers/${other}/certificates/${serial}`), 404, "NOT_FOUND");
    await expectError(await h.call("DELETE", `/v1/sellers/${randomTaxCode()}/certificates/${serial}`), 404, "NOT_FOUND");
    await expectError(await h.call("DELETE", `/v1/sellers/${taxCode}/certificates/0123456789ABCDEF`), 404, "NOT_FOUND");
    expect((await getSeller(taxCode)).certificates![0]!.status).toBe("active");
  });

  it("refuses a seller's key (403 FORBIDDEN) and leaves the certificate active", async () => {
    const { taxCode, serial } = await sellerWithCert();
    const key = await newKey(taxCode);
    await expectError(await h.call("DELETE", `/v1/sellers/${taxCode}/certificates/${serial}`, undefined, key), 403, "FORBIDDEN");
    expect((await getSeller(taxCode)).certificates![0]!.status).toBe("active");
  });
});

describe("POST /v1/sellers/{taxCode}/api-keys", () => {
  it("issues a key (201 {id, key}) that authenticates as that seller and no other", async () => {
    const taxCode = await newSeller();
    const other = await newSeller();
    const body = await json<{ id: string; key: string }>(await h.call("POST", `/v1/sellers/${taxCode}/api-keys`), 201);
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.key.length).toBeGreaterThanOrEqual(32);
    expect((await json<SellerJson>(await h.call("GET", `/v1/sellers/${taxCode}`, undefined, body.key), 200)).taxCode).toBe(taxCode);
    await expectError(await h.call("GET", `/v1/sellers/${other}`, undefined, body.key), 403, "FORBIDDEN");
  });

  it("gives a seller several independent keys, each working", async () => {
    const taxCode = await newSeller();
    const a = await newKey(taxCode);
    const b = await newKey(taxCode);
    expect(a).not.toBe(b);
    for (const key of [a, b]) expect((await h.call("GET", `/v1/sellers/${taxCode}`, undefined, key)).status).toBe(200);
  });

  it("lets an officer issue a key", async () => {
    const taxCode = await newSeller();
    const { token } = await newOfficer();
    const key = (await json<{ key: string }>(await h.call("POST", `/v1/sellers/${taxCode}/api-keys`, undefined, token), 201)).key;
    expect((await h.call("GET", `/v1/sellers/${taxCode}`, undefined, key)).status).toBe(200);
  });

  it("does not let a seller's key mint more keys (403 FORBIDDEN)", async () => {
    const taxCode = await newSeller();
    const key = await newKey(taxCode);
    await expectError(await h.call("POST", `/v1/sellers/${taxCode}/api-keys`, undefined, key), 403, "FORBIDDEN");
  });

  it("answers 404 NOT_FOUND for an unknown seller", async () => {
    await expectError(await h.call("POST", `/v1/sellers/${randomTaxCode()}/api-keys`), 404, "NOT_FOUND");
  });

  it("stores only a SHA-256 hash of the key: the key itself appears nowhere in the api_keys table", async () => {
    const taxCode = await newSeller();
    const body = await json<{ id: string; key: string }>(await h.call("POST", `/v1/sellers/${taxCode}/api-keys`), 201);
    const [row] = await db().query<{ key_hash: string; seller_tax_code: string }>("select key_hash, seller_tax_code from api_keys where id = $1", [body.id]);
    expect(row).toEqual({ key_hash: sha256Hex(body.key), seller_tax_code: taxCode });
    const all = await rowsAsText("api_keys");
    for (const r of all) expect(r).not.toContain(body.key);
    for (const r of all) expect(r).not.toContain(body.key.slice(body.key.indexOf("_") + 1));
  });
});

describe("the error envelope", () => {
  it("answers an unknown path with 404 NOT_FOUND in the envelope", async () => {
    await expectError(await h.call("GET", "/v1/no-such-thing"), 404, "NOT_FOUND");
    await expectError(await anonymous("GET", "/nope/nope"), 404, "NOT_FOUND");
  });

  it("answers malformed JSON with 400 in the envelope and stores nothing", async () => {
    const taxCode = randomTaxCode();
    // api.md fixes no code for this; any SCREAMING_SNAKE code of the envelope will do.
    await expectError(await h.call("POST", "/v1/sellers", `{"taxCode": "${taxCode}", "name": `), 400, /^[A-Z][A-Z_]*$/);
    await expectError(await h.call("GET", `/v1/sellers/${taxCode}`), 404, "NOT_FOUND");
  });

  it("echoes a client's X-Request-Id in the header and in the error body", async () => {
    const id = `trace-${randomTaxCode()}`;
    const res = await h.call("GET", `/v1/sellers/${randomTaxCode()}`, undefined, undefined, { "x-request-id": id });
    expect(res.headers.get("x-request-id")).toBe(id);
    expect((await expectError(res, 404, "NOT_FOUND")).error.requestId).toBe(id);
  });

  it("replaces an unusable X-Request-Id with its own, still matching header and body", async () => {
    const res = await h.call("GET", `/v1/sellers/${randomTaxCode()}`, undefined, undefined, { "x-request-id": "bad id with spaces <script>" });
    const body = await expectError(res, 404, "NOT_FOUND");
    expect(body.error.requestId).not.toContain(" ");
  });

  it("gives each request its own id", async () => {
    const a = await expectError(await h.call("GET", "/v1/nowhere"), 404, "NOT_FOUND");
    const b = await expectError(await h.call("GET", "/v1/nowhere"), 404, "NOT_FOUND");
    expect(a.error.requestId).not.toBe(b.error.requestId);
  });
});

describe("health, readiness and the OpenAPI document", () => {
  it("answers GET /healthz with 200 without credentials", async () => {
    const res = await anonymous("GET", "/healthz");
    expect(await json(res, 200)).toEqual({ status: "ok" });
  });

  it("answers GET /readyz with 200 without credentials while the database is reachable", async () => {
    const res = await anonymous("GET", "/readyz");
    expect(await json(res, 200)).toEqual({ status: "ready" });
  });

  it("serves an OpenAPI 3.1 document listing the administration and health paths", async () => {
    const doc = await json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(await anonymous("GET", "/openapi.json"), 200);
    expect(doc.openapi).toMatch(/^3\.1\./);
    const expected: [string, string][] = [
      ["/healthz", "get"],
      ["/readyz", "get"],
      ["/v1/authority/certificate", "get"],
      ["/v1/officers", "post"],
      ["/v1/sellers", "post"],
      ["/v1/sellers/{taxCode}", "get"],
      ["/v1/sellers/{taxCode}", "patch"],
      ["/v1/sellers/{taxCode}/certificates", "post"],
      ["/v1/sellers/{taxCode}/certificates/{serial}", "delete"],
      ["/v1/sellers/{taxCode}/api-keys", "post"],
      ["/v1/invoices", "post"],
    ];
    for (const [path, method] of expected) expect(doc.paths[path]?.[method], `${method.toUpperCase()} ${path}`).toBeDefined();
  });

  it("documents every API route the app serves (each /v1 route and the health checks)", async () => {
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(await anonymous("GET", "/openapi.json"), 200);
    const served = new Set(
      h.app.routes
        .filter((r) => r.method !== "ALL" && (r.path.startsWith("/v1/") || r.path === "/healthz" || r.path === "/readyz"))
        // A wildcard route (the log's tiles: /v1/log/tile/*) is documented as one {path} parameter.
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}").replace(/\/\*$/, "/{path}")}`),
    );
    expect(served.size).toBeGreaterThanOrEqual(10);
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)));
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
  });
});
