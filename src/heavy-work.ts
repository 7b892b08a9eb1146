/**
 * Large documents and the event loop (docs/security.md, "Large documents"). The gate's parse →
 * frame → profile → signature run synchronously: a document of 2 MiB within every limit costs
 * tens of milliseconds of CPU, and several arriving together used to run back to back in one
 * turn of the event loop, while health checks and every other client waited.
 *
 * Two rules, for documents (bodies) of at least `heavyBytes`:
 * - per client, at most `perClient` such requests in flight at once (anonymous POST /v1/verify:
 *   per client address; POST /v1/invoices and the batch: per API key); past it, 429
 *   RATE_LIMITED with Retry-After — the request is refused before any of its parse;
 * - in the process, they take turns (the lane): one large document's synchronous stages at a
 *   time, then the event loop is left to everything else for as long as that document took
 *   (at most a second) before the next starts, so the probes (/healthz, /readyz, /metrics,
 *   never limited) and other clients' requests — a new connection needs a few turns — are
 *   answered between two of them. Large documents get at least half the time when they queue.
 * Smaller documents (every real invoice) skip both: the batch already yields every 10 ms
 * (domain/submit.ts), and they cost too little to matter one by one.
 */
import { ApiError } from "./errors.js";

export interface HeavyWorkSettings {
  /** A body of at least this many bytes is large. */
  heavyBytes: number;
  /** Large requests one client may have in flight at once; 0 turns the bound off. */
  perClient: number;
}

export const DEFAULT_HEAVY_WORK: HeavyWorkSettings = { heavyBytes: 64 * 1024, perClient: 2 };

/** Seconds a client refused by the bound is told to wait (a large document's gate takes well under one). */
const RETRY_AFTER_SECONDS = 1;

const none = (): void => {};
// Node's check phase; a runtime without it (Workers) gets a timer, which also waits for a later turn.
const nextTurn: (f: () => void) => void = typeof setImmediate === "function" ? (f) => setImmediate(f) : (f) => setTimeout(f, 0);

export class HeavyWork {
  readonly #inFlight = new Map<string, number>();
  readonly #waiting: (() => void)[] = [];
  #pumping = false;

  constructor(readonly settings: HeavyWorkSettings = DEFAULT_HEAVY_WORK) {}

  /** Whether a body of `bytes` bytes is large. */
  isHeavy(bytes: number): boolean {
    return bytes >= this.settings.heavyBytes;
  }

  /**
   * Admits one request of `client` whose body has `bytes` bytes: a small one always; a large one
   * unless the client has `perClient` large ones in flight (then RATE_LIMITED with Retry-After).
   * Returns the release to call once the request is answered (exactly once).
   */
  admit(client: string, bytes: number): () => void {
    if (!this.isHeavy(bytes) || this.settings.perClient <= 0) return none;
    const n = this.#inFlight.get(client) ?? 0;
    if (n >= this.settings.perClient) {
      throw new ApiError(
        "RATE_LIMITED",
        `This client already has ${n} large documents (${this.settings.heavyBytes} bytes or more) being checked; send the next when one is answered.`,
        [{ code: "RATE_LIMITED", message: `Retry after ${RETRY_AFTER_SECONDS} s.` }],
        { "Retry-After": String(RETRY_AFTER_SECONDS) },
      );
    }
    this.#inFlight.set(client, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#inFlight.get(client) ?? 1) - 1;
      if (left <= 0) this.#inFlight.delete(client);
      else this.#inFlight.set(client, left);
    };
  }

  /**
   * Reads a request body and runs `work` on it, admitted as `admit` says: by the declared
   * Content-Length before anything is parsed (a client past its bound is refused at the cost of
   * reading its body, nothing more), or by the body's size once read when no length was declared.
   */
  async withBody<T>(client: string, declaredLength: string | undefined, read: () => Promise<Uint8Array>, work: (body: Uint8Array) => Promise<T>): Promise<T> {
    const declared = declaredLength !== undefined && /^[0-9]+$/.test(declaredLength) ? Number(declaredLength) : null;
    let early = none;
    try {
      if (declared !== null) early = this.admit(client, declared);
    } catch (refusal) {
      // Refused before any parse; the body is still read (and dropped) so that the client,
      // still sending it, gets the 429 and not a connection closed under its feet.
      await read().catch(() => undefined);
      throw refusal;
    }
    try {
      const body = await read();
      const late = declared === null ? this.admit(client, body.byteLength) : none;
      try {
        return await work(body);
      } finally {
        late();
      }
    } finally {
      early();
    }
  }

  /** Large requests in flight, all clients together (for tests and metrics). */
  get inFlight(): number {
    let n = 0;
    for (const v of this.#inFlight.values()) n += v;
    return n;
  }

  /**
   * Waits for a large document's turn (undefined, nothing to wait for, for a small one). The
   * caller runs its synchronous stages right after the promise resolves.
   */
  turn(bytes: number): Promise<void> | undefined {
    if (!this.isHeavy(bytes)) return undefined;
    return new Promise<void>((resolve) => {
      this.#waiting.push(resolve);
      if (!this.#pumping) {
        this.#pumping = true;
        const wait = this.#resumeAt - performance.now();
        if (wait > 0) setTimeout(this.#grant, wait);
        else nextTurn(this.#grant);
      }
    });
  }

  /** When the next large document may start: the end of the last one plus as long again (at most MAX_PAUSE_MS). */
  #resumeAt = 0;

  readonly #grant = (): void => {
    const next = this.#waiting.shift();
    if (!next) {
      this.#pumping = false;
      return;
    }
    const start = performance.now();
    // The waiter's continuation (its parse, its signature) runs in the microtasks right after this
    // callback; the callback of the next turn sees how long that took, and leaves the event loop
    // to everything else (accepting connections, reading requests, the probes) for as long again
    // before the next large document starts: a new connection needs a few turns to be answered.
    next();
    nextTurn(() => {
      const end = performance.now();
      this.#resumeAt = end + Math.min(end - start, MAX_PAUSE_MS);
      if (this.#waiting.length === 0) this.#pumping = false;
      else setTimeout(this.#grant, this.#resumeAt - end);
    });
  };
}

/** The longest pause between two large documents (a document that took longer still gets its turn after this). */
const MAX_PAUSE_MS = 1000;
