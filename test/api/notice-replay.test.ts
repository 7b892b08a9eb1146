/**
 * A signed T-VAN 300 (error notice 04/SS-HĐĐT) sent again under a new MTDiep (issue 14, item 9).
 * It used to be judged again, today: a second 301 (the cancellation now refused as already done,
 * an explanation accepted twice) and a second message on record. A notice is one document
 * whatever envelope carries it, as an invoice is (invoice-format.md §3.4: a replay returns the
 * original result): its copy gets the first 301, byte for byte, and nothing is recorded or
 * changed. A notice refused before its signature was trusted is no precedent: sent again once
 * the signer is registered, it is judged (as a refused invoice is).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { issueSellerCert } from "../helpers/pki.js";
import { errorNotice, type NoticeEntry, readReply, signNotice, tdiep } from "../helpers/tvan.js";

let h: Harness;
let s: TestSeller;

beforeAll(async () => {
  h = await startHarness();
  s = await h.seller();
});
afterAll(async () => h?.close());

const post = (xml: string, key = s.apiKey) =>
  h.app.request("/v1/messages", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/xml" }, body: xml });

async function send(xml: string, key = s.apiKey): Promise<string> {
  const res = await post(xml, key);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return text;
}

interface Invoice {
  code: string;
  status: string;
  number: number;
  symbol: string;
  issueDate: string;
  history: { event: string }[];
}

async function issue(t: TestSeller = s): Promise<Invoice> {
  const code = readReply(await send(tdiep("200", t.invoice(), { mst: t.taxCode }).xml, t.apiKey)).one("HDon/MCCQT");
  return (await (await h.call("GET", `/v1/invoices/${code}`, undefined, t.apiKey)).json()) as Invoice;
}

const entry = (inv: Invoice, action: string): NoticeEntry => ({ code: inv.code, symbol: inv.symbol, number: inv.number, issueDate: inv.issueDate, action, reason: "Sai tên người mua" });
/** The seller-signed TBao of a notice: the same signed content, whatever envelope carries it. */
const signed = (entries: NoticeEntry[], t: TestSeller = s) => signNotice(errorNotice(t.taxCode, entries), t);
/** An envelope of its own (a fresh MTDiep) around a signed TBao. */
const envelope = (tbao: string, t: TestSeller = s) => tdiep("300", tbao, { mst: t.taxCode });

const messageStatus = async (id: string) => (await h.call("GET", `/v1/messages/${id}`, undefined, s.apiKey)).status;

describe("a 300 replayed under a new MTDiep", () => {
  it("gets the first 301, byte for byte, and changes and records nothing: no second judgement of a cancellation", async () => {
    const a = await issue();
    const tbao = signed([entry(a, "1")]);
    const first = envelope(tbao);
    const answer = await send(first.xml);
    expect(readReply(answer).all("TBao/DLTBao/DSHDon/HDon/TTTNCCQT")).toEqual(["1"]);

    const before = await h.store.countRows();
    const copy = envelope(tbao);
    expect(copy.id).not.toBe(first.id);
    expect(await send(copy.xml)).toBe(answer);
    // The answer names the message that was judged; the copy left no trace.
    expect(readReply(answer).ttchung.MTDTChieu).toBe(first.id);
    expect(await h.store.countRows()).toEqual(before);
    expect(await messageStatus(first.id)).toBe(200);
    expect(await messageStatus(copy.id)).toBe(404);
    const after = (await (await h.call("GET", `/v1/invoices/${a.code}`, undefined, s.apiKey)).json()) as Invoice;
    expect(after.history.filter((e) => e.event === "cancelled")).toHaveLength(1);
  });

  it("gets the first 301 for an explanation too, and a copy of the copy the same", async () => {
    const a = await issue();
    const tbao = signed([entry(a, "4"), entry(a, "2")]);
    const answer = await send(envelope(tbao).xml);
    const before = await h.store.countRows();
    const copy = envelope(tbao);
    expect(await send(copy.xml)).toBe(answer);
    expect(await send(copy.xml)).toBe(answer);
    expect(await send(envelope(tbao).xml)).toBe(answer);
    expect(await h.store.countRows()).toEqual(before);
  });

  it("treats the same notice signed again as the same notice (as the same invoice signed again is a replay)", async () => {
    const a = await issue();
    const unsigned = errorNotice(s.taxCode, [entry(a, "1")]);
    const answer = await send(envelope(signNotice(unsigned, s)).xml);
    const before = await h.store.countRows();
    expect(await send(envelope(signNotice(unsigned, s)).xml)).toBe(answer);
    expect(await h.store.countRows()).toEqual(before);
  });

  it("answers copies sent at once under different MTDiep with one judgement", async () => {
    const a = await issue();
    const tbao = signed([entry(a, "1")]);
    const before = await h.store.countRows();
    const answers = await Promise.all([1, 2, 3].map(() => send(envelope(tbao).xml)));
    expect(new Set(answers).size).toBe(1);
    expect(readReply(answers[0]!).all("TBao/DLTBao/DSHDon/HDon/TTTNCCQT")).toEqual(["1"]);
    expect((await h.store.countRows()).tvan_messages).toBe(before.tvan_messages! + 1);
    const after = (await (await h.call("GET", `/v1/invoices/${a.code}`, undefined, s.apiKey)).json()) as Invoice;
    expect(after.history.filter((e) => e.event === "cancelled")).toHaveLength(1);
  });

  it("judges again a notice first refused for its signer (CERT_NOT_REGISTERED), once the certificate is registered", async () => {
    const a = await issue();
    const fresh = await issueSellerCert({ taxCode: s.taxCode });
    const tbao = signNotice(errorNotice(s.taxCode, [entry(a, "1")]), fresh);
    const refused = readReply(await send(envelope(tbao).xml));
    expect(refused.all("TBao/DLTBao/DSLDKTNhan/LDo/MLoi")).toEqual(["2105"]);
    expect((await h.call("POST", `/v1/sellers/${s.taxCode}/certificates`, { pem: fresh.certPem })).status).toBe(201);
    const judged = readReply(await send(envelope(tbao).xml));
    expect(judged.all("TBao/DLTBao/DSHDon/HDon/TTTNCCQT")).toEqual(["1"]);
    expect(((await (await h.call("GET", `/v1/invoices/${a.code}`, undefined, s.apiKey)).json()) as Invoice).status).toBe("cancelled");
  });

  it("refuses a copy sent with another seller's key (999) before any judgement", async () => {
    const t = await h.seller();
    const a = await issue(t);
    const tbao = signed([entry(a, "4")], t);
    const answer = await send(envelope(tbao, t).xml, t.apiKey);
    // Sent with another seller's key, the envelope is refused (999) before any judgement.
    const foreign = readReply(await send(envelope(tbao, t).xml, s.apiKey));
    expect(foreign.ttchung.MLTDiep).toBe("999");
    expect(await send(envelope(tbao, t).xml, t.apiKey)).toBe(answer);
  });
});
