/**
 * The transparency log service: the sequencer (leaf indexes, tiles, entry bundles and a signed
 * checkpoint, in one transaction off the submission path) and the reads (checkpoint, tiles,
 * proofs). See migrations/0009_transparency_log.sql for why the two steps.
 */
import { sign as cryptoSign } from "node:crypto";
import { Lru } from "../pki/lru.js";
import type { Db } from "../storage/db.js";
import * as q from "../storage/tlog-sql.js";
import type { AuthorityKey } from "../xml/stamp.js";
import { bundlePrefix, decodeBundle, decodeEntry, encodeBundle } from "./entry.js";
import {
  consistencyProof,
  HASH_SIZE,
  inclusionProof,
  leafHash,
  TILE_WIDTH,
  TileFrontier,
  type TileSource,
  tileKey,
  treeRoot,
} from "./merkle.js";
import { checkpointText, type NoteSigner, signNote } from "./note.js";

export interface SignedHead {
  size: number;
  root: Buffer;
  /** The signed checkpoint (C2SP tlog-checkpoint in a C2SP signed note). */
  checkpoint: string;
}

export interface InclusionAnswer {
  leafIndex: number;
  treeSize: number;
  rootHash: string;
  proof: string[];
  /** The entry's bytes, base64. */
  entry: string;
}

/** The log's verifier key vouched for by the authority: its signature over `<verifier key>\n`. */
export interface KeyStatement {
  origin: string;
  verifierKey: string;
  /** base64 signature by the authority's signing key over the UTF-8 bytes of verifierKey + "\n". */
  authoritySignature: string;
  /** "rsa-sha256" (RSASSA-PKCS1-v1_5) or "ecdsa-sha256" (DER-encoded), as the authority's key. */
  signatureAlgorithm: string;
  authorityCertificate: string;
}

/** The log as the last tick saw it (GET /metrics: metrics.ts registerTransparencyLogMetrics). */
export interface LogObservation {
  /** The size of the sequenced (and signed) tree. */
  size: number;
  /** When the latest checkpoint was signed (null: never). */
  signedAt: Date | null;
  /** Committed entries without a leaf yet. */
  pending: number;
  /** The event time of the oldest of them (null when none is pending). */
  oldestPendingAt: Date | null;
}

export class LogNotReady extends Error {
  override readonly name = "LogNotReady";
}

/** What the statement over the verifier key signs. */
export const keyStatementMessage = (verifierKey: string): Buffer => Buffer.from(`${verifierKey}\n`, "utf8");

export interface LogOptions {
  /** Leaves per sequencing transaction (default 20,000). */
  batch?: number;
  /** Full tiles kept in memory (default 2,048: 16 MiB). */
  cacheTiles?: number;
}

export class TransparencyLog {
  private readonly full = new Lru<string, Uint8Array>(2048);
  private readonly batch: number;
  private head: { at: number; value: SignedHead | null } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  /** Leaves sequenced, runs made and ticks failed (start()), for /metrics and the benchmark. */
  readonly stats = { runs: 0, leaves: 0, failures: 0 };
  /** The log as the last tick saw it (null before the first). */
  observed: LogObservation | null = null;

  constructor(
    private readonly db: Db,
    readonly signer: NoteSigner,
    private readonly authority: AuthorityKey,
    opts: LogOptions = {},
  ) {
    this.batch = opts.batch ?? 20_000;
    if (opts.cacheTiles) this.full = new Lru(opts.cacheTiles);
  }

  get origin(): string {
    return this.signer.name;
  }

  keyStatement(): KeyStatement {
    const sig = cryptoSign("sha256", keyStatementMessage(this.signer.text), this.authority.privateKey);
    return {
      origin: this.origin,
      verifierKey: this.signer.text,
      authoritySignature: sig.toString("base64"),
      signatureAlgorithm: this.authority.privateKey.asymmetricKeyType === "ec" ? "ecdsa-sha256" : "rsa-sha256",
      authorityCertificate: this.authority.certPem,
    };
  }

  private sign(size: number, root: Uint8Array): string {
    return signNote(checkpointText({ origin: this.origin, size, root: Buffer.from(root), extensions: [] }), this.signer);
  }

  /**
   * One sequencing run: up to `batch` committed pending entries get the next leaf indexes, their
   * tiles and bundles are written and the new tree head is signed, all in one transaction.
   * Returns the number of leaves added, or null when another sequencer holds the log.
   */
  sequenceOnce(): Promise<number | null> {
    return this.db.transaction(async (tx) => {
      const state = await q.lockState(tx);
      if (!state) return null;
      const pending = await q.takePending(tx, this.batch);
      if (pending.length === 0) {
        // Nothing new. Sign the head if it was never signed, or was signed by another key.
        const ours = this.sign(state.size, state.root);
        if (state.checkpoint !== ours) await q.writeCheckpoint(tx, ours);
        return 0;
      }
      const frontier = new TileFrontier(state.size);
      for (const t of await q.readTiles(tx, TileFrontier.edgeTiles(state.size))) frontier.load(t.level, t.n, t.hashes);
      // The rightmost entry bundle, if partial, grows.
      let bundleN = Math.floor(state.size / TILE_WIDTH);
      let bundle: Uint8Array[] = [];
      if (state.size % TILE_WIDTH !== 0) {
        const bytes = await q.readBundle(tx, bundleN);
        bundle = bytes ? decodeBundle(bytes) : [];
        if (bundle.length !== state.size % TILE_WIDTH) throw new Error(`entry bundle ${bundleN} holds ${bundle.length} entries, expected ${state.size % TILE_WIDTH}`);
      }
      const bundles: { n: number; entries: Uint8Array }[] = [];
      const codes: { code: string; idx: number }[] = [];
      for (const p of pending) {
        const idx = frontier.size;
        frontier.append(leafHash(p.entry));
        codes.push({ code: entryCode(p.entry), idx });
        bundle.push(p.entry);
        if (bundle.length === TILE_WIDTH) {
          bundles.push({ n: bundleN, entries: encodeBundle(bundle) });
          bundle = [];
          bundleN++;
        }
      }
      if (bundle.length > 0) bundles.push({ n: bundleN, entries: encodeBundle(bundle) });
      const size = frontier.size;
      const root = await treeRoot(size, frontier.source());
      const checkpoint = this.sign(size, root);
      await q.writeSequenced(tx, { tiles: frontier.changedTiles(), bundles, codes, state: { size, root, checkpoint } });
      this.stats.runs++;
      this.stats.leaves += pending.length;
      return pending.length;
    });
  }

  /** Sequences until nothing is pending (or another sequencer is at it); then the head is fresh. */
  async sequence(): Promise<SignedHead> {
    // One run at a time in this process; a caller arriving meanwhile waits for it and runs again.
    while (this.running) await this.running.catch(() => {});
    const run = (async () => {
      for (;;) {
        const n = await this.sequenceOnce();
        if (n === null || n < this.batch) break;
      }
    })();
    this.running = run;
    try {
      await run;
    } finally {
      this.running = null;
    }
    this.head = null;
    return this.latest();
  }

  /**
   * Reads what /metrics shows: the tree's size and signing time, the pending entries and the
   * event time of the oldest (one statement; the count is of the backlog, small when the
   * sequencer keeps up).
   */
  async observe(): Promise<LogObservation> {
    const o = await q.observeLog(this.db);
    const observed = { size: o.size, signedAt: o.signedAt, pending: o.pending, oldestPendingAt: o.oldest ? decodeEntry(o.oldest).at : null };
    this.observed = observed;
    return observed;
  }

  /**
   * Sequences every `intervalMs` (unref'd timer), then observes the log for /metrics; errors go
   * to `onError` (and count in stats.failures) and the next tick retries.
   */
  start(intervalMs: number, onError: (e: unknown) => void): void {
    if (this.timer || intervalMs <= 0) return;
    const tick = () => {
      this.sequence().then(
        () => this.observe(),
      ).then(
        () => {},
        (e: unknown) => {
          this.stats.failures++;
          onError(e);
        },
      ).finally(() => {
        if (this.timer) {
          this.timer = setTimeout(tick, intervalMs);
          this.timer.unref();
        }
      });
    };
    this.timer = setTimeout(tick, 0);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
  }

  /** The latest signed tree head (cached for half a second: the checkpoint endpoint is hot). */
  async latest(): Promise<SignedHead> {
    const head = await this.latestOrNull();
    if (!head) throw new LogNotReady("The log has not signed a tree head yet.");
    return head;
  }

  private async latestOrNull(): Promise<SignedHead | null> {
    const now = Date.now();
    if (this.head && now - this.head.at < 500) return this.head.value;
    const s = await q.readState(this.db);
    const value = s.checkpoint ? { size: s.size, root: Buffer.from(s.root), checkpoint: s.checkpoint } : null;
    this.head = { at: now, value };
    return value;
  }

  /** Tiles from the database, full ones remembered (they never change). */
  readonly tiles: TileSource = async (wanted) => {
    const out = new Map<string, Uint8Array>();
    const missing: { level: number; n: number }[] = [];
    for (const t of wanted) {
      const hit = this.full.get(tileKey(t.level, t.n));
      if (hit) out.set(tileKey(t.level, t.n), hit);
      else missing.push(t);
    }
    for (const t of await q.readTiles(this.db, missing)) {
      out.set(tileKey(t.level, t.n), t.hashes);
      if (t.hashes.length === TILE_WIDTH * HASH_SIZE) this.full.set(tileKey(t.level, t.n), t.hashes);
    }
    return out;
  };

  /**
   * A tile of hashes, full (width 256) or the first `width` hashes: null when the log does not
   * have that many yet (a tile beyond the signed tree is not served).
   */
  async tile(level: number, n: number, width: number): Promise<Uint8Array | null> {
    const head = await this.latest();
    // Hashes of level L exist for the first floor(size / 256^L) positions of the signed tree.
    const available = Math.floor(head.size / TILE_WIDTH ** level);
    if ((n * TILE_WIDTH + width) > available) return null;
    const got = (await this.tiles([{ level, n }])).get(tileKey(level, n));
    if (!got || got.length < width * HASH_SIZE) return null;
    return got.subarray(0, width * HASH_SIZE);
  }

  async entryBundle(n: number, width: number): Promise<Uint8Array | null> {
    const head = await this.latest();
    if (n * TILE_WIDTH + width > head.size) return null;
    const bytes = await q.readBundle(this.db, n);
    return bytes && bundlePrefix(bytes, width);
  }

  private async checkSize(size: number | undefined): Promise<SignedHead & { at: number }> {
    const head = await this.latest();
    const at = size ?? head.size;
    if (!Number.isSafeInteger(at) || at < 1 || at > head.size) throw new RangeError(`tree size ${at} is not between 1 and the signed size ${head.size}`);
    return { ...head, at };
  }

  /** An inclusion proof of leaf `index` in the tree of `size` (default: the signed head's). */
  async inclusion(index: number, size?: number): Promise<InclusionAnswer> {
    const head = await this.checkSize(size);
    if (!Number.isSafeInteger(index) || index < 0 || index >= head.at) throw new RangeError(`leaf ${index} is not in the tree of size ${head.at}`);
    const [proof, root, entry] = await Promise.all([
      inclusionProof(index, head.at, this.tiles),
      head.at === head.size ? Promise.resolve(head.root) : treeRoot(head.at, this.tiles),
      this.entry(index),
    ]);
    return { leafIndex: index, treeSize: head.at, rootHash: root.toString("base64"), proof: proof.map((p) => p.toString("base64")), entry: entry.toString("base64") };
  }

  async entry(index: number): Promise<Buffer> {
    const n = Math.floor(index / TILE_WIDTH);
    const bytes = await q.readBundle(this.db, n);
    const entries = bytes ? decodeBundle(bytes) : [];
    const e = entries[index % TILE_WIDTH];
    if (!e) throw new Error(`entry ${index} is missing from bundle ${n}`);
    return Buffer.from(e);
  }

  async consistency(from: number, to?: number): Promise<{ from: number; to: number; fromRoot: string; toRoot: string; proof: string[] }> {
    const head = await this.checkSize(to);
    if (!Number.isSafeInteger(from) || from < 1 || from > head.at) throw new RangeError(`size ${from} is not between 1 and ${head.at}`);
    const [proof, fromRoot, toRoot] = await Promise.all([
      consistencyProof(from, head.at, this.tiles),
      treeRoot(from, this.tiles),
      head.at === head.size ? Promise.resolve(head.root) : treeRoot(head.at, this.tiles),
    ]);
    return { from, to: head.at, fromRoot: fromRoot.toString("base64"), toRoot: toRoot.toString("base64"), proof: proof.map((p) => p.toString("base64")) };
  }

  /** The leaf indexes of a code (issue first), all of them, signed or not yet. */
  leavesOf(code: string): Promise<number[]> {
    return q.codeLeaves(this.db, code);
  }

  /**
   * What an invoice's answers carry: its leaves in the signed tree and the inclusion proof of the
   * first (its issue) against the signed head; null until its issue is under a signed head.
   */
  async proofForCode(code: string): Promise<{ leafIndex: number; leafIndexes: number[]; treeSize: number; rootHash: string; inclusionProof: string[]; checkpoint: string } | null> {
    const head = await this.latestOrNull();
    if (!head || head.size === 0) return null;
    const leaves = await this.leavesOf(code);
    const signed = leaves.filter((i) => i < head.size);
    const first = signed[0];
    if (first === undefined) return null;
    const proof = await inclusionProof(first, head.size, this.tiles);
    return { leafIndex: first, leafIndexes: signed, treeSize: head.size, rootHash: head.root.toString("base64"), inclusionProof: proof.map((p) => p.toString("base64")), checkpoint: head.checkpoint };
  }
}

/** The code of an entry (its third field), without decoding the rest. */
function entryCode(entry: Uint8Array): string {
  const n = entry[2] ?? 0;
  return Buffer.from(entry.buffer, entry.byteOffset + 3, n).toString("latin1");
}

