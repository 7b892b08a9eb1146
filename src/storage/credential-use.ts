/**
 * The last use of API keys and officer tokens, kept without a write on the request path.
 *
 * An authenticated request only notes its credential in memory (`note`, a map lookup). A use
 * less than `windowMs` (a minute) after the last one this instance noted for the same
 * credential is not noted again, so a busy key costs one write a minute per instance, not one
 * per request. What is noted is written by `flush`, in one statement for all credentials, off
 * the request path: every `intervalMs` (30 s) on Node, at the end of a request once that much
 * has passed on Workers, and once more at a clean shutdown. A flush that fails keeps its uses
 * for the next one.
 *
 * Hence the precision (docs/integration.md, "Listing and revoking API keys and officer tokens"):
 * once 30 s have passed since a credential's real last use, `lastUsedAt` is at most a minute
 * earlier than it; a credential used in the last 30 s may still show an older time (or none); a
 * crash loses at most the uses noted since the last flush.
 */
import type { CredentialUse } from "./store.js";

export interface CredentialUseSink {
  recordCredentialUses(uses: readonly CredentialUse[]): Promise<void>;
}

export const CREDENTIAL_USE_WINDOW_MS = 60_000;
export const CREDENTIAL_USE_FLUSH_MS = 30_000;

export class CredentialUseRecorder {
  /** Credential id → the time (ms) of the use last noted by this instance, within the window. */
  private readonly noted = new Map<string, number>();
  /** Uses noted and not written yet: the latest per credential. */
  private pending = new Map<string, Date>();
  /** The latest use noted: what "within the window" is measured against when pruning `noted`. */
  private latest = Number.NEGATIVE_INFINITY;
  private lastFlush: number;
  private running: Promise<void> = Promise.resolve();
  readonly stats = { noted: 0, coalesced: 0, written: 0, failures: 0 };

  constructor(
    readonly windowMs = CREDENTIAL_USE_WINDOW_MS,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.lastFlush = now();
  }

  /** A request authenticated with this credential at `at`. Never waits, never throws. */
  note(id: string, at: Date): void {
    const t = at.getTime();
    const last = this.noted.get(id);
    // Also a clock that went back: the later use is noted already.
    if (last !== undefined && t - last < this.windowMs) {
      this.stats.coalesced++;
      return;
    }
    this.noted.set(id, t);
    this.pending.set(id, at);
    if (t > this.latest) this.latest = t;
    this.stats.noted++;
  }

  /** Credentials remembered for coalescing (those noted within the last window, until the next flush prunes them). */
  get trackedCount(): number {
    return this.noted.size;
  }

  /** Uses noted and not yet written. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Writes what was noted (one statement); on failure the uses wait for the next flush. One flush at a time. */
  flush(sink: CredentialUseSink): Promise<void> {
    const run = this.running.then(() => this.flushNow(sink));
    this.running = run.catch(() => {});
    return run;
  }

  /** `flush` when `intervalMs` has passed since the last one (Workers: called at the end of each request). */
  flushIfDue(sink: CredentialUseSink, intervalMs = CREDENTIAL_USE_FLUSH_MS): Promise<void> {
    if (this.pending.size === 0 || this.now() - this.lastFlush < intervalMs) return Promise.resolve();
    return this.flush(sink);
  }

  /** Flushes every `intervalMs` until the returned function is called, which flushes once more. */
  start(sink: CredentialUseSink, onError: (e: unknown) => void, intervalMs = CREDENTIAL_USE_FLUSH_MS): () => Promise<void> {
    const timer = setInterval(() => this.flush(sink).catch(onError), intervalMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await this.flush(sink).catch(onError);
    };
  }

  private async flushNow(sink: CredentialUseSink): Promise<void> {
    this.lastFlush = this.now();
    // What `note` no longer needs: a later use of these is at least a window after them anyway.
    for (const [id, t] of this.noted) if (this.latest - t >= this.windowMs) this.noted.delete(id);
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await sink.recordCredentialUses([...batch].map(([id, at]) => ({ id, at })));
      this.stats.written += batch.size;
    } catch (e) {
      this.stats.failures++;
      // Back for the next flush, unless a newer use of the same credential was noted meanwhile.
      for (const [id, at] of batch) if (!this.pending.has(id)) this.pending.set(id, at);
      throw e;
    }
  }
}
