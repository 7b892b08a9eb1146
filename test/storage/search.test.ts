/**
 * The officers' invoice search (storage/search.ts): every filter, and keyset pages that neither
 * repeat nor skip an invoice; on whichever backend test/helpers/db.ts gives (PGlite, or
 * PostgreSQL with DATABASE_URL). Each test searches its own sellers or its own dates.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PgStore } from "../../src/storage/pg-store.js";
import type { InvoiceSearch, NewInvoice } from "../../src/storage/store.js";
import { testStore } from "../helpers/db.js";
import { newInvoice, newTaxCode, type ReadySeller, rate, readySeller } from "../helpers/ledger.js";

let store: PgStore;
let search: PgStore["reports"];
beforeAll(async () => {
  store = await testStore();
  search = store.reports;
});
afterAll(async () => {
  await store?.close();
});

async function issued(...invs: NewInvoice[]): Promise<NewInvoice[]> {
  for (const o of await store.invoices.issueInvoices(invs)) expect(o.kind).toBe("stored");
  return invs;
}

/** Every page of a search, in order, and how many pages it took. */
async function allPages(q: Omit<InvoiceSearch, "after">): Promise<{ codes: string[]; pages: number }> {
  const codes: string[] = [];
  let after: InvoiceSearch["after"];
  let pages = 0;
  do {
    const page = await search.searchInvoices({ ...q, ...(after ? { after } : {}) });
    pages++;
    expect(page.items.length).toBeLessThanOrEqual(q.limit);
    codes.push(...page.items.map((i) => i.code));
    after = page.next ?? undefined;
  } while (after && pages < 100);
  return { codes, pages };
}

/** Newest issue date first, then code descending: the order a search promises. */
const ordered = (invs: NewInvoice[]): string[] =>
  [...invs].sort((a, b) => (a.issueDate !== b.issueDate ? (a.issueDate < b.issueDate ? 1 : -1) : a.code < b.code ? 1 : -1)).map((i) => i.code);

describe("filters", () => {
  let s: ReadySeller;
  let invs: Record<"plain" | "otherBuyer" | "otherForm" | "otherSymbol" | "early" | "late" | "cancelled" | "uncoded", NewInvoice>;
  beforeAll(async () => {
    s = await readySeller(store.registry);
    const r = [rate("8%", "100", "8")];
    invs = {
      plain: newInvoice(s, "2025-03-10", r),
      otherBuyer: newInvoice(s, "2025-03-10", r, { buyerTaxCode: "0100000027" }),
      otherForm: newInvoice(s, "2025-03-11", r, { form: "2" }),
      otherSymbol: newInvoice(s, "2025-03-11", r, { symbol: "C25TZZ" }),
      early: newInvoice(s, "2025-03-01", r),
      late: newInvoice(s, "2025-03-31", r),
      cancelled: newInvoice(s, "2025-03-15", r),
      uncoded: newInvoice(s, "2025-03-15", r, { source: "uncoded", messageId: "V-SEARCH-203" }),
    };
    const { uncoded, ...coded } = invs;
    await issued(...Object.values(coded));
    // An uncoded invoice comes with the T-VAN message (203) that carried it.
    await store.messages.recordMessage({ sellerTaxCode: s.taxCode, messageId: "V-SEARCH-203", messageType: "203", receivedAt: new Date() }, async (work) => {
      expect((await work.issueInvoices([uncoded]))[0]?.kind).toBe("stored");
      return { replyType: "204", reply: "<TDiep/>" };
    });
    expect((await store.invoices.cancelInvoice({ code: invs.cancelled.code, at: new Date(), by: "officer", reason: "Hủy" })).kind).toBe("done");
  });
  const found = async (q: Omit<InvoiceSearch, "limit" | "seller">) => (await search.searchInvoices({ seller: s.taxCode, limit: 100, ...q })).items.map((i) => i.code).sort();
  const codes = (...names: (keyof typeof invs)[]) => names.map((n) => invs[n].code).sort();

  it("by seller alone: every invoice of the seller, newest first, and none of another seller", async () => {
    const page = await search.searchInvoices({ seller: s.taxCode, limit: 100 });
    expect(page.items.map((i) => i.code)).toEqual(ordered(Object.values(invs)));
    expect(page.next).toBeNull();
    expect((await search.searchInvoices({ seller: newTaxCode(), limit: 10 })).items).toEqual([]);
  });

  it("by buyer, form, symbol, status and source", async () => {
    expect(await found({ buyer: "0100000027" })).toEqual(codes("otherBuyer"));
    expect(await found({ form: "2" })).toEqual(codes("otherForm"));
    expect(await found({ symbol: "C25TZZ" })).toEqual(codes("otherSymbol"));
    expect(await found({ status: "cancelled" })).toEqual(codes("cancelled"));
    expect(await found({ status: "replaced" })).toEqual([]);
    expect(await found({ source: "uncoded" })).toEqual(codes("uncoded"));
    expect(await found({ source: "cashRegister" })).toEqual([]);
    expect(await found({ source: "coded" })).toEqual(codes("plain", "otherBuyer", "otherForm", "otherSymbol", "early", "late", "cancelled"));
  });

  it("by issue dates, both ends inclusive", async () => {
    expect(await found({ from: "2025-03-11", to: "2025-03-15" })).toEqual(codes("otherForm", "otherSymbol", "cancelled", "uncoded"));
    expect(await found({ from: "2025-03-31" })).toEqual(codes("late"));
    expect(await found({ to: "2025-03-01" })).toEqual(codes("early"));
    expect(await found({ from: "2025-04-01" })).toEqual([]);
  });

  it("answers with the invoice's summary as stored (status after a change)", async () => {
    const [item] = (await search.searchInvoices({ seller: s.taxCode, status: "cancelled", limit: 1 })).items;
    expect(item).toEqual(await store.invoices.getInvoice(invs.cancelled.code));
    expect(item?.status).toBe("cancelled");
  });
});

describe("pages", () => {
  it("walks every invoice once, in order, across pages whose ends fall inside a day", async () => {
    const s = await readySeller(store.registry);
    // 23 invoices over 4 days: pages of 5 end in the middle of a day's run of codes.
    const invs = await issued(...Array.from({ length: 23 }, (_, i) => newInvoice(s, `2025-05-0${1 + (i % 4)}`, [rate("8%", "1", "0.08")])));
    const { codes, pages } = await allPages({ seller: s.taxCode, limit: 5 });
    expect(codes).toEqual(ordered(invs));
    expect(pages).toBe(5);
    // A page exactly full at the end says there may be more, and the next one is empty.
    const exact = await allPages({ seller: s.taxCode, limit: 23 });
    expect(exact.codes).toEqual(ordered(invs));
  });

  it("is not shifted by an invoice issued meanwhile: one into a later date does not show, one into an earlier date does, nothing repeats", async () => {
    const s = await readySeller(store.registry);
    const invs = await issued(...Array.from({ length: 10 }, (_, i) => newInvoice(s, `2025-06-${String(10 + i).padStart(2, "0")}`, [])));
    const first = await search.searchInvoices({ seller: s.taxCode, limit: 4 });
    expect(first.items.map((i) => i.code)).toEqual(ordered(invs).slice(0, 4));
    const [newer, older] = await issued(newInvoice(s, "2025-06-30", []), newInvoice(s, "2025-06-01", []));
    const rest: string[] = [];
    let after = first.next;
    while (after) {
      const page = await search.searchInvoices({ seller: s.taxCode, limit: 4, after });
      rest.push(...page.items.map((i) => i.code));
      after = page.next;
    }
    expect(rest).toEqual([...ordered(invs).slice(4), older!.code]);
    expect(rest).not.toContain(newer!.code);
  });
});
