/**
 * The store on whichever backend test/helpers/db.ts gives: in-memory PGlite by default, a
 * fresh schema on PostgreSQL when DATABASE_URL is set. Same suite, both engines.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatabaseUnavailableError, UniqueViolationError, sql, sqlState } from "../../src/storage/db.js";
import { openStore } from "../../src/storage/index.js";
import { TXN_BLOCK_SIZE, type PgStore } from "../../src/storage/pg-store.js";
import type { NewInvoice } from "../../src/storage/store.js";
import { testStore } from "../helpers/db.js";

let store: PgStore;
beforeAll(async () => {
  store = await testStore();
});
afterAll(async () => {
  await store?.close();
});

// Each test makes its own sellers and numbers: a random prefix per file, a counter per call.
const prefix = String(100000 + Math.floor(Math.random() * 900000));
let counter = 0;
const newTaxCode = (): string => `${prefix}${String(++counter).padStart(4, "0")}`;
const newCode = (): string => randomBytes(17).toString("hex").toUpperCase();
const newHash = (): string => randomBytes(32).toString("base64url");

function certificateFor(sellerTaxCode: string, serial = randomBytes(8).toString("hex").toUpperCase()) {
  const der = new Uint8Array(randomBytes(300));
  return {
    sellerTaxCode,
    fingerprint: createHash("sha256").update(der).digest("hex"),
    serial,
    issuer: "CN=Hoadon Test CA",
    subject: `UID=MST:${sellerTaxCode}, CN=Test Seller`,
    notBefore: new Date("2026-01-01T00:00:00Z"),
    notAfter: new Date("2028-01-01T00:00:00Z"),
    der,
  };
}

/** A registered seller with one certificate and one API key, ready to issue invoices. */
async function sellerReady() {
  const taxCode = newTaxCode();
  await store.createSeller({ taxCode, name: `Seller ${taxCode}`, address: "1 Tràng Tiền, Hà Nội", taxOffice: null, province: null });
  const cert = certificateFor(taxCode);
  await store.addCertificate(cert);
  const keyId = randomUUID();
  await store.createApiKey({ id: keyId, sellerTaxCode: taxCode, keyHash: newHash() });
  return { taxCode, fingerprint: cert.fingerprint, keyId };
}

let invoiceNumber = 0;
function invoiceFor(seller: { taxCode: string; fingerprint: string; keyId: string }, over: Partial<NewInvoice> = {}): NewInvoice {
  return {
    sellerTaxCode: seller.taxCode,
    form: "1",
    symbol: "C26TAA",
    number: ++invoiceNumber,
    code: newCode(),
    status: "issued",
    buyerTaxCode: "0100000010",
    issueDate: "2026-11-20",
    currency: "VND",
    exchangeRate: "1",
    totalBeforeTax: "1000000",
    totalTax: "80000",
    totalPayable: "1080000",
    digest: randomBytes(32).toString("base64"),
    xml: `<HDon><DLHDon Id="data">…</DLHDon><MCCQT>…</MCCQT></HDon>`,
    issuedAt: new Date("2026-11-22T03:04:05.678Z"),
    certificateFingerprint: seller.fingerprint,
    submittedBy: seller.keyId,
    taxRates: [{ taxRate: "8%", amountBeforeTax: "1000000", tax: "80000" }],
    ...over,
  };
}

describe("sql tag", () => {
  it("numbers parameters in order and splices nested pieces", () => {
    const where = sql`a = ${1} and b = ${"x"}`;
    const q = sql`select * from t where ${where} and c in (${sql.join([sql`${2}`, sql`${3}`])}) limit ${4}`;
    expect(q.text).toBe("select * from t where a = $1 and b = $2 and c in ($3, $4) limit $5");
    expect(q.values).toEqual([1, "x", 2, 3, 4]);
  });

  it("quotes identifiers and refuses undefined parameters", () => {
    expect(sql`select * from ${sql.ident('we"ird')}`.text).toBe('select * from "we""ird"');
    expect(() => sql`select ${undefined}`).toThrow(TypeError);
  });
});

describe("the database", () => {
  it("answers a ping and migrates again without applying anything", async () => {
    await store.ping();
    const before = await store.countRows();
    await Promise.all([store.migrate(), store.migrate()]);
    expect(await store.countRows()).toEqual(before);
  });

  it("counts the rows of every table", async () => {
    const counts = await store.countRows();
    for (const table of ["sellers", "certificates", "officers", "api_keys", "invoices", "invoice_tax_rates", "invoice_events"]) {
      expect(counts[table], table).toBeTypeOf("number");
    }
  });

  it("reports an unreachable server as DatabaseUnavailableError", async () => {
    await expect(openStore({ databaseUrl: "postgres://postgres@127.0.0.1:1/none" })).rejects.toBeInstanceOf(DatabaseUnavailableError);
  });

  it("reports a write refused as read-only (SQLSTATE 25006: a node mid-failover) as DatabaseUnavailableError", async () => {
    const taxCode = newTaxCode();
    const write = store.db.transaction(async (tx) => {
      await tx.exec("set transaction read only");
      await tx.query(sql`insert into sellers (tax_code, name, address) values (${taxCode}, ${"Công ty B"}, ${"Huế"})`);
    });
    const error = await write.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(sqlState((error as Error).cause)).toBe("25006");
    expect(await store.getSeller(taxCode)).toBeNull();
  });
});

describe("sellers", () => {
  it("creates an active seller with its fields", async () => {
    const taxCode = newTaxCode();
    const seller = await store.createSeller({ taxCode, name: "Công ty A", address: "Hà Nội", taxOffice: "Cục Thuế Hà Nội", province: "Hà Nội" });
    expect(seller).toMatchObject({ taxCode, name: "Công ty A", address: "Hà Nội", taxOffice: "Cục Thuế Hà Nội", province: "Hà Nội", status: "active" });
    expect(seller?.createdAt).toBeInstanceOf(Date);
    expect(seller?.updatedAt).toBeInstanceOf(Date);
    expect(await store.getSeller(taxCode)).toEqual(seller);
  });

  it("refuses a second seller with the same tax code (null) and keeps the first", async () => {
    const taxCode = newTaxCode();
    await store.createSeller({ taxCode, name: "First", address: "A", taxOffice: null, province: null });
    const before = await store.countRows();
    expect(await store.createSeller({ taxCode, name: "Second", address: "B", taxOffice: null, province: null })).toBeNull();
    expect((await store.getSeller(taxCode))?.name).toBe("First");
    expect(await store.countRows()).toEqual(before);
  });

  it("answers null for an unknown seller", async () => {
    expect(await store.getSeller(newTaxCode())).toBeNull();
    expect(await store.updateSeller(newTaxCode(), { status: "ceased" })).toBeNull();
  });

  it("updates only the fields given, clears a field set to null and moves updatedAt", async () => {
    const taxCode = newTaxCode();
    const created = await store.createSeller({ taxCode, name: "Old", address: "A", taxOffice: "Office", province: "Huế" });
    const updated = await store.updateSeller(taxCode, { status: "suspended", taxOffice: null });
    expect(updated).toMatchObject({ taxCode, name: "Old", address: "A", taxOffice: null, province: "Huế", status: "suspended" });
    expect(updated!.createdAt).toEqual(created!.createdAt);
    expect(updated!.updatedAt.getTime()).toBeGreaterThanOrEqual(created!.updatedAt.getTime());
    expect(await store.updateSeller(taxCode, {})).toEqual(updated);
  });

  it("refuses a malformed tax code or status (check constraint)", async () => {
    const error = await store.createSeller({ taxCode: "12345", name: "X", address: "Y", taxOffice: null, province: null }).catch((e: unknown) => e);
    expect(sqlState(error)).toBe("23514");
    const taxCode = newTaxCode();
    await store.createSeller({ taxCode, name: "X", address: "Y", taxOffice: null, province: null });
    const bad = await store.updateSeller(taxCode, { status: "closed" as never }).catch((e: unknown) => e);
    expect(sqlState(bad)).toBe("23514");
  });

  it("accepts branch and 12-digit individual tax codes", async () => {
    const branch = `${newTaxCode()}-001`;
    const individual = `${newTaxCode()}00`;
    expect(await store.createSeller({ taxCode: branch, name: "Branch", address: "A", taxOffice: null, province: null })).not.toBeNull();
    expect(await store.createSeller({ taxCode: individual, name: "Person", address: "A", taxOffice: null, province: null })).not.toBeNull();
  });
});

describe("certificates", () => {
  it("registers a certificate once, lists and finds it", async () => {
    const taxCode = newTaxCode();
    await store.createSeller({ taxCode, name: "S", address: "A", taxOffice: null, province: null });
    const cert = certificateFor(taxCode, "0A1B2C");
    const record = await store.addCertificate(cert);
    expect(record).toMatchObject({
      sellerTaxCode: taxCode,
      fingerprint: cert.fingerprint,
      serial: "0A1B2C",
      issuer: cert.issuer,
      subject: cert.subject,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      status: "active",
      stoppedAt: null,
    });
    expect(record?.registeredAt).toBeInstanceOf(Date);
    expect(await store.addCertificate(cert)).toBeNull();
    expect(await store.listCertificates(taxCode)).toEqual([record]);
    expect(await store.findCertificate(taxCode, cert.fingerprint)).toEqual(record);
    expect(await store.findCertificate(taxCode, "0".repeat(64))).toBeNull();
    expect(await store.findCertificate(newTaxCode(), cert.fingerprint)).toBeNull();
  });

  it("stores the DER bytes exactly", async () => {
    const taxCode = newTaxCode();
    await store.createSeller({ taxCode, name: "S", address: "A", taxOffice: null, province: null });
    const cert = certificateFor(taxCode);
    await store.addCertificate(cert);
    const [row] = await store.db.query<{ der: Uint8Array }>(sql`select der from certificates where fingerprint = ${cert.fingerprint}`);
    expect(row?.der).toEqual(cert.der);
  });

  it("refuses a fingerprint that is not the SHA-256 of the DER", async () => {
    const taxCode = newTaxCode();
    await store.createSeller({ taxCode, name: "S", address: "A", taxOffice: null, province: null });
    const error = await store.addCertificate({ ...certificateFor(taxCode), fingerprint: "ab".repeat(32) }).catch((e: unknown) => e);
    expect(sqlState(error)).toBe("23514");
  });

  it("stops the active certificates with a serial, from the given time, for that seller only", async () => {
    const [a, b] = [newTaxCode(), newTaxCode()];
    for (const taxCode of [a, b]) await store.createSeller({ taxCode, name: "S", address: "A", taxOffice: null, province: null });
    const serial = "DEADBEEF01";
    const first = certificateFor(a, serial);
    const second = certificateFor(a, serial); // another CA, same serial
    const other = certificateFor(a, "FFFF");
    const elsewhere = certificateFor(b, serial);
    for (const c of [first, second, other, elsewhere]) await store.addCertificate(c);

    const at = new Date("2026-11-22T10:00:00.123Z");
    const stopped = await store.stopCertificate(a, serial, at);
    expect(stopped.map((c) => c.fingerprint).sort()).toEqual([first.fingerprint, second.fingerprint].sort());
    expect(stopped.every((c) => c.status === "stopped" && c.stoppedAt?.getTime() === at.getTime())).toBe(true);
    expect((await store.findCertificate(a, other.fingerprint))?.status).toBe("active");
    expect((await store.findCertificate(b, elsewhere.fingerprint))?.status).toBe("active");
    // Already stopped: nothing more to stop, and the first stop time stays.
    expect(await store.stopCertificate(a, serial, new Date())).toEqual([]);
    expect((await store.findCertificate(a, first.fingerprint))?.stoppedAt).toEqual(at);
  });
});

describe("principals", () => {
  it("finds an officer by the hash of their token", async () => {
    const tokenHash = newHash();
    const id = randomUUID();
    const officer = await store.createOfficer({ id, name: "Nguyễn Văn A", taxOffice: "Cục Thuế TP.HCM", tokenHash });
    expect(officer).toMatchObject({ id, name: "Nguyễn Văn A", taxOffice: "Cục Thuế TP.HCM" });
    expect(officer.createdAt).toBeInstanceOf(Date);
    expect(await store.findPrincipal(tokenHash)).toEqual({ role: "officer", id, name: "Nguyễn Văn A" });
  });

  it("finds a seller's API key by its hash, and not once revoked", async () => {
    const taxCode = newTaxCode();
    await store.createSeller({ taxCode, name: "S", address: "A", taxOffice: null, province: null });
    const id = randomUUID();
    const keyHash = newHash();
    await store.createApiKey({ id, sellerTaxCode: taxCode, keyHash });
    expect(await store.findPrincipal(keyHash)).toEqual({ role: "seller", id, sellerTaxCode: taxCode });
    await store.db.query(sql`update api_keys set revoked_at = now() where id = ${id}`);
    expect(await store.findPrincipal(keyHash)).toBeNull();
  });

  it("answers null for an unknown hash", async () => {
    expect(await store.findPrincipal(newHash())).toBeNull();
  });

  it("refuses a token hash that is already in use (UniqueViolationError)", async () => {
    const tokenHash = newHash();
    await store.createOfficer({ id: randomUUID(), name: "A", taxOffice: null, tokenHash });
    await expect(store.createOfficer({ id: randomUUID(), name: "B", taxOffice: null, tokenHash })).rejects.toBeInstanceOf(UniqueViolationError);
  });
});

describe("invoices", () => {
  it("issues an invoice with its rates and its issued event, in one go", async () => {
    const seller = await sellerReady();
    const inv = invoiceFor(seller, {
      taxRates: [
        { taxRate: "8%", amountBeforeTax: "600000", tax: "48000" },
        { taxRate: "10%", amountBeforeTax: "400000", tax: "40000" },
      ],
      totalTax: "88000",
      totalPayable: "1088000",
    });
    const before = await store.countRows();
    const outcome = await store.issueInvoice(inv);
    const expected = {
      code: inv.code,
      sellerTaxCode: seller.taxCode,
      form: "1",
      symbol: "C26TAA",
      number: inv.number,
      status: "issued",
      buyerTaxCode: "0100000010",
      issueDate: "2026-11-20",
      currency: "VND",
      exchangeRate: "1",
      totalBeforeTax: "1000000",
      totalTax: "88000",
      totalPayable: "1088000",
      digest: inv.digest,
      issuedAt: inv.issuedAt,
      legacy: [],
      source: "coded",
      registerCode: null,
    };
    expect(outcome).toEqual({ kind: "stored", invoice: expected });
    expect(await store.getInvoice(inv.code)).toEqual(expected);
    expect(await store.findInvoiceByKey(inv)).toEqual(expected);
    expect(await store.getInvoiceXml(inv.code)).toBe(inv.xml);
    expect(await store.getInvoiceHistory(inv.code)).toEqual([
      { event: "issued", at: inv.issuedAt, by: seller.keyId, reason: null, relatedCode: null },
    ]);
    const after = await store.countRows();
    expect(after.invoices).toBe(before.invoices! + 1);
    expect(after.invoice_tax_rates).toBe(before.invoice_tax_rates! + 2);
    expect(after.invoice_events).toBe(before.invoice_events! + 1);
  });

  it("keeps the legacy allowances an invoice was accepted under, in their order, and finds invoices by them", async () => {
    const seller = await sellerReady();
    const both = invoiceFor(seller, { legacy: ["rsa1024", "sha1"] });
    const rsa = invoiceFor(seller, { legacy: ["rsa1024"] });
    const plain = invoiceFor(seller);
    const outcomes = await store.issueInvoices([both, rsa, plain]);
    expect(outcomes.map((o) => o.kind === "stored" && o.invoice.legacy)).toEqual([["sha1", "rsa1024"], ["rsa1024"], []]);
    expect((await store.getInvoice(both.code))?.legacy).toEqual(["sha1", "rsa1024"]);
    const found = async (legacy: "any" | "none" | "sha1" | "rsa1024") => (await store.searchInvoices({ seller: seller.taxCode, legacy, limit: 10 })).items.map((i) => i.code).sort();
    expect(await found("any")).toEqual([both.code, rsa.code].sort());
    expect(await found("sha1")).toEqual([both.code]);
    expect(await found("rsa1024")).toEqual([both.code, rsa.code].sort());
    expect(await found("none")).toEqual([plain.code]);
  });

  it("refuses a legacy allowance it does not know (RangeError before writing; the check constraint below it)", async () => {
    const seller = await sellerReady();
    const before = await store.countRows();
    await expect(store.issueInvoices([invoiceFor(seller), invoiceFor(seller, { legacy: ["md5" as never] })])).rejects.toThrow(RangeError);
    expect(await store.countRows()).toEqual(before);
    const raw = invoiceFor(seller);
    await store.issueInvoice(raw);
    await expect(store.db.query(sql`update invoices set legacy = array['md5'] where code = ${raw.code}`)).rejects.toThrow(/check constraint/);
    await expect(store.db.query(sql`update invoices set legacy = array[null]::text[] where code = ${raw.code}`)).rejects.toThrow(/check constraint/);
    expect((await store.getInvoice(raw.code))?.legacy).toEqual([]);
  });

  it("answers a replay (same key, same digest) with the original, writing nothing", async () => {
    const seller = await sellerReady();
    const inv = invoiceFor(seller);
    await store.issueInvoice(inv);
    const before = await store.countRows();
    const again = await store.issueInvoice({ ...inv, code: newCode(), issuedAt: new Date(), xml: "<HDon>other stamp</HDon>" });
    expect(again).toEqual({ kind: "replay", invoice: await store.getInvoice(inv.code) });
    expect(await store.countRows()).toEqual(before);
    expect(await store.getInvoiceXml(inv.code)).toBe(inv.xml);
  });

  it("answers a conflict (same key, another digest) naming the existing code, writing nothing", async () => {
    const seller = await sellerReady();
    const inv = invoiceFor(seller);
    await store.issueInvoice(inv);
    const before = await store.countRows();
    const other = invoiceFor(seller, { number: inv.number, digest: randomBytes(32).toString("base64"), totalPayable: "5" });
    expect(await store.issueInvoice(other)).toEqual({ kind: "conflict", existingCode: inv.code });
    expect(await store.countRows()).toEqual(before);
    expect(await store.getInvoice(other.code)).toBeNull();
  });

  it("keeps the same number apart under another form or symbol", async () => {
    const seller = await sellerReady();
    const inv = invoiceFor(seller);
    await store.issueInvoice(inv);
    expect((await store.issueInvoice(invoiceFor(seller, { number: inv.number, form: "2" }))).kind).toBe("stored");
    expect((await store.issueInvoice(invoiceFor(seller, { number: inv.number, symbol: "C26TBB" }))).kind).toBe("stored");
  });

  it("issues exactly one of many concurrent submissions of the same signed invoice; the rest are replays", async () => {
    const seller = await sellerReady();
    const inv = invoiceFor(seller);
    const before = await store.countRows();
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => store.issueInvoice({ ...inv, code: newCode() })));
    const issued = outcomes.filter((o) => o.kind === "stored");
    expect(issued).toHaveLength(1);
    const winner = issued[0]!.kind === "stored" ? issued[0]!.invoice.code : "";
    expect(outcomes.filter((o) => o.kind === "replay" && o.invoice.code === winner)).toHaveLength(7);
    const after = await store.countRows();
    expect(after.invoices).toBe(before.invoices! + 1);
    expect(after.invoice_events).toBe(before.invoice_events! + 1);
  });

  it("issues exactly one of many concurrent different invoices under one key; the rest are conflicts", async () => {
    const seller = await sellerReady();
    const number = ++invoiceNumber;
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => store.issueInvoice(invoiceFor(seller, { number }))));
    const issued = outcomes.filter((o) => o.kind === "stored");
    expect(issued).toHaveLength(1);
    const winner = issued[0]!.kind === "stored" ? issued[0]!.invoice.code : "";
    expect(outcomes.filter((o) => o.kind === "conflict" && o.existingCode === winner)).toHaveLength(7);
  });

  it("keeps amounts exact: 18 integer digits and 6 decimals, negative and canonical", async () => {
    const seller = await sellerReady();
    const inv = invoiceFor(seller, {
      currency: "USD",
      exchangeRate: "25345.50",
      totalBeforeTax: "123456789012345678.123456",
      totalTax: "-1234.500000",
      totalPayable: "0.000001",
      taxRates: [{ taxRate: "KHAC:5.26", amountBeforeTax: "123456789012345678.123456", tax: "-1234.5" }],
    });
    const outcome = await store.issueInvoice(inv);
    expect(outcome.kind).toBe("stored");
    const stored = await store.getInvoice(inv.code);
    expect(stored).toMatchObject({
      currency: "USD",
      exchangeRate: "25345.5",
      totalBeforeTax: "123456789012345678.123456",
      totalTax: "-1234.5",
      totalPayable: "0.000001",
    });
    const rates = await store.db.query<{ tax_rate: string; amount_before_tax: string; tax: string }>(sql`
      select tax_rate, trim_scale(amount_before_tax) as amount_before_tax, trim_scale(tax) as tax
      from invoice_tax_rates where invoice_code = ${inv.code}`);
    expect(rates).toEqual([{ tax_rate: "KHAC:5.26", amount_before_tax: "123456789012345678.123456", tax: "-1234.5" }]);
  });

  it("refuses an amount it could not keep exactly (7 decimals) before writing anything", async () => {
    const seller = await sellerReady();
    const before = await store.countRows();
    await expect(store.issueInvoice(invoiceFor(seller, { totalPayable: "1.0000001" }))).rejects.toBeInstanceOf(RangeError);
    await expect(store.issueInvoice(invoiceFor(seller, { totalTax: "1e5" }))).rejects.toBeInstanceOf(RangeError);
    expect(await store.countRows()).toEqual(before);
  });

  it("writes nothing when a later insert of the transaction fails", async () => {
    const seller = await sellerReady();
    const before = await store.countRows();
    // Two amounts for one rate break the primary key of invoice_tax_rates after the invoice row went in.
    const inv = invoiceFor(seller, {
      taxRates: [
        { taxRate: "8%", amountBeforeTax: "1", tax: "0" },
        { taxRate: "8%", amountBeforeTax: "2", tax: "0" },
      ],
    });
    await expect(store.issueInvoice(inv)).rejects.toBeInstanceOf(UniqueViolationError);
    expect(await store.countRows()).toEqual(before);
    expect(await store.getInvoice(inv.code)).toBeNull();
  });

  it("refuses an invoice signed by a certificate not registered to its seller", async () => {
    const seller = await sellerReady();
    const stranger = await sellerReady();
    const before = await store.countRows();
    const error = await store.issueInvoice(invoiceFor(seller, { certificateFingerprint: stranger.fingerprint })).catch((e: unknown) => e);
    expect(sqlState(error)).toBe("23503");
    expect(await store.countRows()).toEqual(before);
  });

  it("answers null or nothing for an unknown code or key", async () => {
    const code = newCode();
    expect(await store.getInvoice(code)).toBeNull();
    expect(await store.getInvoiceXml(code)).toBeNull();
    expect(await store.getInvoiceHistory(code)).toEqual([]);
    expect(await store.findInvoiceByKey({ sellerTaxCode: newTaxCode(), form: "1", symbol: "C26TAA", number: 1 })).toBeNull();
  });

  it("keeps the stamped XML byte for byte, large and non-ASCII", async () => {
    const seller = await sellerReady();
    const xml = `<HDon>${"<HHDVu><THHDVu>Bánh mì đặc biệt ✓</THHDVu></HHDVu>\r\n".repeat(20000)}</HDon>`;
    const inv = invoiceFor(seller, { xml });
    await store.issueInvoice(inv);
    expect(await store.getInvoiceXml(inv.code)).toBe(xml);
  });
});

describe("transaction numbers", () => {
  it("hands out blocks that never overlap, even to concurrent callers", async () => {
    const sizes = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? TXN_BLOCK_SIZE : 1 + i * 7));
    const firsts = await Promise.all(sizes.map((size) => store.reserveTransactionNumbers(size)));
    const blocks = firsts.map((first, i) => ({ first, end: first + BigInt(sizes[i]!) })).sort((x, y) => (x.first < y.first ? -1 : 1));
    expect(blocks.every((b) => typeof b.first === "bigint" && b.first >= 1n)).toBe(true);
    for (let i = 1; i < blocks.length; i++) expect(blocks[i]!.first >= blocks[i - 1]!.end).toBe(true);
  });

  it("refuses a block size it cannot guarantee", async () => {
    await expect(store.reserveTransactionNumbers(0)).rejects.toBeInstanceOf(RangeError);
    await expect(store.reserveTransactionNumbers(TXN_BLOCK_SIZE + 1)).rejects.toBeInstanceOf(RangeError);
    await expect(store.reserveTransactionNumbers(1.5)).rejects.toBeInstanceOf(RangeError);
  });
});
