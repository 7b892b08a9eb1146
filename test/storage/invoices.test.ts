/**
 * The invoices aggregate (storage/invoices.ts): issuing, replays and conflicts, amounts, the
 * stamped XML, transaction numbers, partitions; on whichever backend test/helpers/db.ts gives
 * (PGlite, or PostgreSQL with DATABASE_URL).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql, sqlState, UniqueViolationError } from "../../src/storage/db.js";
import { TXN_BLOCK_SIZE } from "../../src/storage/invoices.js";
import type { PgStore } from "../../src/storage/pg-store.js";
import type { NewInvoice } from "../../src/storage/store.js";
import { certificateFor, newCode, newHash, newTaxCode, testStore } from "../helpers/db.js";
import { newInvoice, rate, readySeller } from "../helpers/ledger.js";

let store: PgStore;
let registry: PgStore["registry"];
let invoices: PgStore["invoices"];
beforeAll(async () => {
  store = await testStore();
  registry = store.registry;
  invoices = store.invoices;
});
afterAll(async () => {
  await store?.close();
});


/** A registered seller with one certificate and one API key, ready to issue invoices. */
async function sellerReady() {
  const taxCode = newTaxCode();
  await registry.createSeller({ taxCode, name: `Seller ${taxCode}`, address: "1 Tràng Tiền, Hà Nội", taxOffice: null, province: null });
  const cert = certificateFor(taxCode);
  await registry.addCertificate(cert);
  const keyId = randomUUID();
  await registry.createApiKey({ id: keyId, sellerTaxCode: taxCode, keyHash: newHash() });
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
    const outcome = await invoices.issueInvoice(inv);
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
    expect(await invoices.getInvoice(inv.code)).toEqual(expected);
    expect(await invoices.findInvoiceByKey(inv)).toEqual(expected);
    expect(await invoices.getInvoiceXml(inv.code)).toBe(inv.xml);
    expect(await invoices.getInvoiceHistory(inv.code)).toEqual([
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
    const outcomes = await invoices.issueInvoices([both, rsa, plain]);
    expect(outcomes.map((o) => o.kind === "stored" && o.invoice.legacy)).toEqual([["sha1", "rsa1024"], ["rsa1024"], []]);
    expect((await invoices.getInvoice(both.code))?.legacy).toEqual(["sha1", "rsa1024"]);
    const found = async (legacy: "any" | "none" | "sha1" | "rsa1024") => (await store.reports.searchInvoices({ seller: seller.taxCode, legacy, limit: 10 })).items.map((i) => i.code).sort();
    expect(await found("any")).toEqual([both.code, rsa.code].sort());
    expect(await found("sha1")).toEqual([both.code]);
    expect(await found("rsa1024")).toEqual([both.code, rsa.code].sort());
    expect(await found("none")).toEqual([plain.code]);
  });

  it("refuses a legacy allowance it does not know (RangeError before writing; the check constraint below it)", async () => {
    const seller = await sellerReady();
    const before = await store.countRows();
    await expect(invoices.issueInvoices([invoiceFor(seller), invoiceFor(seller, { legacy: ["md5" as never] })])).rejects.toThrow(RangeError);
    expect(await store.countRows()).toEqual(before);
    const raw = invoiceFor(seller);
    await invoices.issueInvoice(raw);
    await expect(store.db.query(sql`update invoices set legacy = array['md5'] where code = ${raw.code}`)).rejects.toThrow(/check constraint/);
    await expect(store.db.query(sql`update invoices set legacy = array[null]::text[] where code = ${raw.code}`)).rejects.toThrow(/check constraint/);
    expect((await invoices.getInvoice(raw.code))?.legacy).toEqual([]);
  });

  it("answers a replay (same key, same digest) with the original, writing nothing", async () => {
    const seller = await sellerReady();
    const inv = invoiceFor(seller);
    await invoices.issueInvoice(inv);
    const before = await store.countRows();
    const again = await invoices.issueInvoice({ ...inv, code: newCode(), issuedAt: new Date(), xml: "<HDon>other stamp</HDon>" });
    expect(again).toEqual({ kind: "replay", invoice: await invoices.getInvoice(inv.code) });
    expect(await store.countRows()).toEqual(before);
    expect(await invoices.getInvoiceXml(inv.code)).toBe(inv.xml);
  });

  it("answers a conflict (same key, another digest) naming the existing code, writing nothing", async () => {
    const seller = await sellerReady();
    const inv = invoiceFor(seller);
    await invoices.issueInvoice(inv);
    const before = await store.countRows();
    const other = invoiceFor(seller, { number: inv.number, digest: randomBytes(32).toString("base64"), totalPayable: "5" });
    expect(await invoices.issueInvoice(other)).toEqual({ kind: "conflict", existingCode: inv.code });
    expect(await store.countRows()).toEqual(before);
    expect(await invoices.getInvoice(other.code)).toBeNull();
  });

  it("keeps the same number apart under another form or symbol", async () => {
    const seller = await sellerReady();
    const inv = invoiceFor(seller);
    await invoices.issueInvoice(inv);
    expect((await invoices.issueInvoice(invoiceFor(seller, { number: inv.number, form: "2" }))).kind).toBe("stored");
    expect((await invoices.issueInvoice(invoiceFor(seller, { number: inv.number, symbol: "C26TBB" }))).kind).toBe("stored");
  });

  it("issues exactly one of many concurrent submissions of the same signed invoice; the rest are replays", async () => {
    const seller = await sellerReady();
    const inv = invoiceFor(seller);
    const before = await store.countRows();
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => invoices.issueInvoice({ ...inv, code: newCode() })));
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
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => invoices.issueInvoice(invoiceFor(seller, { number }))));
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
    const outcome = await invoices.issueInvoice(inv);
    expect(outcome.kind).toBe("stored");
    const stored = await invoices.getInvoice(inv.code);
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
    await expect(invoices.issueInvoice(invoiceFor(seller, { totalPayable: "1.0000001" }))).rejects.toBeInstanceOf(RangeError);
    await expect(invoices.issueInvoice(invoiceFor(seller, { totalTax: "1e5" }))).rejects.toBeInstanceOf(RangeError);
    expect(await store.countRows()).toEqual(before);
  });

  it("refuses, before writing, a group with an XML that is empty or holds U+0001 (the group's XMLs travel as one text split at U+0001)", async () => {
    const seller = await sellerReady();
    const before = await store.countRows();
    for (const bad of ["", "<HDon>\u0001</HDon>"]) {
      await expect(invoices.issueInvoices([invoiceFor(seller), invoiceFor(seller, { xml: bad }), invoiceFor(seller)])).rejects.toBeInstanceOf(RangeError);
    }
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
    await expect(invoices.issueInvoice(inv)).rejects.toBeInstanceOf(UniqueViolationError);
    expect(await store.countRows()).toEqual(before);
    expect(await invoices.getInvoice(inv.code)).toBeNull();
  });

  it("refuses an invoice signed by a certificate not registered to its seller", async () => {
    const seller = await sellerReady();
    const stranger = await sellerReady();
    const before = await store.countRows();
    const error = await invoices.issueInvoice(invoiceFor(seller, { certificateFingerprint: stranger.fingerprint })).catch((e: unknown) => e);
    expect(sqlState(error)).toBe("23503");
    expect(await store.countRows()).toEqual(before);
  });

  it("answers null or nothing for an unknown code or key", async () => {
    const code = newCode();
    expect(await invoices.getInvoice(code)).toBeNull();
    expect(await invoices.getInvoiceXml(code)).toBeNull();
    expect(await invoices.getInvoiceHistory(code)).toEqual([]);
    expect(await invoices.findInvoiceByKey({ sellerTaxCode: newTaxCode(), form: "1", symbol: "C26TAA", number: 1 })).toBeNull();
  });

  it("keeps the stamped XML byte for byte, large and non-ASCII", async () => {
    const seller = await sellerReady();
    const xml = `<HDon>${"<HHDVu><THHDVu>Bánh mì đặc biệt ✓</THHDVu></HHDVu>\r\n".repeat(20000)}</HDon>`;
    const inv = invoiceFor(seller, { xml });
    await invoices.issueInvoice(inv);
    expect(await invoices.getInvoiceXml(inv.code)).toBe(xml);
  });

  it("keeps each XML of a group and of a large batch byte for byte, whatever characters JSON escapes", async () => {
    const seller = await sellerReady();
    const tricky = [
      `<HDon a="1" b='2'>\\ \" \\" "" {} {,} , ; NULL</HDon>`,
      "NULL",
      `{"x":[1,2]}`,
      "<HDon>\t tab\r\n crlf \u2028 😀 Việt Nam ₫ &amp; &lt;</HDon>",
      ` <HDon>  leading and trailing spaces  </HDon> `,
      "\\",
      // Long, of every UTF-8 length: the driver's message grows while the parts are written (TextParts).
      `<HDon>${"Đường 😀 ₫ a".repeat(3000)}</HDon>`,
    ];
    const group = tricky.map((xml) => invoiceFor(seller, { xml }));
    expect((await invoices.issueInvoices(group)).map((o) => o.kind)).toEqual(group.map(() => "stored"));
    // Over 500: the chunked path of issueIn.
    const batch = Array.from({ length: 501 }, (_, i) => invoiceFor(seller, { xml: tricky[i % tricky.length]! + i }));
    expect((await invoices.issueInvoices(batch)).every((o) => o.kind === "stored")).toBe(true);
    for (const inv of [...group, batch[0]!, batch[5]!, batch[500]!]) expect(await invoices.getInvoiceXml(inv.code)).toBe(inv.xml);
  });
});

describe("transaction numbers", () => {
  it("hands out blocks that never overlap, even to concurrent callers", async () => {
    const sizes = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? TXN_BLOCK_SIZE : 1 + i * 7));
    const firsts = await Promise.all(sizes.map((size) => invoices.reserveTransactionNumbers(size)));
    const blocks = firsts.map((first, i) => ({ first, end: first + BigInt(sizes[i]!) })).sort((x, y) => (x.first < y.first ? -1 : 1));
    expect(blocks.every((b) => typeof b.first === "bigint" && b.first >= 1n)).toBe(true);
    for (let i = 1; i < blocks.length; i++) expect(blocks[i]!.first >= blocks[i - 1]!.end).toBe(true);
  });

  it("refuses a block size it cannot guarantee", async () => {
    await expect(invoices.reserveTransactionNumbers(0)).rejects.toBeInstanceOf(RangeError);
    await expect(invoices.reserveTransactionNumbers(TXN_BLOCK_SIZE + 1)).rejects.toBeInstanceOf(RangeError);
    await expect(invoices.reserveTransactionNumbers(1.5)).rejects.toBeInstanceOf(RangeError);
  });
});

describe("invoices partitioned by issue month", () => {
  const partitionOf = async (code: string) =>
    (await store.db.query<{ p: string }>(sql`select tableoid::regclass::text as p from invoices where code = ${code}`))[0]?.p.replace(/^.*\./, "").replaceAll('"', "");

  it("puts an invoice in its month's partition, and one of a month without a partition in the default partition until its month is created", async () => {
    const s = await readySeller(registry);
    const now = new Date();
    const thisMonth = now.toISOString().slice(0, 8) + "01";
    const recent = await issueOne(newInvoice(s, thisMonth, [rate("8%", "100", "8")]));
    expect(await partitionOf(recent.code)).toBe(`invoices_y${thisMonth.slice(0, 4)}m${thisMonth.slice(5, 7)}`);

    const old = await issueOne(newInvoice(s, "2019-05-03", [rate("8%", "100", "8")]));
    expect(await partitionOf(old.code)).toBe("invoices_default");
    const before = await store.reports.reportTotals({ from: "2019-05-01", to: "2019-05-31", groupBy: "day", seller: s.taxCode });

    const run = await store.ensurePartitions(now);
    expect(run.created).toContain("invoices_y2019m05");
    expect(await partitionOf(old.code)).toBe("invoices_y2019m05");
    // Moved, not changed: the invoice, its history, its rates and the reports are as they were.
    expect(await invoices.getInvoice(old.code)).toMatchObject({ code: old.code, issueDate: "2019-05-03", totalBeforeTax: "100" });
    expect((await invoices.getInvoiceHistory(old.code)).map((e) => e.event)).toEqual(["issued"]);
    expect(await store.reports.reportTotals({ from: "2019-05-01", to: "2019-05-31", groupBy: "day", seller: s.taxCode })).toEqual(before);
    expect((await invoices.cancelInvoice({ code: old.code, at: new Date(), by: "officer", reason: "Hủy" })).kind).toBe("done");
    expect(await store.reports.checkRollups()).toEqual([]);
    // Again: nothing left to do.
    expect((await store.ensurePartitions(now)).created).toEqual([]);
  });

  it("keeps the natural key unique across months and the code unique across sellers", async () => {
    const s = await readySeller(registry);
    const t = await readySeller(registry);
    const inv = await issueOne(newInvoice(s, "2024-01-31", [rate("8%", "100", "8")]));
    // Same seller, form, symbol and number, another month: a conflict naming the first.
    expect(await invoices.issueInvoice(newInvoice(s, "2024-02-01", [rate("8%", "100", "8")], { number: inv.number }))).toEqual({ kind: "conflict", existingCode: inv.code });
    // The same signed invoice again: a replay.
    expect((await invoices.issueInvoice({ ...inv, code: newCode() })).kind).toBe("replay");
    // A code issued before, another seller and month: refused by the database.
    const before = await store.countRows();
    await expect(invoices.issueInvoice(newInvoice(t, "2024-03-01", [rate("8%", "100", "8")], { code: inv.code }))).rejects.toBeInstanceOf(UniqueViolationError);
    expect(await store.countRows()).toEqual(before);
  });

  it("finds an invoice by code and by natural key whatever its partition", async () => {
    const s = await readySeller(registry);
    const invs = [await issueOne(newInvoice(s, "2018-01-01", [])), await issueOne(newInvoice(s, new Date().toISOString().slice(0, 10), [rate("0%", "5", "0")]))];
    for (const inv of invs) {
      expect((await invoices.getInvoice(inv.code))?.code).toBe(inv.code);
      expect((await invoices.findInvoiceByKey(inv))?.code).toBe(inv.code);
      expect(await invoices.getInvoiceXml(inv.code)).toBe(inv.xml);
    }
    expect((await invoices.findInvoicesByKeys(invs)).map((i) => i.code).sort()).toEqual(invs.map((i) => i.code).sort());
  });
});

async function issueOne(inv: NewInvoice): Promise<NewInvoice> {
  expect((await invoices.issueInvoice(inv)).kind).toBe("stored");
  return inv;
}


describe("replacing, adjusting and cancelling", () => {
  const link = (kind: "replaces" | "adjusts", original: NewInvoice, over: Partial<{ issueDate: string; reason: string | null }> = {}) => ({
    kind,
    key: { sellerTaxCode: original.sellerTaxCode, form: original.form, symbol: original.symbol, number: original.number },
    issueDate: original.issueDate,
    reason: "Sai tên người mua",
    ...over,
  });
  const status = async (inv: NewInvoice) => (await invoices.getInvoice(inv.code))?.status;
  const events = async (inv: NewInvoice) => (await invoices.getInvoiceHistory(inv.code)).map((e) => [e.event, e.relatedCode, e.reason]);

  it("replaces an issued invoice: the original is replaced, both histories name each other, a second replacement is refused", async () => {
    const seller = await sellerReady();
    const original = invoiceFor(seller);
    await invoices.issueInvoice(original);
    const replacing = invoiceFor(seller, { related: link("replaces", original) });
    expect((await invoices.issueInvoice(replacing)).kind).toBe("stored");
    expect(await status(original)).toBe("replaced");
    expect(await events(original)).toEqual([["issued", null, null], ["replaced", replacing.code, "Sai tên người mua"]]);
    expect(await events(replacing)).toEqual([["issued", null, null], ["replaces", original.code, "Sai tên người mua"]]);

    const before = await store.countRows();
    const second = invoiceFor(seller, { related: link("replaces", original) });
    expect(await invoices.issueInvoice(second)).toEqual({ kind: "related_state", relatedCode: original.code, status: "replaced" });
    expect(await invoices.issueInvoice(invoiceFor(seller, { related: link("adjusts", original) }))).toMatchObject({ kind: "related_state", status: "replaced" });
    expect(await store.countRows()).toEqual(before);
  });

  it("adjusts an issued invoice and an adjusted one; an adjusted invoice can still be replaced and cancelled", async () => {
    const seller = await sellerReady();
    const original = invoiceFor(seller);
    await invoices.issueInvoice(original);
    for (let i = 0; i < 2; i++) {
      expect((await invoices.issueInvoice(invoiceFor(seller, { totalBeforeTax: "-10", totalTax: "0", totalPayable: "-10", taxRates: [], related: link("adjusts", original) }))).kind).toBe("stored");
      expect(await status(original)).toBe("adjusted");
    }
    const adjusted = invoiceFor(seller);
    await invoices.issueInvoice(adjusted);
    await invoices.issueInvoice(invoiceFor(seller, { related: link("adjusts", adjusted) }));
    expect((await invoices.cancelInvoice({ code: adjusted.code, at: new Date(), by: "officer", reason: "Hủy" })).kind).toBe("done");
    expect((await invoices.issueInvoice(invoiceFor(seller, { related: link("replaces", original) }))).kind).toBe("stored");
    expect(await status(original)).toBe("replaced");
    expect(await store.reports.checkRollups()).toEqual([]);
  });

  it("refuses a related invoice that is not there: unknown key, or another issue date; nothing written", async () => {
    const seller = await sellerReady();
    const original = invoiceFor(seller);
    await invoices.issueInvoice(original);
    const before = await store.countRows();
    expect(await invoices.issueInvoice(invoiceFor(seller, { related: link("replaces", original, { issueDate: "2026-11-21" }) }))).toEqual({ kind: "related_not_found" });
    expect(await invoices.issueInvoice(invoiceFor(seller, { related: link("adjusts", { ...original, number: original.number + 100000 }) }))).toEqual({ kind: "related_not_found" });
    expect(await store.countRows()).toEqual(before);
    expect(await status(original)).toBe("issued");
  });

  it("lets exactly one of many concurrent replacements of one original win", async () => {
    const seller = await sellerReady();
    const original = invoiceFor(seller);
    await invoices.issueInvoice(original);
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => invoices.issueInvoice(invoiceFor(seller, { related: link("replaces", original) }))));
    expect(outcomes.filter((o) => o.kind === "stored")).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === "related_state" && o.status === "replaced")).toHaveLength(5);
    expect((await events(original)).filter(([e]) => e === "replaced")).toHaveLength(1);
    expect(await store.reports.checkRollups()).toEqual([]);
  });

  it("cancels an issued invoice once; a cancelled or replaced one is answered with its state, unchanged; an unknown code is not found", async () => {
    const seller = await sellerReady();
    const inv = invoiceFor(seller);
    await invoices.issueInvoice(inv);
    const at = new Date("2026-11-23T01:02:03.000Z");
    const out = await invoices.cancelInvoice({ code: inv.code, at, by: "officer-1", reason: "Khách hủy" });
    expect(out).toEqual({ kind: "done", invoice: { ...(await invoices.getInvoice(inv.code))!, status: "cancelled" } });
    expect((await invoices.getInvoiceHistory(inv.code)).at(-1)).toEqual({ event: "cancelled", at, by: "officer-1", reason: "Khách hủy", relatedCode: null });
    const before = await store.countRows();
    expect(await invoices.cancelInvoice({ code: inv.code, at: new Date(), by: "officer-2", reason: "Again" })).toMatchObject({ kind: "state", invoice: { status: "cancelled" } });
    const original = invoiceFor(seller);
    await invoices.issueInvoice(original);
    await invoices.issueInvoice(invoiceFor(seller, { related: link("replaces", original) }));
    const mid = await store.countRows();
    expect(await invoices.cancelInvoice({ code: original.code, at: new Date(), by: "officer", reason: "x" })).toMatchObject({ kind: "state", invoice: { status: "replaced" } });
    expect(await invoices.cancelInvoice({ code: newCode(), at: new Date(), by: "officer", reason: "x" })).toEqual({ kind: "not_found" });
    expect(await store.countRows()).toEqual(mid);
    expect(before.invoice_events).toBeLessThan(mid.invoice_events!);
  });
});
