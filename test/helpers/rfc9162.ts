/**
 * RFC 9162 §2.1 written out from the RFC's text, for tests: the service's proofs are checked with
 * these, never with its own verifier (src/tlog/merkle.ts). Also an independent reader of C2SP
 * signed-note checkpoints (Ed25519 through node:crypto from the raw key).
 */
import { createHash, createPublicKey, verify } from "node:crypto";

export const H = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};
const k = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1); // largest power of two < n (n > 1)
export function MTH(D: Buffer[]): Buffer {
  if (D.length === 0) return H();
  if (D.length === 1) return H(Buffer.from([0]), D[0]!);
  const s = k(D.length);
  return H(Buffer.from([1]), MTH(D.slice(0, s)), MTH(D.slice(s)));
}
export function PATH(m: number, D: Buffer[]): Buffer[] {
  if (D.length === 1) return [];
  const s = k(D.length);
  return m < s ? [...PATH(m, D.slice(0, s)), MTH(D.slice(s))] : [...PATH(m - s, D.slice(s)), MTH(D.slice(0, s))];
}
export function SUBPROOF(m: number, D: Buffer[], b: boolean): Buffer[] {
  if (m === D.length) return b ? [] : [MTH(D)];
  const s = k(D.length);
  return m <= s ? [...SUBPROOF(m, D.slice(0, s), b), MTH(D.slice(s))] : [...SUBPROOF(m - s, D.slice(s), false), MTH(D.slice(0, s))];
}
const lsb = (x: bigint) => (x & 1n) === 1n;
/** §2.1.3.2, as the RFC words it. */
export function rfcVerifyInclusion(index: number, size: number, hash: Buffer, path: Buffer[], root: Buffer): boolean {
  if (index >= size) return false;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = hash;
  for (const p of path) {
    if (sn === 0n) return false;
    if (lsb(fn) || fn === sn) {
      r = H(Buffer.from([1]), p, r);
      if (!lsb(fn)) while (!lsb(fn) && fn !== 0n) [fn, sn] = [fn >> 1n, sn >> 1n];
    } else r = H(Buffer.from([1]), r, p);
    [fn, sn] = [fn >> 1n, sn >> 1n];
  }
  return sn === 0n && r.equals(root);
}
/** §2.1.4.2, as the RFC words it. */
export function rfcVerifyConsistency(first: number, second: number, firstHash: Buffer, secondHash: Buffer, proof: Buffer[]): boolean {
  if (proof.length === 0) return false;
  const path = (first & (first - 1)) === 0 ? [firstHash, ...proof] : proof;
  let fn = BigInt(first - 1);
  let sn = BigInt(second - 1);
  while (lsb(fn)) [fn, sn] = [fn >> 1n, sn >> 1n];
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if (lsb(fn) || fn === sn) {
      fr = H(Buffer.from([1]), c, fr);
      sr = H(Buffer.from([1]), c, sr);
      if (!lsb(fn)) while (!lsb(fn) && fn !== 0n) [fn, sn] = [fn >> 1n, sn >> 1n];
    } else sr = H(Buffer.from([1]), sr, c);
    [fn, sn] = [fn >> 1n, sn >> 1n];
  }
  return fr.equals(firstHash) && sr.equals(secondHash) && sn === 0n;
}

/**
 * Verifies a signed checkpoint against a verifier key `name+hash+base64(0x01||key)` as C2SP
 * signed-note and tlog-checkpoint say, and returns its size and root; throws otherwise.
 */
export function readCheckpoint(note: string, verifierKey: string): { origin: string; size: number; root: Buffer } {
  const [name, hash, ...rest] = verifierKey.split("+") as [string, string, ...string[]];
  const key64 = rest.join("+");
  const key = Buffer.from(key64, "base64");
  if (key[0] !== 1 || key.length !== 33) throw new Error("not an Ed25519 verifier key");
  const id = createHash("sha256").update(name).update("\n").update(key).digest().subarray(0, 4);
  if (id.toString("hex") !== hash) throw new Error("key hash");
  const cut = note.lastIndexOf("\n\n");
  const text = note.slice(0, cut + 1);
  const line = note.slice(cut + 2).split("\n").find((l) => l.startsWith(`\u2014 ${name} `));
  if (!line) throw new Error("no signature by the log");
  const sig = Buffer.from(line.split(" ")[2]!, "base64");
  if (!sig.subarray(0, 4).equals(id)) throw new Error("signature key id");
  const pub = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), key.subarray(1)]), format: "der", type: "spki" });
  if (!verify(null, Buffer.from(text), pub, sig.subarray(4))) throw new Error("bad checkpoint signature");
  const [origin, size, root] = text.split("\n");
  if (origin !== name) throw new Error("origin is not the key name");
  return { origin, size: Number(size), root: Buffer.from(root!, "base64") };
}
