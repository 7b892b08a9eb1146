/**
 * The invoices aggregate: issuing (alone, in a batch, in a T-VAN package), replacing, adjusting
 * and cancelling, and the reads by code, key and cash-register code. Every write runs in a
 * writing transaction (transaction.ts); the functions that take `(tx, tail)` are the way other
 * aggregates write invoices inside their own transaction (a T-VAN message, messages.ts).
 */
import { countsInReports, LIFECYCLE, transition as lifecycleTransition, may, transitionOfRelation } from "../domain/lifecycle.js";
import type { InvoicesPort } from "../domain/ports.js";
import { type EntryType, encodeEntry } from "../tlog/entry.js";
import { type Db, jsonRows, sql, TextParts } from "./db.js";
import { BY_CODE, BY_KEY, INVOICE, INVOICE_I, type InvoiceRow, toInvoice } from "./invoice-rows.js";
import { type Contribution } from "./rollups.js";
import { first } from "./rows.js";
import type {
  Cancellation,
  CancelOutcome,
  InvoiceEvent,
  InvoiceEventKind,
  InvoiceSource,
  InvoiceStatus,
  InvoiceSummary,
  IssueOutcome,
  NaturalKey,
  NewInvoice,
  PackageOutcome,
  RelatedLink,
} from "./store.js";
import { keyOf, LEGACY_ALLOWANCES } from "./store.js";
import { Tail, writing } from "./transaction.js";

/**
 * Numbers one `reserveTransactionNumbers` call can get: the INCREMENT of invoice_txn_seq
 * (migrations/0001_init.sql). One nextval owns [n, n + TXN_BLOCK_SIZE).
 */
export const TXN_BLOCK_SIZE = 1024;

// numeric(38,6) holds 32 integer digits and 6 decimals. A longer value would be rounded or
// refused by the database; check here so that no amount is ever silently rounded.
const AMOUNT = /^-?[0-9]{1,32}(\.[0-9]{1,6})?$/;
const RATE = /^[0-9]{1,32}(\.[0-9]{1,18})?$/;

function decimal(value: string, field: string, pattern: RegExp = AMOUNT): string {
  if (!pattern.test(value)) throw new RangeError(`${field}: not a decimal the store keeps exactly: ${JSON.stringify(value)}`);
  return value;
}

const INVOICE_COLUMNS = sql`code, seller_tax_code, form, symbol, number, status, buyer_tax_code,
  issue_date, currency, exchange_rate, total_before_tax, total_tax, total_payable, digest, xml,
  certificate_fingerprint, submitted_by, issued_at, legacy, source, message_id, register_code`;
/** An invoice's row as json_to_recordset reads it: every column but the XML (xmlList). */
const INVOICE_RECORD = sql`(code char(34), seller_tax_code text, form text, symbol text, number integer, status text,
  buyer_tax_code text, issue_date date, currency text, exchange_rate numeric, total_before_tax numeric, total_tax numeric,
  total_payable numeric, digest text, certificate_fingerprint text, submitted_by uuid, issued_at timestamptz, legacy text[],
  source text, message_id text, register_code text)`;

/**
 * What separates the stamped XMLs of one statement: U+0001, a character XML 1.0 does not allow in
 * a document (the scanner refuses it, and nothing the stamp writes holds one).
 */
const XML_SEPARATOR = "\u0001";

/**
 * The statement's stamped XMLs as one text parameter, split by the server (string_to_array): the
 * XML is neither escaped into the rows' JSON nor parsed as JSON by the server, where it was ≈ 8.5 KB
 * of two-byte text an invoice to escape, and PostgreSQL's JSON lexer was a seventh of its CPU per
 * invoice (load-tests/RESULTS.md). One parameter, so the statement keeps one shape (and one plan)
 * whatever the group's size; in parts (TextParts), so that the XMLs are not joined into a copy.
 */
function xmlList(invs: readonly NewInvoice[]): TextParts {
  const parts: string[] = [];
  for (const inv of invs) {
    // Either would split into another number of parts than invoices, and pair XMLs with the wrong rows
    // (string_to_array makes no part of an empty text): neither comes from the stamp.
    if (inv.xml === "" || inv.xml.includes(XML_SEPARATOR)) throw new RangeError(`insertInvoices: the XML of ${inv.code} is empty or holds U+0001, which XML does not allow`);
    if (parts.length > 0) parts.push(XML_SEPARATOR);
    parts.push(inv.xml);
  }
  return new TextParts(parts);
}

const invoiceRecord = (inv: NewInvoice) => ({
  code: inv.code,
  seller_tax_code: inv.sellerTaxCode,
  form: inv.form,
  symbol: inv.symbol,
  number: inv.number,
  status: inv.status,
  buyer_tax_code: inv.buyerTaxCode,
  issue_date: inv.issueDate,
  currency: inv.currency,
  exchange_rate: inv.exchangeRate,
  total_before_tax: inv.totalBeforeTax,
  total_tax: inv.totalTax,
  total_payable: inv.totalPayable,
  digest: inv.digest,
  certificate_fingerprint: inv.certificateFingerprint,
  submitted_by: inv.submittedBy,
  issued_at: inv.issuedAt.toISOString(),
  legacy: LEGACY_ALLOWANCES.filter((a) => inv.legacy?.includes(a)),
  source: inv.source ?? "coded",
  message_id: inv.messageId ?? null,
  register_code: inv.registerCode ?? null,
});

/**
 * Inserts new invoices whose natural key is free: the key row first (ON CONFLICT on the natural
 * key decides, as a unique index of invoices did before partitioning), then the code's route
 * and the invoice itself, for the rows that won the key only. One statement; returns the
 * inserted invoices. A row whose key was taken writes nothing at all. Rows are inserted in the
 * order given (the caller's lock order). `carried`: the tail of these invoices, written by the
 * same statement if every one of them won its key, else not at all (PgInvoices.issueInvoices);
 * its CTEs read `won` to know, so they run after every key is decided.
 */
const insertInvoices = (invs: NewInvoice[], carried?: Tail) => sql`
  with r as (select * from rows from (json_to_recordset(${jsonRows(invs.map(invoiceRecord))}::text::json) as ${INVOICE_RECORD}) with ordinality as r),
  v as (select r.*, x.xml from r join unnest(string_to_array(${xmlList(invs)}::text, ${XML_SEPARATOR}::text)) with ordinality as x (xml, ordinality) using (ordinality)),
  won as (
    insert into invoice_keys (seller_tax_code, form, symbol, number, code, issue_date)
    select seller_tax_code, form, symbol, number, code, issue_date from v order by ordinality
    on conflict (seller_tax_code, form, symbol, number) do nothing
    returning code),
  routed as (
    insert into invoice_codes (code, seller_tax_code, issue_date)
    select v.code, v.seller_tax_code, v.issue_date from v join won on won.code = v.code)${carried ? sql`,
  ${carried.ctes(sql`(select count(*) from won) = ${invs.length}`)}` : sql``}
  insert into invoices (${INVOICE_COLUMNS})
  select ${INVOICE_COLUMNS} from v join won using (code) order by v.ordinality
  returning ${INVOICE}`;

/** What an invoice adds to the rollups while it counts. */
const contribution = (inv: NewInvoice): Contribution => ({
  source: inv.source ?? "coded",
  sellerTaxCode: inv.sellerTaxCode,
  issueDate: inv.issueDate,
  totalBeforeTax: inv.totalBeforeTax,
  totalTax: inv.totalTax,
  taxRates: inv.taxRates,
});

/** What a status change's log entry says of the invoice, returned by the update that changes it. */
interface LoggedFacts {
  form: string;
  symbol: string;
  number: number;
  total_payable: string;
  digest: string;
  register_code: string | null;
}
const LOGGED_FACTS = sql`form, symbol, number, trim_scale(total_payable) as total_payable, digest, register_code`;
const LOGGED_FACTS_U = sql`u.form, u.symbol, u.number, u.total_payable, u.digest, u.register_code`;

/** The entry type of an invoice's first leaf, by its source. */
const ISSUE_ENTRY: Record<InvoiceSource, EntryType> = { coded: LIFECYCLE.initial.event, uncoded: "uncoded", cashRegister: "cashRegister" };

/** The code a leaf names: the authority's code, a cash-register invoice's own, or an uncoded invoice's record id. */
const loggedCode = (inv: { code: string; registerCode?: string | null }): string => inv.registerCode ?? inv.code;
/** The events logged for the invoice that changes: each transition's own event (its cause event is not). */
const LOGGED_EVENTS: Partial<Record<InvoiceEventKind, EntryType>> = Object.fromEntries(Object.values(LIFECYCLE.transitions).map((t) => [t.event, t.event]));

/** The log entries of a status change: one per event of the invoice itself (replaced, adjusted, cancelled). */
function logTransition(tail: Tail, inv: Located, facts: LoggedFacts, events: { code: string; event: InvoiceEventKind; relatedCode: string | null }[], at: Date): void {
  for (const e of events) {
    const type = LOGGED_EVENTS[e.event];
    if (!type || e.code !== inv.code) continue;
    tail.leaves.push(
      encodeEntry({
        type,
        code: loggedCode({ code: inv.code, registerCode: facts.register_code }),
        sellerTaxCode: inv.sellerTaxCode,
        form: facts.form,
        symbol: facts.symbol,
        number: facts.number,
        issueDate: inv.issueDate,
        totalPayable: facts.total_payable,
        digest: facts.digest,
        at,
        relatedCode: e.relatedCode,
      }),
    );
  }
}

/** The stored identity of an invoice: where its row lives (partition key) and its status. */
interface Located {
  code: string;
  sellerTaxCode: string;
  issueDate: string;
  status: InvoiceStatus;
}

/** Refuses, before anything is written, an amount the store could not keep exactly, or a legacy mark it does not know. */
function checkAmounts(inv: NewInvoice): void {
  decimal(inv.totalBeforeTax, "totalBeforeTax");
  decimal(inv.totalTax, "totalTax");
  decimal(inv.totalPayable, "totalPayable");
  decimal(inv.exchangeRate, "exchangeRate", RATE);
  for (const r of inv.taxRates) {
    decimal(r.amountBeforeTax, `taxRates[${r.taxRate}].amountBeforeTax`);
    decimal(r.tax, `taxRates[${r.taxRate}].tax`);
  }
  for (const a of inv.legacy ?? []) if (!LEGACY_ALLOWANCES.includes(a)) throw new RangeError(`legacy: not an allowance the store knows: ${JSON.stringify(a)}`);
}

const rowKeyString = (r: InvoiceRow): string => keyOf({ sellerTaxCode: r.seller_tax_code, form: r.form, symbol: r.symbol, number: r.number });
function compareKeys(a: NaturalKey, b: NaturalKey): number {
  const ka = [a.sellerTaxCode, a.form, a.symbol];
  const kb = [b.sellerTaxCode, b.form, b.symbol];
  for (let i = 0; i < 3; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
  return a.number - b.number;
}

/** Invoices per insert statement (json_to_recordset's rows): the group commit's largest group. */
const INSERT_CHUNK = 500;

function chunks<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** A new invoice that lost its natural key to `winner`: the same signed data is a replay, other data a conflict. */
function replayOrConflict(inv: NewInvoice, winner: InvoiceRow | undefined): IssueOutcome {
  if (!winner) throw new Error("issueInvoices: natural key conflict but no invoice found");
  return winner.digest === inv.digest ? { kind: "replay", invoice: toInvoice(winner) } : { kind: "conflict", existingCode: winner.code };
}

export class PgInvoices implements InvoicesPort {
  constructor(private readonly db: Db) {}

  async reserveTransactionNumbers(size: number): Promise<bigint> {
    if (!Number.isInteger(size) || size < 1 || size > TXN_BLOCK_SIZE) {
      throw new RangeError(`reserveTransactionNumbers: size must be an integer in 1..${TXN_BLOCK_SIZE}, got ${size}`);
    }
    const [row] = await this.db.query<{ first: bigint }>(sql`select nextval('invoice_txn_seq') as first`);
    if (!row) throw new Error("nextval returned no row");
    return row.first;
  }

  async findInvoiceByKey(key: NaturalKey): Promise<InvoiceSummary | null> {
    const row = first(
      await this.db.query<InvoiceRow>(sql`
        select ${INVOICE_I} from ${BY_KEY}
        where k.seller_tax_code = ${key.sellerTaxCode} and k.form = ${key.form}
          and k.symbol = ${key.symbol} and k.number = ${key.number}`),
    );
    return row && toInvoice(row);
  }

  async findInvoicesByKeys(keys: NaturalKey[]): Promise<InvoiceSummary[]> {
    return (await keysIn(this.db, keys)).map(toInvoice);
  }

  async issueInvoice(inv: NewInvoice): Promise<IssueOutcome> {
    const [outcome] = await this.issueInvoices([inv]);
    if (!outcome) throw new Error("issueInvoices returned no outcome");
    return outcome;
  }

  async issueInvoices(invs: NewInvoice[]): Promise<IssueOutcome[]> {
    for (const inv of invs) checkAmounts(inv);
    if (invs.length === 0) return [];
    if (invs.length > INSERT_CHUNK || invs.some((inv) => inv.related)) return writing(this.db, (tx, tail) => issueIn(tx, tail, invs));
    return writing(this.db, (tx, tail) => issuePlain(tx, tail, invs));
  }

  async cancelInvoice(c: Cancellation): Promise<CancelOutcome> {
    return writing(this.db, (tx, tail) => cancelIn(tx, tail, c));
  }

  async getInvoice(code: string): Promise<InvoiceSummary | null> {
    return invoiceIn(this.db, code);
  }

  async getInvoiceByRegisterCode(registerCode: string): Promise<InvoiceSummary | null> {
    const row = first(
      await this.db.query<InvoiceRow>(sql`
        select ${INVOICE_I} from cash_register_codes k
          join invoices i on i.seller_tax_code = k.seller_tax_code and i.issue_date = k.issue_date and i.code = k.code
         where k.register_code = ${registerCode}`),
    );
    return row && toInvoice(row);
  }

  async getInvoiceXml(code: string): Promise<string | null> {
    const row = first(await this.db.query<{ xml: string }>(sql`select i.xml from ${BY_CODE} where k.code = ${code}`));
    return row?.xml ?? null;
  }

  async getInvoiceHistory(code: string): Promise<InvoiceEvent[]> {
    const rows = await this.db.query<{
      event: InvoiceEventKind;
      at: Date;
      by_principal: string;
      reason: string | null;
      related_code: string | null;
    }>(sql`
      select event, at, by_principal, reason, related_code from invoice_events
      where invoice_code = ${code} order by at, id`);
    return rows.map((r) => ({ event: r.event, at: r.at, by: r.by_principal, reason: r.reason, relatedCode: r.related_code }));
  }
}

// Inside a writing transaction ---------------------------------------------------------------

export async function issueIn(tx: Db, tail: Tail, invs: NewInvoice[]): Promise<IssueOutcome[]> {
  {
    const outcomes: IssueOutcome[] = new Array(invs.length);
    const items = invs.map((inv, index) => ({ inv, index }));
    // Ordinary invoices: one multi-row insert. ON CONFLICT on the natural key: under a
    // concurrent insert of the same key this waits for the other transaction and then does
    // nothing (it committed) or inserts (it rolled back). No read-then-write race, and a losing
    // row writes nothing at all. Rows go in natural-key order, so that two batches inserting
    // overlapping keys take their locks in the same order and cannot deadlock.
    const plain = items.filter((x) => !x.inv.related).sort((a, b) => compareKeys(a.inv, b.inv));
    const inserted = new Map<string, InvoiceRow>();
    for (const part of chunks(plain, INSERT_CHUNK)) {
      const rows = await tx.query<InvoiceRow>(insertInvoices(part.map((x) => x.inv)));
      for (const r of rows) inserted.set(r.code, r);
    }
    const { issued } = await answerInsert(tx, plain, inserted, outcomes);
    writeIssued(tail, issued);
    // Replacing and adjusting invoices, one at a time in input order (a later one may relate
    // to an earlier one of the same call).
    for (const x of items) if (x.inv.related) outcomes[x.index] = await issueRelated(tx, tail, x.inv, x.inv.related);
    return outcomes;
  }
}

/**
 * New invoices none of which replaces or adjusts another, at most INSERT_CHUNK (a group of the
 * group commit, a batch): one statement writes them and their rates, events, leaves and rollups,
 * then the commit. That statement writes the rollups only once every key is won, so its row locks
 * are taken, in key order, after any wait for a concurrent insert of the same key, as when the
 * tail was a statement of its own; and no other statement of the transaction writes rollups,
 * so two transactions still take them in one order. If a key was taken (a replay, a duplicate,
 * a concurrent insert), the statement wrote the winners only, and their tail is written apart,
 * as issueIn does.
 */
async function issuePlain(tx: Db, tail: Tail, invs: NewInvoice[]): Promise<IssueOutcome[]> {
  const sorted = invs.map((inv, index) => ({ inv, index })).sort((a, b) => compareKeys(a.inv, b.inv));
  const carried = new Tail();
  writeIssued(
    carried,
    sorted.map((x) => x.inv),
  );
  const inserted = new Map((await tx.query<InvoiceRow>(insertInvoices(sorted.map((x) => x.inv), carried))).map((r) => [r.code, r]));
  const outcomes: IssueOutcome[] = new Array(invs.length);
  const { issued, lost } = await answerInsert(tx, sorted, inserted, outcomes);
  if (lost > 0) writeIssued(tail, issued);
  return outcomes;
}

/**
 * The outcome of each of `items` after their insert: stored where `inserted` holds its row;
 * otherwise its key was taken, and the committed winner (read committed lets the statement after
 * ON CONFLICT see it) makes it a replay or a conflict. Returns the stored invoices and how many lost.
 */
async function answerInsert(
  tx: Db,
  items: { inv: NewInvoice; index: number }[],
  inserted: Map<string, InvoiceRow>,
  outcomes: IssueOutcome[],
): Promise<{ issued: NewInvoice[]; lost: number }> {
  const issued: NewInvoice[] = [];
  const lost: { inv: NewInvoice; index: number }[] = [];
  for (const x of items) {
    const row = inserted.get(x.inv.code);
    if (row) {
      outcomes[x.index] = { kind: "stored", invoice: toInvoice(row) };
      issued.push(x.inv);
    } else lost.push(x);
  }
  if (lost.length > 0) {
    const winners = new Map((await keysIn(tx, lost.map((x) => x.inv))).map((w) => [rowKeyString(w), w]));
    for (const x of lost) outcomes[x.index] = replayOrConflict(x.inv, winners.get(keyOf(x.inv)));
  }
  return { issued, lost: lost.length };
}

/**
 * A T-VAN package's invoices, in the transaction that records its answer. A cash-register code
 * is claimed first (cash_register_codes, unique across sellers); an invoice whose code another
 * invoice holds is not written, and a claim whose invoice then loses its natural key (a replay
 * or a conflict) is given back, so nothing of a refused invoice remains.
 */
export async function issuePackage(tx: Db, tail: Tail, invs: NewInvoice[]): Promise<PackageOutcome[]> {
  for (const inv of invs) checkAmounts(inv);
  const outcomes: PackageOutcome[] = new Array(invs.length);
  const coded = invs.filter((i) => i.registerCode);
  const claimed = new Set<string>();
  if (coded.length) {
    const rows = await tx.query<{ register_code: string }>(sql`
      insert into cash_register_codes (register_code, seller_tax_code, code, issue_date)
      select register_code, seller_tax_code, code, issue_date
        from json_to_recordset(${jsonRows(coded.map((i) => ({ register_code: i.registerCode, seller_tax_code: i.sellerTaxCode, code: i.code, issue_date: i.issueDate })))}::text::json)
          as r (register_code text, seller_tax_code text, code char(34), issue_date date)
      order by register_code
      on conflict (register_code) do nothing
      returning register_code`);
    for (const r of rows) claimed.add(r.register_code);
  }
  const lostCodes = coded.filter((i) => !claimed.has(i.registerCode!));
  const holders = new Map<string, { seller_tax_code: string; code: string }>();
  if (lostCodes.length) {
    const rows = await tx.query<{ register_code: string; seller_tax_code: string; code: string }>(sql`
      select register_code, seller_tax_code, code from cash_register_codes where register_code in (select json_array_elements_text(${JSON.stringify(lostCodes.map((i) => i.registerCode!))}::text::json))`);
    for (const r of rows) holders.set(r.register_code, r);
  }
  const writable: { inv: NewInvoice; index: number }[] = [];
  invs.forEach((inv, index) => {
    const holder = inv.registerCode && !claimed.has(inv.registerCode) ? holders.get(inv.registerCode) : undefined;
    if (inv.registerCode && !claimed.has(inv.registerCode)) {
      if (!holder) throw new Error("issuePackage: a cash-register code neither claimed nor held");
      outcomes[index] = { kind: "register_code_taken", holderCode: holder.code, holderSellerTaxCode: holder.seller_tax_code };
    } else writable.push({ inv, index });
  });
  const written = await issueIn(tx, tail, writable.map((w) => w.inv));
  const giveBack: string[] = [];
  writable.forEach((w, k) => {
    const o = written[k]!;
    outcomes[w.index] = o;
    if (o.kind !== "stored" && w.inv.registerCode) giveBack.push(w.inv.registerCode);
  });
  if (giveBack.length) await tx.query(sql`delete from cash_register_codes where register_code in (select json_array_elements_text(${JSON.stringify(giveBack)}::text::json))`);
  return outcomes;
}

/**
 * The rates and the first events (LIFECYCLE.initial) of freshly inserted invoices, and their contribution to
 * the rollups: the hook of every issue (written by the transaction's tail).
 */
function writeIssued(tail: Tail, invs: NewInvoice[]): void {
  for (const inv of invs) {
    for (const r of inv.taxRates) tail.rates.push({ seller_tax_code: inv.sellerTaxCode, invoice_code: inv.code, tax_rate: r.taxRate, amount_before_tax: r.amountBeforeTax, tax: r.tax });
    tail.event(inv.sellerTaxCode, inv.code, LIFECYCLE.initial.event, inv.issuedAt, inv.submittedBy, null, null);
    if (countsInReports(inv.status)) tail.rollups.add(contribution(inv), 1);
    // One leaf per invoice received, whatever its source (issue 17): an uncoded one under its
    // record id, a cash-register one under its own code.
    tail.leaves.push(encodeEntry({ ...inv, type: ISSUE_ENTRY[inv.source ?? "coded"], code: loggedCode(inv), at: inv.issuedAt, relatedCode: null }));
  }
}

async function keysIn(tx: Db, keys: NaturalKey[]): Promise<InvoiceRow[]> {
  const unique = [...new Map(keys.map((k) => [keyOf(k), k])).values()];
  if (unique.length === 0) return [];
  const wanted = unique.map((k) => ({ seller_tax_code: k.sellerTaxCode, form: k.form, symbol: k.symbol, number: k.number }));
  // Unprepared: a plan cached by a connection while the tables were small (a hash join over
  // a sequential scan of invoice_keys) stays cached until the next ANALYZE, and every lookup
  // then reads the whole table: with autovacuum off, the duplicates lookup of the group commit
  // grew from 0.1 to 3 ms of PostgreSQL CPU per invoice over 170,000 invoices. Planned at each
  // execution, it sees the tables' current size and looks each key up in the index.
  const q = sql`
    select ${INVOICE_I}
      from json_to_recordset(${jsonRows(wanted)}::text::json) as q (seller_tax_code text, form text, symbol text, number integer)
      join ${BY_KEY} on k.seller_tax_code = q.seller_tax_code and k.form = q.form and k.symbol = q.symbol and k.number = q.number`;
  return tx.query<InvoiceRow>({ text: q.text, values: q.values, unprepared: true });
}

/**
 * One replacing or adjusting invoice. The original's row is locked first, so two
 * replacements of one original queue here and the second finds it replaced. A replay of the
 * new invoice is answered as a replay even though its original has changed state since (by
 * this very invoice).
 */
async function issueRelated(tx: Db, tail: Tail, inv: NewInvoice, link: RelatedLink): Promise<IssueOutcome> {
  const original = first(
    await tx.query<{ code: string; status: InvoiceStatus; issue_date: string }>(sql`
      select i.code, i.status, i.issue_date from ${BY_KEY}
      where k.seller_tax_code = ${link.key.sellerTaxCode} and k.form = ${link.key.form}
        and k.symbol = ${link.key.symbol} and k.number = ${link.key.number}
      for update of i`),
  );
  const [existing] = await keysIn(tx, [inv]);
  if (existing) return replayOrConflict(inv, existing);
  if (!original || original.issue_date !== link.issueDate) return { kind: "related_not_found" };
  const change = lifecycleTransition(transitionOfRelation(link.kind));
  if (!may(transitionOfRelation(link.kind), original.status)) return { kind: "related_state", relatedCode: original.code, status: original.status };

  const row = first(await tx.query<InvoiceRow>(insertInvoices([inv])));
  if (!row) return replayOrConflict(inv, (await keysIn(tx, [inv]))[0]);
  writeIssued(tail, [inv]);
  await transition(tx, tail, {
    invoice: { code: original.code, sellerTaxCode: link.key.sellerTaxCode, issueDate: original.issue_date, status: original.status },
    status: change.to,
    events: [
      { code: inv.code, event: link.kind, relatedCode: original.code },
      { code: original.code, event: change.event, relatedCode: inv.code },
    ],
    at: inv.issuedAt,
    by: inv.submittedBy,
    reason: link.reason,
  });
  return { kind: "stored", invoice: toInvoice(row) };
}

/**
 * Every change of an invoice's status goes through here, inside the transaction of its cause
 * (a replacing or adjusting invoice's insert, a cancellation), with the invoice's row locked:
 * the status, the events that explain it and the change to the rollups are written together.
 * An invoice that stops counting (replaced, cancelled) takes its own contribution out of the
 * rollups; issued → adjusted changes nothing there (the adjusting invoice adds its own).
 */
async function transition(
  tx: Db,
  tail: Tail,
  t: { invoice: Located; status: InvoiceStatus; events: { code: string; event: InvoiceEventKind; relatedCode: string | null }[]; at: Date; by: string; reason: string | null },
): Promise<void> {
  const inv = t.invoice;
  // One statement: the status, and the amounts the rollups need; the events go to the tail.
  const rows = await tx.query<{ source: InvoiceSource; total_before_tax: string; total_tax: string; tax_rate: string | null; amount_before_tax: string | null; tax: string | null } & LoggedFacts>(sql`
    with updated as (
      update invoices set status = ${t.status}
      where seller_tax_code = ${inv.sellerTaxCode} and issue_date = ${inv.issueDate} and code = ${inv.code}
      returning seller_tax_code, code, source, trim_scale(total_before_tax) as total_before_tax, trim_scale(total_tax) as total_tax, ${LOGGED_FACTS})
    select u.source, u.total_before_tax, u.total_tax, r.tax_rate, trim_scale(r.amount_before_tax) as amount_before_tax, trim_scale(r.tax) as tax, ${LOGGED_FACTS_U}
      from updated u left join invoice_tax_rates r on r.seller_tax_code = u.seller_tax_code and r.invoice_code = u.code`);
  const head = rows[0];
  if (!head) throw new Error(`transition: invoice ${inv.code} not found where it was locked`);
  for (const e of t.events) tail.event(inv.sellerTaxCode, e.code, e.event, t.at, t.by, t.reason, e.relatedCode);
  logTransition(tail, inv, head, t.events, t.at);
  if (countsInReports(inv.status) !== countsInReports(t.status)) {
    const c: Contribution = {
      source: head.source,
      sellerTaxCode: inv.sellerTaxCode,
      issueDate: inv.issueDate,
      totalBeforeTax: head.total_before_tax,
      totalTax: head.total_tax,
      // Its rates are stored, or still in this transaction's tail (an earlier item of the same batch).
      taxRates: [
        ...rows.filter((r) => r.tax_rate !== null).map((r) => ({ taxRate: r.tax_rate!, amountBeforeTax: r.amount_before_tax!, tax: r.tax! })),
        ...tail.rates.filter((r) => r.invoice_code === inv.code).map((r) => ({ taxRate: r.tax_rate, amountBeforeTax: r.amount_before_tax, tax: r.tax })),
      ],
    };
    tail.rollups.add(c, countsInReports(t.status) ? 1 : -1);
  }
}

export async function cancelIn(tx: Db, tail: Tail, c: Cancellation): Promise<CancelOutcome> {
  const row = first(await tx.query<InvoiceRow>(sql`select ${INVOICE_I} from ${BY_CODE} where k.code = ${c.code} for update of i`));
  if (!row) return { kind: "not_found" };
  if (!may("cancel", row.status)) return { kind: "state", invoice: toInvoice(row) };
  const cancel = lifecycleTransition("cancel");
  await transition(tx, tail, {
    invoice: { code: row.code, sellerTaxCode: row.seller_tax_code, issueDate: row.issue_date, status: row.status },
    status: cancel.to,
    events: [{ code: c.code, event: cancel.event, relatedCode: null }],
    at: c.at,
    by: c.by,
    reason: c.reason,
  });
  return { kind: "done", invoice: { ...toInvoice(row), status: cancel.to } };
}

/** An invoice by its code, read in the transaction `tx`. */
export async function invoiceIn(tx: Db, code: string): Promise<InvoiceSummary | null> {
  const row = first(await tx.query<InvoiceRow>(sql`select ${INVOICE_I} from ${BY_CODE} where k.code = ${code}`));
  return row && toInvoice(row);
}
