/**
 * The registration data read on every submission (who a key or token is; a seller and its
 * certificates), kept in memory while the database's announcements of changes can be heard.
 *
 * Correctness rests on three rules:
 * - Caching only while listening: the store LISTENs on hoadon_registry, which triggers on the
 *   registry tables announce at the commit of any change (migration 0007). Until listening is
 *   established, and again after the listening session is re-established (announcements may
 *   have been lost meanwhile), everything is dropped; a store that cannot listen (Workers, a
 *   transaction) never caches.
 * - A change made through this store drops everything as soon as it has committed, so this
 *   instance never answers from before its own change; other instances drop theirs when the
 *   announcement arrives (milliseconds later).
 * - A read that was in flight when a change was announced is not kept (the generation moved
 *   on), so a value from before a change can never be stored after it. Entries also age out
 *   (`maxAgeMs`), bounding what a lost announcement could ever cost.
 *
 * Misses (an unknown key, a seller that is not registered) are not kept: random keys must not
 * fill the memory, and a later registration needs no announcement to be seen.
 */
import { Lru } from "../pki/lru.js";

export class RegistryCache {
  private generation = 0;
  private listening = false;
  private readonly entries: Lru<string, { at: number; value: unknown }>;
  readonly stats = { hits: 0, misses: 0, invalidations: 0 };

  constructor(
    private readonly maxAgeMs = 10_000,
    limit = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.entries = new Lru(limit);
  }

  /** The value under `key`: from memory when cached and fresh, else `load()` (kept when `keep` says so). */
  async read<T>(key: string, load: () => Promise<T>, keep: (value: T) => boolean): Promise<T> {
    if (!this.listening) return load();
    const hit = this.entries.get(key);
    if (hit && this.now() - hit.at < this.maxAgeMs) {
      this.stats.hits++;
      return hit.value as T;
    }
    this.stats.misses++;
    const generation = this.generation;
    const at = this.now();
    const value = await load();
    if (this.listening && generation === this.generation && keep(value)) this.entries.set(key, { at, value });
    return value;
  }

  /** Something in the registry changed (or may have): forget everything, including reads in flight. */
  invalidate(): void {
    this.generation++;
    this.stats.invalidations++;
    this.entries.clear();
  }

  /** Listening (re)established (true) or given up (false); either way, what is cached is dropped. */
  setListening(on: boolean): void {
    this.listening = on;
    this.invalidate();
  }

  /** Whether entries are served from memory now (listening is established). */
  get active(): boolean {
    return this.listening;
  }

  get size(): number {
    return this.entries.size;
  }
}
