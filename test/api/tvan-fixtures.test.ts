/**
 * The committed xmlsec1-signed T-VAN packages (test/fixtures/xmlsec1/tvan/, written by
 * test/fixtures/make-fixtures.ts --tvan-only; bytes as xmlsec1 wrote them): a 203, a 206 and a
 * 400 of seller 0100000010, received on the day they were signed, each answered LTBao 2 and
 * stored; each changed by one digit is refused. PGlite, and PostgreSQL with DATABASE_URL.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../../src/storage/db.js";
import type { PgStore } from "../../src/storage/pg-store.js";
import { CERTS, cert, type Harness, startHarness } from "../helpers/app.js";
import { readReply, registrationForm, signForm, tdiep } from "../helpers/tvan.js";

const DIR = new URL("../fixtures/xmlsec1/tvan/", import.meta.url);
const SELLER = "0100000010";
let h: Harness;
let key: string;
let clock: Date | null = null;

async function post(xml: string): Promise<string> {
  const res = await h.app.request("/v1/messages", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/xml" }, body: xml });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return text;
}

beforeAll(async () => {
  h = await startHarness({ clock: () => clock ?? new Date() });
  await h.call("POST", "/v1/sellers", { taxCode: SELLER, name: "CÔNG TY TNHH THỬ NGHIỆM HÓA ĐƠN HÀ NỘI", address: "Hà Nội" });
  const pem = cert("seller-0100000010-rsa.pem");
  const registered = await h.call("POST", `/v1/sellers/${SELLER}/certificates`, { pem });
  expect(registered.status).toBe(201);
  const serial = ((await registered.json()) as { serial: string }).serial;
  key = ((await (await h.call("POST", `/v1/sellers/${SELLER}/api-keys`)).json()) as { key: string }).key;
  // The range the fixtures' cash-register codes were made with, as if the authority had drawn it.
  const db = (h.store as PgStore).db;
  await db.query(sql`insert into cash_register_range_owners (range, seller_tax_code) values ('TVANF', ${SELLER})`);
  await db.query(sql`insert into cash_register_ranges (seller_tax_code, range, assigned_at) values (${SELLER}, 'TVANF', now())`);
  // Registered for all three: without a code (in full and by summary tables) and cash registers; held (2004) until an officer accepts.
  const form = registrationForm({ mst: SELLER, flags: { CMa: "1", KCMa: "1", CDLQTCTN: "1", CDDu: "1", CBTHop: "1", CMTMTTien: "1" }, certificates: [{ serial, action: "1" }] });
  const signed = signForm(form, { keyPem: readFileSync(CERTS + "seller-0100000010-rsa.key", "utf8"), certPem: pem });
  expect(readReply(await post(tdiep("100", signed, { mst: SELLER }).xml)).one("TBao/DLTBao/THop")).toBe("1");
  const officer = ((await (await h.call("POST", "/v1/officers", { name: "Vũ Thị Duyệt", taxOffice: "Cục Thuế TP Hà Nội" })).json()) as { token: string }).token;
  const pending = (await (await h.call("GET", `/v1/registrations?seller=${SELLER}&status=pending`, undefined, officer)).json()) as { items: { id: string }[] };
  expect((await h.call("POST", `/v1/registrations/${pending.items[0]!.id}/decision`, { decision: "accept" }, officer)).status).toBe(200);
}, 180_000);
afterAll(async () => h?.close());

describe("xmlsec1-signed T-VAN packages (committed bytes)", () => {
  const fixtures = [
    ["203-uncoded.xml", "<SHDon>26112101</SHDon>", "<SHDon>26112109</SHDon>"],
    ["206-cash-register.xml", "<SHDon>26112201</SHDon>", "<SHDon>26112209</SHDon>"],
    ["400-summary.xml", "<SHDon>26112301</SHDon>", "<SHDon>26112309</SHDon>"],
  ] as const;

  it("answers each LTBao 2 when received on the day it was signed, and stores it", async () => {
    clock = new Date("2026-11-20T10:30:00+07:00");
    try {
      for (const [file] of fixtures) {
        const r = readReply(await post(readFileSync(new URL(file, DIR), "utf8")));
        expect(r.ttchung.MLTDiep, `${file}: ${r.xml}`).toBe("204");
        expect(r.one("TBao/DLTBao/LTBao"), `${file}: ${r.xml}`).toBe("2");
      }
    } finally {
      clock = null;
    }
    const db = (h.store as PgStore).db;
    const bySource = await db.query<{ source: string; n: bigint }>(sql`select source, count(*) as n from invoices where seller_tax_code = ${SELLER} group by source order by source`);
    expect(bySource.map((r) => [r.source, Number(r.n)])).toEqual([["cashRegister", 2], ["uncoded", 2]]);
    const rows = await db.query<{ n: bigint }>(sql`select count(*) as n from summary_rows where seller_tax_code = ${SELLER} and counted`);
    expect(Number(rows[0]!.n)).toBe(2);
  });

  it("refuses each once one digit of its signed data changed (the seller's signature, the package's CKSNNT, the table's signature)", async () => {
    clock = new Date("2026-11-20T10:30:00+07:00");
    try {
      const changed = (file: string, from: string, to: string) => {
        const xml = readFileSync(new URL(file, DIR), "utf8");
        expect(xml).toContain(from);
        // A new MTDiep too: the same one would be answered as already recorded.
        return xml.replace(from, to).replace(/(<MTDiep>V0103930279[0-9A-F]{3})[0-9A-F]{4}/, "$1FFFF");
      };
      const r203 = readReply(await post(changed(...fixtures[0])));
      expect(r203.all("TBao/DLTBao/LHDKMa/DSHDon/HDon/DSLDo/LDo/MLoi")).toEqual(["2005"]);
      const r206 = readReply(await post(changed(...fixtures[1])));
      expect([r206.ttchung.MLTDiep, r206.one("MLoi")]).toEqual(["-1", "2005"]);
      const r400 = readReply(await post(changed(...fixtures[2])));
      expect(r400.all("TBao/DLTBao/LBTHKXDau/DSBTHop/BTHop/DSLDTTChung/LDTTChung/MLoi")).toEqual(["2005"]);
    } finally {
      clock = null;
    }
  });
});
