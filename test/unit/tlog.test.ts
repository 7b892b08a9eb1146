/**
 * The transparency log's formats and Merkle algorithms, checked against independent references:
 * RFC 9162 §2.1 written out again here from the RFC's text (recursive MTH, PATH, PROOF and the
 * two verification algorithms), the C2SP tlog-tiles definitions, and the Go checksum database's
 * signed-note test vectors (golang.org/x/mod/sumdb/note note_test.go).
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalDecimal, decodeBundle, decodeEntry, encodeBundle, encodeEntry, encodeTileIndex, type LogEntry, parseTilePath, tilePath } from "../../src/tlog/entry.js";
import { consistencyProof, inclusionProof, leafHash, TileFrontier, type TileSource, tileKey, treeRoot, verifyConsistency, verifyInclusion } from "../../src/tlog/merkle.js";
import { checkpointText, openCheckpoint, openNote, parseCheckpoint, parseSignerKey, parseVerifierKey, signerFromSeed, signNote } from "../../src/tlog/note.js";
import { H, MTH, PATH, rfcVerifyConsistency, rfcVerifyInclusion, SUBPROOF } from "../helpers/rfc9162.js";


/** A log of `n` random entries built by the service's frontier: its entries and every tile. */
function build(n: number): { D: Buffer[]; tiles: Map<string, Buffer>; source: TileSource } {
  const D = Array.from({ length: n }, (_, i) => Buffer.from(`entry ${i} ${randomBytes(4).toString("hex")}`));
  const f = new TileFrontier(0);
  for (const d of D) f.append(leafHash(d));
  const tiles = new Map(f.changedTiles().map((t) => [tileKey(t.level, t.n), t.hashes]));
  return { D, tiles, source: async (w) => new Map(w.filter((t) => tiles.has(tileKey(t.level, t.n))).map((t) => [tileKey(t.level, t.n), tiles.get(tileKey(t.level, t.n))!])) };
}

describe("Merkle tree (RFC 9162 §2.1) from tiles", () => {
  it("roots, inclusion and consistency proofs are exactly RFC 9162's, and verify by the RFC's algorithms", async () => {
    const { D, source } = build(600);
    for (const n of [1, 2, 3, 5, 8, 255, 256, 257, 300, 511, 512, 513, 600]) {
      const root = await treeRoot(n, source);
      expect(root.equals(MTH(D.slice(0, n))), `root of ${n}`).toBe(true);
      for (const m of new Set([0, 1, n >> 1, n - 2, n - 1].filter((x) => x >= 0 && x < n))) {
        const proof = await inclusionProof(m, n, source);
        expect(proof.map((p) => p.toString("hex")), `PATH(${m}, D[${n}])`).toEqual(PATH(m, D.slice(0, n)).map((p) => p.toString("hex")));
        expect(rfcVerifyInclusion(m, n, H(Buffer.from([0]), D[m]!), proof, root)).toBe(true);
        expect(verifyInclusion(leafHash(D[m]!), m, n, proof, root)).toBe(true);
      }
      for (const m of new Set([1, 2, 3, n >> 1, n - 1].filter((x) => x >= 1 && x < n))) {
        const proof = await consistencyProof(m, n, source);
        expect(proof.map((p) => p.toString("hex")), `PROOF(${m}, D[${n}])`).toEqual(SUBPROOF(m, D.slice(0, n), true).map((p) => p.toString("hex")));
        const r1 = MTH(D.slice(0, m));
        expect(rfcVerifyConsistency(m, n, r1, root, proof)).toBe(true);
        expect(verifyConsistency(m, n, r1, root, proof)).toBe(true);
      }
    }
  });

  it("a proof fails for another leaf, a changed hash, a wrong size or a forged root (both verifiers)", async () => {
    const { D, source } = build(300);
    const root = await treeRoot(300, source);
    const proof = await inclusionProof(77, 300, source);
    const leaf = leafHash(D[77]!);
    expect(verifyInclusion(leafHash(D[78]!), 77, 300, proof, root)).toBe(false);
    expect(rfcVerifyInclusion(77, 300, leafHash(D[78]!), proof, root)).toBe(false);
    const bent = proof.map((p, i) => (i === 3 ? Buffer.from(p.map((b, j) => (j === 0 ? b ^ 1 : b))) : p));
    expect(verifyInclusion(leaf, 77, 300, bent, root)).toBe(false);
    expect(rfcVerifyInclusion(77, 300, leaf, bent, root)).toBe(false);
    expect(verifyInclusion(leaf, 76, 300, proof, root)).toBe(false);
    expect(rfcVerifyInclusion(76, 300, leaf, proof, root)).toBe(false);
    expect(verifyInclusion(leaf, 77, 300, proof, randomBytes(32))).toBe(false);
    const cons = await consistencyProof(100, 300, source);
    expect(verifyConsistency(100, 300, MTH(D.slice(0, 100)), root, cons)).toBe(true);
    // A history rewritten before 100: the old root no longer matches.
    const forked = [...D.slice(0, 50), Buffer.from("rewritten"), ...D.slice(51, 100)];
    expect(verifyConsistency(100, 300, MTH(forked), root, cons)).toBe(false);
    expect(rfcVerifyConsistency(100, 300, MTH(forked), root, cons)).toBe(false);
  });

  it("tiles follow C2SP tlog-tiles: the 70,000-leaf example, and each level-1 hash is MTH of 256 leaves", () => {
    const { D, tiles } = build(70_000);
    const widths = (level: number) =>
      [...tiles.entries()]
        .filter(([key]) => key.startsWith(`${level}/`))
        .map(([key, h]) => [Number(key.split("/")[1]), h.length / 32] as const)
        .sort((a, b) => a[0] - b[0]);
    const l0 = widths(0);
    expect(l0.filter(([, w]) => w === 256)).toHaveLength(273);
    expect(l0.at(-1)).toEqual([273, 112]);
    expect(widths(1)).toEqual([
      [0, 256],
      [1, 17],
    ]);
    expect(widths(2)).toEqual([[0, 1]]);
    for (const j of [0, 5, 255, 272]) {
      const hash = (j < 256 ? tiles.get("1/0")! : tiles.get("1/1")!).subarray((j % 256) * 32, (j % 256) * 32 + 32);
      expect(Buffer.from(hash).equals(MTH(D.slice(j * 256, (j + 1) * 256)))).toBe(true);
    }
    expect(Buffer.from(tiles.get("2/0")!).equals(MTH(D.slice(0, 65536)))).toBe(true);
    expect(Buffer.from(tiles.get("0/5")!.subarray(32, 64)).equals(H(Buffer.from([0]), D[5 * 256 + 1]!))).toBe(true);
  });

  it("tile paths: the x-prefixed 3-digit groups, partial widths, and one name per tile", () => {
    expect(encodeTileIndex(1234067)).toBe("x001/x234/067");
    expect(encodeTileIndex(0)).toBe("000");
    expect(tilePath(0, 1234067)).toBe("tile/0/x001/x234/067");
    expect(tilePath(2, 5, 17)).toBe("tile/2/005.p/17");
    expect(tilePath("entries", 1000, 255)).toBe("tile/entries/x001/000.p/255");
    expect(parseTilePath("0/x001/x234/067")).toEqual({ level: 0, n: 1234067, width: 256 });
    expect(parseTilePath("entries/x001/000.p/255")).toEqual({ level: "entries", n: 1000, width: 255 });
    for (const bad of ["0/67", "0/0067", "00/067", "0/x000/067", "64/000", "0/000.p/0", "0/000.p/256", "0/000.p/017", "0/067/", "0/x067"]) {
      expect(parseTilePath(bad), bad).toBeNull();
    }
  });
});

describe("signed notes and checkpoints (C2SP signed-note, tlog-checkpoint)", () => {
  // golang.org/x/mod/sumdb/note note_test.go
  const skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
  const vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
  const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
  const peterSig = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
  const enochKey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
  const enochSig = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

  it("signs exactly as the Go checksum database's note package (known answer)", () => {
    const signer = parseSignerKey(skey);
    expect(signer.text).toBe(vkey);
    expect(signer.secretText).toBe(skey);
    expect(signNote(text, signer)).toBe(`${text}\n${peterSig}`);
  });

  it("opens notes as Go does: known keys verify, unknown ones are ignored, a bad signature of a known key rejects", () => {
    const peter = parseVerifierKey(vkey);
    const enoch = parseVerifierKey(enochKey);
    expect(openNote(`${text}\n${peterSig}${enochSig}`, [peter])).toEqual({ text, verifiedBy: ["PeterNeumann"] });
    expect(openNote(`${text}\n${peterSig}${enochSig}`, [peter, enoch]).verifiedBy).toEqual(["PeterNeumann", "EnochRoot"]);
    expect(() => openNote(`${text}\n${enochSig}`, [peter])).toThrow(/no verifiable signatures/);
    expect(() => openNote(`${text}\n${peterSig.slice(0, 60)}ABCD${peterSig.slice(60)}`, [peter])).toThrow(/invalid signature/);
    expect(() => openNote(`${text.replace("answer", "ANSWER")}\n${peterSig}`, [peter])).toThrow(/invalid signature/);
    for (const bad of [text, `${text}\n`, `\x01${text}\n${peterSig}`, `${text}\n${peterSig}Unexpected line.\n`]) expect(() => openNote(bad, [peter])).toThrow();
    // Mangled keys are refused.
    expect(() => parseVerifierKey("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")).toThrow();
    expect(() => parseVerifierKey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")).toThrow();
  });

  it("checkpoints: three lines, the origin as the key name, and a forged head fails", () => {
    const log = signerFromSeed("hoadon.test/log", randomBytes(32));
    const root = randomBytes(32);
    const note = signNote(checkpointText({ origin: "hoadon.test/log", size: 20852163, root, extensions: [] }), log);
    expect(note.split("\n").slice(0, 4)).toEqual(["hoadon.test/log", "20852163", root.toString("base64"), ""]);
    expect(openCheckpoint(note, log)).toEqual({ origin: "hoadon.test/log", size: 20852163, root, extensions: [] });
    // The C2SP example's text parses.
    expect(parseCheckpoint("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n").size).toBe(20852163);
    // A head with another size under the same signature, or signed by another key, is refused.
    expect(() => openCheckpoint(note.replace("20852163", "20852164"), log)).toThrow(/invalid signature/);
    const forger = signerFromSeed("hoadon.test/log", randomBytes(32));
    expect(() => openCheckpoint(signNote(checkpointText({ origin: "hoadon.test/log", size: 1, root, extensions: [] }), forger), log)).toThrow(/no verifiable/);
    expect(() => parseCheckpoint("o\n012\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")).toThrow();
  });
});

describe("log entries", () => {
  const entry: LogEntry = {
    type: "cancelled",
    code: "0A00000000000003E8A1B2C3D4E5F6A7B8",
    sellerTaxCode: "0100000010",
    form: "1",
    symbol: "C26TAA",
    number: 42,
    issueDate: "2026-11-20",
    totalPayable: "3790000.50",
    digest: randomBytes(32).toString("base64"),
    at: new Date("2026-11-21T01:02:03.456Z"),
    relatedCode: null,
  };

  it("encode canonically and decode back; any other bytes are refused", () => {
    const bytes = encodeEntry(entry);
    expect(decodeEntry(bytes)).toEqual({ ...entry, totalPayable: "3790000.5" });
    expect(encodeEntry({ ...entry, totalPayable: "3790000.500000" }).equals(bytes)).toBe(true);
    expect(bytes[0]).toBe(1);
    expect(bytes[1]).toBe(4);
    expect(bytes.subarray(3, 37).toString()).toBe(entry.code);
    expect(bytes.length).toBeLessThan(140);
    expect(() => decodeEntry(Buffer.concat([bytes, Buffer.from([0])]))).toThrow();
    expect(() => decodeEntry(bytes.subarray(0, bytes.length - 1))).toThrow();
    const bad = Buffer.from(bytes);
    bad[1] = 9;
    expect(() => decodeEntry(bad)).toThrow();
    expect(["0", "-0", "000.000", "12.340", "-7.5", "+3"].map(canonicalDecimal)).toEqual(["0", "0", "0", "12.34", "-7.5", "3"]);
  });

  it("bundles are uint16 length-prefixed entries", () => {
    const e = [encodeEntry(entry), encodeEntry({ ...entry, type: "issued" })];
    // Invoices without a code and cash-register invoices: types 5 and 6, round trip.
    for (const [type, byte] of [["uncoded", 5], ["cashRegister", 6]] as const) {
      const b = encodeEntry({ ...entry, type });
      expect(b[1]).toBe(byte);
      expect(decodeEntry(b).type).toBe(type);
    }
    const b = encodeBundle(e);
    expect(b.readUInt16BE(0)).toBe(e[0]!.length);
    expect(decodeBundle(b).map((x) => Buffer.from(x).toString("hex"))).toEqual(e.map((x) => x.toString("hex")));
  });
});
