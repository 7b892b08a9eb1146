/**
 * The T-VAN message log (storage/messages.ts): a message and its reply are recorded in one
 * transaction with everything the answer does to other aggregates (invoices of a package,
 * cancellations), repeats and replays get the recorded reply without running the answer again;
 * on whichever backend test/helpers/db.ts gives (PGlite, or PostgreSQL with DATABASE_URL).
 */
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../../src/storage/db.js";
import type { PgStore } from "../../src/storage/pg-store.js";
import type { MessageReply, MessageWork, ReceivedMessage } from "../../src/storage/store.js";
import { testStore } from "../helpers/db.js";
import { newInvoice, type ReadySeller, rate, readySeller } from "../helpers/ledger.js";

let store: PgStore;
let messages: PgStore["messages"];
beforeAll(async () => {
  store = await testStore();
  messages = store.messages;
});
afterAll(async () => {
  await store?.close();
});

let ids = 0;
const prefix = randomBytes(4).toString("hex").toUpperCase();
const newMessageId = (): string => `V${prefix}-${String(++ids).padStart(6, "0")}`;
let registerCodes = Math.floor(Math.random() * 1e9);
const newRegisterCode = (): string => `M1-26-${prefix.slice(0, 5)}-${String(++registerCodes).padStart(11, "0")}`;
const digestOf = (s: string): string => createHash("sha256").update(s).digest("base64");
const message = (seller: ReadySeller, over: Partial<ReceivedMessage> = {}): ReceivedMessage => ({
  sellerTaxCode: seller.taxCode,
  messageId: newMessageId(),
  messageType: "300",
  receivedAt: new Date("2026-11-22T03:00:00Z"),
  ...over,
});
const reply = (text: string): MessageReply => ({ replyType: "301", reply: `<TDiep>${text}</TDiep>` });

/** An answer that counts its runs. */
function counted(answer: (work: MessageWork) => Promise<MessageReply>) {
  const runs = { n: 0 };
  return { runs, answer: async (work: MessageWork) => (runs.n++, answer(work)) };
}

describe("recording a message and its reply", () => {
  it("records the reply, finds it by seller and message id, and answers a repeat with it without running the answer", async () => {
    const seller = await readySeller(store.registry);
    const m = message(seller);
    expect(await messages.findMessageReply(seller.taxCode, m.messageId)).toBeNull();
    const first = counted(async () => reply("first"));
    expect(await messages.recordMessage(m, first.answer)).toEqual({ ...reply("first"), repeated: false });
    expect(await messages.findMessageReply(seller.taxCode, m.messageId)).toEqual(reply("first"));

    const again = counted(async () => reply("second"));
    expect(await messages.recordMessage({ ...m, receivedAt: new Date() }, again.answer)).toEqual({ ...reply("first"), repeated: true });
    expect(again.runs.n).toBe(0);
    // The same id from another seller is another message.
    const other = await readySeller(store.registry);
    expect(await messages.findMessageReply(other.taxCode, m.messageId)).toBeNull();
  });

  it("answers concurrent copies of one message id once: the others wait and get the recorded reply", async () => {
    const seller = await readySeller(store.registry);
    const m = message(seller);
    const answer = counted(async () => reply("once"));
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => messages.recordMessage(m, answer.answer)));
    expect(answer.runs.n).toBe(1);
    expect(outcomes.filter((o) => !o.repeated)).toHaveLength(1);
    expect(outcomes.every((o) => o.reply === reply("once").reply)).toBe(true);
  });

  it("answers the same signed content under another message id with the first reply and records nothing for it", async () => {
    const seller = await readySeller(store.registry);
    const signedDigest = digestOf(`DLTBao ${randomBytes(8).toString("hex")}`);
    const m = message(seller, { signedDigest });
    await messages.recordMessage(m, async () => reply("original"));
    const before = await store.countRows();
    const copy = message(seller, { signedDigest });
    const answer = counted(async () => reply("copy"));
    expect(await messages.recordMessage(copy, answer.answer)).toEqual({ ...reply("original"), repeated: true });
    expect(answer.runs.n).toBe(0);
    expect(await messages.findMessageReply(seller.taxCode, copy.messageId)).toBeNull();
    expect(await store.countRows()).toEqual(before);
    // Another message type with the same digest is another document.
    expect((await messages.recordMessage(message(seller, { signedDigest, messageType: "400" }), async () => reply("other type"))).repeated).toBe(false);
  });

  it("records nothing — message, cancellation, invoices — when the answer throws", async () => {
    const seller = await readySeller(store.registry);
    const inv = newInvoice(seller, "2026-10-01", [rate("8%", "100", "8")]);
    expect((await store.invoices.issueInvoice(inv)).kind).toBe("stored");
    const before = await store.countRows();
    const m = message(seller);
    const failing = messages.recordMessage(m, async (work) => {
      expect((await work.cancelInvoice({ code: inv.code, at: new Date(), by: "seller", reason: "Hủy" })).kind).toBe("done");
      const [out] = await work.issueInvoices([newInvoice(seller, "2026-10-02", [rate("8%", "50", "4")], { source: "uncoded", messageId: m.messageId })]);
      expect(out?.kind).toBe("stored");
      throw new Error("the answer failed");
    });
    await expect(failing).rejects.toThrow("the answer failed");
    expect(await store.countRows()).toEqual(before);
    expect((await store.invoices.getInvoice(inv.code))?.status).toBe("issued");
    expect(await messages.findMessageReply(seller.taxCode, m.messageId)).toBeNull();
    expect(await store.reports.checkRollups()).toEqual([]);
  });

  it("commits what the answer does with the reply: a cancellation and a package's invoices, seen inside the transaction", async () => {
    const seller = await readySeller(store.registry);
    const cancelled = newInvoice(seller, "2026-10-03", [rate("8%", "100", "8")]);
    await store.invoices.issueInvoice(cancelled);
    const m = message(seller, { messageType: "203" });
    const uncoded = newInvoice(seller, "2026-10-03", [rate("10%", "70", "7")], { source: "uncoded", messageId: m.messageId });
    const outcome = await messages.recordMessage(m, async (work) => {
      await work.cancelInvoice({ code: cancelled.code, at: new Date(), by: "seller", reason: "Hủy" });
      expect((await work.getInvoice(cancelled.code))?.status).toBe("cancelled");
      const [issued] = await work.issueInvoices([uncoded]);
      expect(issued).toMatchObject({ kind: "stored", invoice: { code: uncoded.code, source: "uncoded", registerCode: null } });
      expect(await work.getInvoice(uncoded.code)).not.toBeNull();
      return reply("done");
    });
    expect(outcome.repeated).toBe(false);
    expect((await store.invoices.getInvoice(cancelled.code))?.status).toBe("cancelled");
    expect((await store.invoices.getInvoice(uncoded.code))?.source).toBe("uncoded");
    expect((await store.invoices.getInvoiceHistory(cancelled.code)).map((e) => e.event)).toEqual(["issued", "cancelled"]);
    expect(await store.reports.checkRollups()).toEqual([]);
  });

  it("refuses a cash-register code another invoice holds, and gives a code back when its invoice loses its key", async () => {
    const seller = await readySeller(store.registry);
    const other = await readySeller(store.registry);
    const [c1, c2, c3] = [newRegisterCode(), newRegisterCode(), newRegisterCode()];
    const cashRegister = (s: ReadySeller, registerCode: string, messageId: string) =>
      newInvoice(s, "2026-10-04", [rate("8%", "10", "0.8")], { source: "cashRegister", registerCode, messageId });
    const m1 = message(other, { messageType: "206" });
    const held = cashRegister(other, c1, m1.messageId);
    await messages.recordMessage(m1, async (work) => {
      expect((await work.issueInvoices([held]))[0]?.kind).toBe("stored");
      return reply("206 one");
    });
    expect((await store.invoices.getInvoiceByRegisterCode(c1))?.code).toBe(held.code);

    const m2 = message(seller, { messageType: "206" });
    const taken = cashRegister(seller, c1, m2.messageId);
    const fresh = cashRegister(seller, c2, m2.messageId);
    await messages.recordMessage(m2, async (work) => {
      const outcomes = await work.issueInvoices([taken, fresh]);
      expect(outcomes[0]).toEqual({ kind: "register_code_taken", holderCode: held.code, holderSellerTaxCode: other.taxCode });
      expect(outcomes[1]?.kind).toBe("stored");
      return reply("206 two");
    });
    expect(await store.invoices.getInvoice(taken.code)).toBeNull();
    expect((await store.invoices.getInvoiceByRegisterCode(c2))?.code).toBe(fresh.code);

    // The same signed invoice again under a fresh code: a replay, and the fresh code is given back.
    const m3 = message(seller, { messageType: "206" });
    const replay = { ...fresh, code: newInvoice(seller, "2026-10-04", []).code, registerCode: c3, messageId: m3.messageId };
    await messages.recordMessage(m3, async (work) => {
      expect((await work.issueInvoices([replay]))[0]).toMatchObject({ kind: "replay", invoice: { code: fresh.code } });
      return reply("206 three");
    });
    expect(await store.invoices.getInvoiceByRegisterCode(c3)).toBeNull();
    const [row] = await store.db.query<{ n: bigint }>(sql`select count(*) as n from cash_register_codes where register_code = ${c3}`);
    expect(Number(row?.n)).toBe(0);
  });
});

describe("notice numbers", () => {
  it("never hands out a number twice, even to concurrent callers", async () => {
    const numbers = await Promise.all(Array.from({ length: 20 }, () => messages.nextNoticeNumber()));
    expect(new Set(numbers.map(String)).size).toBe(20);
    expect(numbers.every((n) => typeof n === "bigint" && n >= 1n)).toBe(true);
    const next = await messages.nextNoticeNumber();
    expect(numbers.every((n) => n < next)).toBe(true);
  });
});
