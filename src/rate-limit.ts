/**
 * Rate limits (api.md: public endpoints "rate limited per client address"; 429 RATE_LIMITED with
 * Retry-After), and the slow-down of a key that keeps sending the same refused invoice.
 *
 * Both count in fixed windows through a CounterStore. The one here is in-process (per instance,
 * no Redis); a shared store (Redis INCR + PEXPIRE, say) can implement the same two calls so that
 * several instances share their counts. No HTTP here: the middleware, the client's address and
 * the public paths are in rate-limit-middleware.ts.
 */
import { createHash } from "node:crypto";
import { ApiError } from "./errors.js";

/** One key's fixed window: how many hits, and when (epoch ms) the window closes. */
export interface CounterWindow {
  count: number;
  resetAt: number;
}

/** Where counts live. Implementations must be safe to call concurrently. */
export interface CounterStore {
  /** Counts one hit of `key` in its current window (opening one of `windowMs` when none is open). */
  increment(key: string, windowMs: number, now: number): CounterWindow | Promise<CounterWindow>;
  /** The current window of `key`, or null when none is open. */
  peek(key: string, now: number): CounterWindow | null | Promise<CounterWindow | null>;
}

/** Fixed windows in a Map, bounded: expired windows are swept, and past `maxKeys` the oldest go first. */
export class MemoryCounterStore implements CounterStore {
  readonly #windows = new Map<string, CounterWindow>();
  #nextSweep = 0;

  constructor(private readonly maxKeys = 100_000) {}

  increment(key: string, windowMs: number, now: number): CounterWindow {
    this.#sweep(now);
    let w = this.#windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + windowMs };
      this.#windows.delete(key);
      this.#windows.set(key, w);
    }
    w.count++;
    return w;
  }

  peek(key: string, now: number): CounterWindow | null {
    const w = this.#windows.get(key);
    return w && w.resetAt > now ? w : null;
  }

  /** Number of open windows (for tests and metrics). */
  get size(): number {
    return this.#windows.size;
  }

  #sweep(now: number): void {
    if (now < this.#nextSweep && this.#windows.size < this.maxKeys) return;
    this.#nextSweep = now + 10_000;
    for (const [k, w] of this.#windows) if (w.resetAt <= now) this.#windows.delete(k);
    // Insertion order is opening order: drop the oldest windows first when still too many.
    for (const k of this.#windows.keys()) {
      if (this.#windows.size < this.maxKeys) break;
      this.#windows.delete(k);
    }
  }
}

export interface RateLimitSettings {
  /** Requests per minute per client address on public endpoints; 0 turns the limit off. */
  publicPerMinute: number;
  /** How often one key may send the same refused invoice within `refusalWindowMs` before it is slowed down; 0: never. */
  refusalLimit: number;
  refusalWindowMs: number;
  /** Proxies in front of the service whose X-Forwarded-For is believed (0: the socket address only). */
  trustProxyHops: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  publicPerMinute: 300,
  refusalLimit: 5,
  refusalWindowMs: 10 * 60_000,
  trustProxyHops: 0,
};

const limited = (retryAfterMs: number, message: string): ApiError => {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ApiError("RATE_LIMITED", message, [{ code: "RATE_LIMITED", message: `Retry after ${seconds} s.` }], { "Retry-After": String(seconds) });
};

/** The limits of one instance: public endpoints per client address, repeated refusals per key and body. */
export class RateLimiter {
  /**
   * With the in-process store: each API key's last refusal plus the refusal window, the time
   * after which none of its (key, body) windows can still be open. A key without a refusal in
   * that time (nearly every submission) is let through without hashing its body: the SHA-256
   * of the body is taken only when there is a window it could be counted in. A shared store
   * sees other instances' refusals, which this map does not: there, every body is hashed.
   */
  readonly #refusedUntil = new Map<string, number>();
  #nextSweep = 0;

  constructor(
    readonly settings: RateLimitSettings,
    private readonly store: CounterStore = new MemoryCounterStore(),
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Counts one public request of `address`; throws RATE_LIMITED (with Retry-After) past the limit. */
  async hitPublic(address: string): Promise<void> {
    if (this.settings.publicPerMinute <= 0) return;
    const now = this.clock().getTime();
    const w = await this.store.increment(`public:${address}`, 60_000, now);
    if (w.count > this.settings.publicPerMinute) throw limited(w.resetAt - now, `More than ${this.settings.publicPerMinute} requests a minute from this address.`);
  }

  /** The key of one (API key, body) pair: the SHA-256 of the body, never the body itself. */
  refusalKey(keyId: string, body: Uint8Array): string {
    return `refused:${keyId}:${createHash("sha256").update(body).digest("base64url")}`;
  }

  /** Throws RATE_LIMITED when this key sent this very body, refused, `refusalLimit` times in the window. */
  async checkRefusals(refusalKey: string): Promise<void> {
    if (this.settings.refusalLimit <= 0) return;
    const now = this.clock().getTime();
    const w = await this.store.peek(refusalKey, now);
    if (w && w.count >= this.settings.refusalLimit) {
      throw limited(w.resetAt - now, `This invoice was refused ${w.count} times; it is not checked again before the Retry-After time. Fix it, then send it again.`);
    }
  }

  /** Counts one refusal of this (key, body). */
  async recordRefusal(refusalKey: string): Promise<void> {
    if (this.settings.refusalLimit <= 0) return;
    await this.store.increment(refusalKey, this.settings.refusalWindowMs, this.clock().getTime());
  }

  /**
   * Runs `work` (the gate) unless this key keeps sending this refused body; a refusal of the
   * request (4xx ApiError other than 429) is counted, then rethrown.
   */
  async guardRefusals<T>(keyId: string, body: Uint8Array, work: () => Promise<T>): Promise<T> {
    if (this.settings.refusalLimit <= 0) return work();
    let key: string | null = null;
    if (this.#mayHaveRefusals(keyId)) {
      key = this.refusalKey(keyId, body);
      await this.checkRefusals(key);
    }
    try {
      return await work();
    } catch (e) {
      if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.code !== "RATE_LIMITED") {
        this.#noteRefusal(keyId);
        await this.recordRefusal(key ?? this.refusalKey(keyId, body));
      }
      throw e;
    }
  }

  /** Whether a (key, body) window of this key may be open: always, unless the store is this process's own. */
  #mayHaveRefusals(keyId: string): boolean {
    if (!(this.store instanceof MemoryCounterStore)) return true;
    const until = this.#refusedUntil.get(keyId);
    return until !== undefined && until > this.clock().getTime();
  }

  #noteRefusal(keyId: string): void {
    const now = this.clock().getTime();
    // A window opens at a refusal and lasts refusalWindowMs: none outlives the key's last refusal by more.
    this.#refusedUntil.set(keyId, now + this.settings.refusalWindowMs);
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + 60_000;
    for (const [k, until] of this.#refusedUntil) if (until <= now) this.#refusedUntil.delete(k);
  }
}
