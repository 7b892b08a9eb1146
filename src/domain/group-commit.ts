/**
 * Group commit for single submissions: verified invoices of concurrent requests share one store
 * transaction, and each request is answered only after the transaction that holds its invoice
 * has committed.
 *
 * Natural batching: when nothing is being committed, an invoice is committed at once (alone, so
 * an idle service answers as fast as before); while a transaction is in flight, the invoices that
 * arrive wait for it and then go together in the next one. Under load a transaction carries as
 * many invoices as arrived during the previous one, so the per-transaction costs (the duplicate
 * lookup, BEGIN, the statements, COMMIT and its WAL flush: ≈ 1.25 ms of PostgreSQL's CPU and a
 * share of the service's) are paid once per group instead of once per invoice, and the rollup
 * rows once per group and key.
 *
 * The linger (`lingerMs`, HOADON_COMMIT_LINGER_MS): under sustained traffic — a group committed
 * a moment ago — a group of fewer than `LINGER_FILL` invoices waits that long for company before
 * its transaction starts. At a moderate rate the groups were two or three invoices, each paying a
 * transaction; 2 ms doubled them (load-tests/RESULTS.md). A first invoice after a quiet spell
 * never waits.
 *
 * Semantics are those of `commitInvoices` (a batch): each invoice is judged on its own, items
 * under one natural key resolve as if sent one after the other (the first is issued, an
 * identical later one is a replay with the same answer, a different one DUPLICATE_INVOICE). If
 * the group's transaction throws (not a judgement: a bug or a value the store refuses), nothing
 * of it was written, and each of its invoices is committed again alone, so that one bad
 * invoice fails only its own request. A database that is unavailable fails the whole group.
 */
import { StoreUnavailableError } from "./ports.js";

/** A group this large starts at once: the linger is for small groups only. */
export const LINGER_FILL = 16;
/** Traffic is sustained when the last group committed less than this long ago. */
const SUSTAINED_MS = 25;

interface Waiting<I, J> {
  item: I;
  resolve: (j: J) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit<I, J> {
  private queue: Waiting<I, J>[] = [];
  private running = false;
  /** Transactions run and invoices they carried, for /metrics and the benchmark. */
  readonly stats = { groups: 0, items: 0, retriedAlone: 0 };

  /** When the last group's transaction ended (performance.now()); -Infinity: none yet. */
  private lastEnd = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly commit: (items: I[]) => Promise<J[]>,
    private readonly maxGroup = 500,
    /** How long a small group waits for company under sustained traffic (0: never). */
    private readonly lingerMs = 0,
  ) {}

  /** Resolves with the item's judgement once its transaction has committed (or rejects). */
  submit(item: I): Promise<J> {
    return new Promise<J>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        if (this.lingerMs > 0 && this.queue.length < LINGER_FILL && performance.now() - this.lastEnd < SUSTAINED_MS) {
          await new Promise((resolve) => setTimeout(resolve, this.lingerMs));
        }
        const group = this.queue.splice(0, this.maxGroup);
        await this.run(group);
        this.lastEnd = performance.now();
      }
    } finally {
      this.running = false;
    }
  }

  private async run(group: Waiting<I, J>[]): Promise<void> {
    this.stats.groups++;
    this.stats.items += group.length;
    let judged: J[];
    try {
      judged = await this.commit(group.map((w) => w.item));
    } catch (error) {
      if (group.length === 1 || error instanceof StoreUnavailableError) {
        for (const w of group) w.reject(error);
        return;
      }
      // Nothing of the group was written: each alone, so the error stays with its own invoice.
      this.stats.retriedAlone += group.length;
      for (const w of group) {
        try {
          const [j] = await this.commit([w.item]);
          if (j === undefined) throw new Error("group commit: no judgement for an item");
          w.resolve(j);
        } catch (e) {
          w.reject(e);
        }
      }
      return;
    }
    if (judged.length !== group.length) {
      const e = new Error(`group commit: ${judged.length} judgements for ${group.length} items`);
      for (const w of group) w.reject(e);
      return;
    }
    group.forEach((w, i) => w.resolve(judged[i]!));
  }
}
