/**
 * The Merkle tree of the transparency log: RFC 9162 §2.1 (the RFC 6962 tree: SHA-256, leaf and
 * node hashes domain-separated by a 0x00 / 0x01 prefix) and the C2SP tlog-tiles layout in
 * which it is stored and served (tiles of height 8: 256 hashes).
 *
 * Every hash a proof or a root needs is the hash of a *complete* subtree, named (h, i): height h,
 * index i, covering the leaves [i·2^h, (i+1)·2^h). Such a node never changes once its leaves
 * exist, and it is read from the tile that holds its descendants at the tile level below it (a
 * node of height 8L + r is the root of 2^r consecutive hashes of a tile of level L). Proofs are
 * computed in two passes: the algorithms of RFC 9162 §2.1.3–2.1.4 name the nodes they need, the
 * tiles holding them are read in one go, then the hashes are folded.
 */
import { createHash } from "node:crypto";

export const HASH_SIZE = 32;
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 1 << TILE_HEIGHT;

export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
}

const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);

/** RFC 9162 §2.1.1: MTH({d}) = SHA-256(0x00 || d). */
export const leafHash = (entry: Uint8Array): Buffer => sha256(LEAF_PREFIX, entry);
/** RFC 9162 §2.1.1: SHA-256(0x01 || left || right). */
export const nodeHash = (left: Uint8Array, right: Uint8Array): Buffer => sha256(NODE_PREFIX, left, right);
/** The root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT = sha256();

/** The root of 2^k consecutive hashes (a complete subtree). */
export function completeRoot(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0 || (hashes.length & (hashes.length - 1)) !== 0) throw new RangeError(`completeRoot: ${hashes.length} is not a power of two`);
  let level: Buffer[] = hashes.map((h) => Buffer.from(h));
  while (level.length > 1) {
    const up: Buffer[] = new Array(level.length / 2);
    for (let j = 0; j < up.length; j++) up[j] = nodeHash(level[2 * j]!, level[2 * j + 1]!);
    level = up;
  }
  return level[0]!;
}

/** The root of a full tile (256 hashes, concatenated), hashing in place. */
function tileRoot(buf: Buffer): Buffer {
  let level = buf;
  for (let count = TILE_WIDTH; count > 1; count /= 2) {
    const up = Buffer.allocUnsafe((count / 2) * HASH_SIZE);
    for (let j = 0; j < count / 2; j++) nodeHash(level.subarray(2 * j * HASH_SIZE, (2 * j + 1) * HASH_SIZE), level.subarray((2 * j + 1) * HASH_SIZE, (2 * j + 2) * HASH_SIZE)).copy(up, j * HASH_SIZE);
    level = up;
  }
  return Buffer.from(level);
}

/** A complete subtree: height h, index i (leaves [i·2^h, (i+1)·2^h)). */
export interface Node {
  h: number;
  i: number;
}

/** The largest power of two strictly below n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * MTH(D[lo:hi]) for a range of the RFC's recursion (lo aligned to the range's split), as the
 * complete subtrees whose right fold is its hash: left to right, largest first.
 */
export function rangeNodes(lo: number, hi: number): Node[] {
  const out: Node[] = [];
  while (lo < hi) {
    let h = 0;
    while (lo % 2 ** (h + 1) === 0 && lo + 2 ** (h + 1) <= hi) h++;
    out.push({ h, i: lo / 2 ** h });
    lo += 2 ** h;
  }
  return out;
}

/** The right fold of a range's subtree hashes: MTH of the range. */
export function foldRange(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0) return EMPTY_ROOT;
  let acc: Buffer = Buffer.from(hashes[hashes.length - 1]!);
  for (let j = hashes.length - 2; j >= 0; j--) acc = nodeHash(hashes[j]!, acc);
  return acc;
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]) as ranges whose hashes make the proof, leaf upwards. */
export function inclusionRanges(m: number, n: number): [number, number][] {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && m >= 0 && m < n)) throw new RangeError(`inclusion: leaf ${m} is not in a tree of size ${n}`);
  const path: [number, number][] = [];
  let lo = 0;
  let hi = n;
  // Walk down from the root; the proof lists the siblings bottom-up, so collect and reverse.
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (m < lo + k) {
      path.push([lo + k, hi]);
      hi = lo + k;
    } else {
      path.push([lo, lo + k]);
      lo = lo + k;
    }
  }
  return path.reverse();
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]) as ranges (0 < m ≤ n; empty when m = n). */
export function consistencyRanges(m: number, n: number): [number, number][] {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && m >= 1 && m <= n)) throw new RangeError(`consistency: sizes ${m} → ${n} are not 1 ≤ from ≤ to`);
  const out: [number, number][] = [];
  // SUBPROOF(m, D[lo:hi], b), iteratively: the recursion appends after the recursive call, so
  // the ranges are collected on the way down and reversed.
  let lo = 0;
  let hi = n;
  let b = true;
  let mm = m;
  for (;;) {
    if (mm === hi - lo) {
      if (!b) out.push([lo, hi]);
      break;
    }
    const k = splitPoint(hi - lo);
    if (mm <= k) {
      out.push([lo + k, hi]);
      hi = lo + k;
    } else {
      out.push([lo, lo + k]);
      lo = lo + k;
      mm -= k;
      b = false;
    }
  }
  // The recursive call's output comes first, then the sibling pushed at that depth; the final
  // (innermost) element was pushed last, so reversing gives the RFC's order.
  return out.reverse();
}

/** Where a complete node's hash lives: tile (level, n), its hashes [offset, offset + 2^r). */
export function nodeInTile(node: Node): { level: number; n: number; offset: number; count: number } {
  const level = Math.floor(node.h / TILE_HEIGHT);
  const r = node.h - level * TILE_HEIGHT;
  const first = node.i * 2 ** r;
  return { level, n: Math.floor(first / TILE_WIDTH), offset: first % TILE_WIDTH, count: 2 ** r };
}

export const tileKey = (level: number, n: number): string => `${level}/${n}`;

/** The stored hashes of tiles, possibly partial (a tile grows until it holds 256). */
export type TileSource = (tiles: { level: number; n: number }[]) => Promise<Map<string, Uint8Array>>;

/** Reads the hashes of complete nodes from the tiles that hold them (one batch of tile reads). */
export async function readNodes(nodes: readonly Node[], tiles: TileSource): Promise<Buffer[]> {
  const places = nodes.map(nodeInTile);
  const wanted = new Map<string, { level: number; n: number }>();
  for (const p of places) wanted.set(tileKey(p.level, p.n), { level: p.level, n: p.n });
  const got = wanted.size > 0 ? await tiles([...wanted.values()]) : new Map<string, Uint8Array>();
  return places.map((p, j) => {
    const tile = got.get(tileKey(p.level, p.n));
    if (!tile || tile.length < (p.offset + p.count) * HASH_SIZE) {
      throw new Error(`tile ${p.level}/${p.n} lacks the hashes of node ${nodes[j]!.h}/${nodes[j]!.i}`);
    }
    const hashes: Uint8Array[] = [];
    for (let k = 0; k < p.count; k++) hashes.push(tile.subarray((p.offset + k) * HASH_SIZE, (p.offset + k + 1) * HASH_SIZE));
    return completeRoot(hashes);
  });
}

/** Hashes of ranges, each the right fold of its complete subtrees, with one batch of tile reads. */
export async function rangeHashes(ranges: readonly [number, number][], tiles: TileSource): Promise<Buffer[]> {
  const parts = ranges.map(([lo, hi]) => rangeNodes(lo, hi));
  const flat = parts.flat();
  const hashes = await readNodes(flat, tiles);
  let at = 0;
  return parts.map((p) => {
    const mine = hashes.slice(at, at + p.length);
    at += p.length;
    return foldRange(mine);
  });
}

export const treeRoot = async (size: number, tiles: TileSource): Promise<Buffer> => (size === 0 ? EMPTY_ROOT : (await rangeHashes([[0, size]], tiles))[0]!);
export const inclusionProof = (m: number, n: number, tiles: TileSource): Promise<Buffer[]> => rangeHashes(inclusionRanges(m, n), tiles);
export const consistencyProof = (m: number, n: number, tiles: TileSource): Promise<Buffer[]> => (m === n ? Promise.resolve([]) : rangeHashes(consistencyRanges(m, n), tiles));

// Verification (RFC 9162 §2.1.3.2 and §2.1.4.2), for the CLI and the service's own checks. ----

const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.compare(a, b) === 0;

/** RFC 9162 §2.1.3.2. */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!(index >= 0 && index < size)) return false;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (p.length !== HASH_SIZE || sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else r = nodeHash(r, p);
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equal(r, root);
}

/** RFC 9162 §2.1.4.2 (with the trivial cases: equal sizes prove equal roots by an empty proof). */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!(size1 >= 1 && size1 <= size2)) return false;
  if (size1 === size2) return proof.length === 0 && equal(root1, root2);
  if (proof.length === 0 || proof.some((p) => p.length !== HASH_SIZE)) return false;
  const path = (size1 & (size1 - 1)) === 0 ? [root1, ...proof] : [...proof];
  let fn = BigInt(size1 - 1);
  let sn = BigInt(size2 - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else sr = nodeHash(sr, c);
    fn >>= 1n;
    sn >>= 1n;
  }
  return equal(fr, root1) && equal(sr, root2) && sn === 0n;
}

// Appending (the sequencer) -----------------------------------------------------------------

/**
 * The right edge of the tiles: the last (partial or just-filled) tile of each level. Appending
 * a leaf hash adds it to the level-0 tile; a tile that fills up adds its root to the level above.
 * Every tile touched is reported as changed, to be written back.
 */
export class TileFrontier {
  /** level → the rightmost tile: its index, a full-size buffer and how many hashes it holds. */
  readonly edge = new Map<number, { n: number; buf: Buffer; width: number }>();
  /** Tiles touched since the frontier was loaded, by key. */
  readonly changed = new Map<string, { level: number; n: number; tile: { buf: Buffer; width: number } }>();
  private readonly touched = new WeakSet<object>();

  constructor(public size: number) {}

  /** The rightmost tile of each level that a tree of `size` has (to be loaded before appending). */
  static edgeTiles(size: number): { level: number; n: number }[] {
    const out: { level: number; n: number }[] = [];
    for (let level = 0; TILE_WIDTH ** level <= size; level++) {
      const width = Math.floor(size / TILE_WIDTH ** level) % TILE_WIDTH;
      if (width > 0) out.push({ level, n: Math.floor(size / TILE_WIDTH ** (level + 1)) });
    }
    return out;
  }

  load(level: number, n: number, hashes: Uint8Array): void {
    const buf = Buffer.alloc(TILE_WIDTH * HASH_SIZE);
    buf.set(hashes.subarray(0, Math.min(hashes.length, buf.length)));
    this.edge.set(level, { n, buf, width: Math.floor(hashes.length / HASH_SIZE) });
  }

  append(leaf: Uint8Array): void {
    let hash: Uint8Array = leaf;
    let index = this.size;
    for (let level = 0; ; level++) {
      const n = Math.floor(index / TILE_WIDTH);
      const at = index % TILE_WIDTH;
      let tile = this.edge.get(level);
      if (!tile || tile.n !== n) {
        if (at !== 0) throw new Error(`tile ${level}/${n} was not loaded before appending at ${at}`);
        tile = { n, buf: Buffer.alloc(TILE_WIDTH * HASH_SIZE), width: 0 };
        this.edge.set(level, tile);
      }
      if (tile.width !== at) throw new Error(`tile ${level}/${n} holds ${tile.width} hashes, expected ${at}`);
      tile.buf.set(hash, at * HASH_SIZE);
      tile.width++;
      if (at === 0 || !this.touched.has(tile)) {
        this.touched.add(tile);
        this.changed.set(tileKey(level, n), { level, n, tile });
      }
      if (tile.width !== TILE_WIDTH) break;
      // The tile is full: its root is the next hash of the level above.
      hash = tileRoot(tile.buf);
      index = n;
    }
    this.size++;
  }

  /** The changed tiles with their hashes as they now are. */
  changedTiles(): { level: number; n: number; hashes: Buffer }[] {
    return [...this.changed.values()].map((c) => ({ level: c.level, n: c.n, hashes: Buffer.from(c.tile.buf.subarray(0, c.tile.width * HASH_SIZE)) }));
  }

  /** The tiles of the right edge as a TileSource (enough for the root: see treeRoot). */
  source(): TileSource {
    return async (wanted) => {
      const out = new Map<string, Uint8Array>();
      for (const t of wanted) {
        const tile = this.edge.get(t.level);
        if (tile && tile.n === t.n) out.set(tileKey(t.level, t.n), tile.buf.subarray(0, tile.width * HASH_SIZE));
      }
      return out;
    };
  }
}
