/**
 * `hoadon log …` against the real service: it trusts only the authority's certificate, and it
 * catches a tampered entry, a removed entry, a rewritten history (a second tree shown after the
 * first, signed with the log's own key) and a forged head. The log's misbehaviour is played by a
 * fetch that alters what the real service answers.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/index.js";
import type { CliIo } from "../../src/cli/io.js";
import { decodeBundle, decodeEntry, encodeBundle, encodeEntry } from "../../src/tlog/entry.js";
import { consistencyProof, inclusionProof, leafHash, TileFrontier, type TileSource, tileKey, treeRoot } from "../../src/tlog/merkle.js";
import { checkpointText, signerFromSeed, signNote } from "../../src/tlog/note.js";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";

let h: Harness;
let s: TestSeller;
let dir: string;
let cert: string;
const URL_BASE = "http://hoadon.test";

beforeAll(async () => {
  h = await startHarness();
  s = await h.seller();
  dir = mkdtempSync(join(tmpdir(), "hoadon-log-cli-"));
  cert = join(dir, "authority.pem");
  writeFileSync(cert, h.authorityCertPem);
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await h?.close();
});

const realFetch = ((input: string | URL | Request) => Promise.resolve(h.app.request(String(input).replace(URL_BASE, "")))) as typeof fetch;

/** Runs `hoadon log …` with a fetch (default: the real service); its exit code and output. */
async function cli(args: string[], fetchImpl: typeof fetch = realFetch): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), fetch: fetchImpl };
  const code = await main(["log", ...args], io);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** A fetch that answers `path` (matched by a test) with something else. */
function altered(change: (path: string, real: () => Promise<Response>) => Promise<Response | null> | null): typeof fetch {
  return (async (input: string | URL | Request) => {
    const path = String(input).replace(URL_BASE, "");
    const real = () => Promise.resolve(h.app.request(path));
    return (await change(path, real)) ?? real();
  }) as typeof fetch;
}

async function issued(n: number): Promise<string[]> {
  const codes: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await h.submit(s.invoice(), s.apiKey);
    expect(res.status).toBe(201);
    codes.push(((await res.json()) as { code: string }).code);
  }
  await h.services.log!.sequence();
  return codes;
}

describe("hoadon log", () => {
  it("verifies an invoice's inclusion online and offline, needing only the authority's certificate", async () => {
    const [code] = await issued(3);
    const state = join(dir, "state");
    const ok = await cli(["verify-inclusion", "--cert", cert, "--url", URL_BASE, "--code", code!, "--state", state]);
    expect(ok.err).toBe("");
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ verified: true, entry: { type: "issued", code } });

    // Offline: the key statement and the proof answer saved as files.
    const key = join(dir, "key.json");
    writeFileSync(key, await (await h.app.request("/v1/authority/log-key")).text());
    const proof = join(dir, "proof.json");
    writeFileSync(proof, await (await h.app.request(`/v1/log/proof/inclusion?code=${code}`)).text());
    expect((await cli(["verify-inclusion", "--cert", cert, "--key", key, "--proof", proof, "--code", code!])).code).toBe(0);

    // A tampered entry in the proof file: refused.
    const p = JSON.parse(readFileSync(proof, "utf8")) as { entry: string };
    const entry = decodeEntry(Buffer.from(p.entry, "base64"));
    writeFileSync(proof, JSON.stringify({ ...p, entry: encodeEntry({ ...entry, totalPayable: "1" }).toString("base64") }));
    const bad = await cli(["verify-inclusion", "--cert", cert, "--key", key, "--proof", proof, "--code", code!]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/not in the signed tree/);

    // Another authority's certificate does not vouch for this log's key.
    const other = join(dir, "other.pem");
    const { generateDevAuthority } = await import("../../src/secrets.js");
    writeFileSync(other, (await generateDevAuthority("ec")).certPem);
    const wrongCa = await cli(["verify-inclusion", "--cert", other, "--url", URL_BASE, "--code", code!]);
    expect(wrongCa.code).toBe(1);
    expect(wrongCa.err).toMatch(/not signed by the authority/);
  });

  it("mirrors the log and catches a tampered entry, a removed entry, a rewritten history and a forged head", async () => {
    await issued(4);
    const mirror = join(dir, "mirror");
    const first = await cli(["mirror", "--cert", cert, "--url", URL_BASE, "--dir", mirror]);
    expect(first.err).toBe("");
    const held = JSON.parse(first.out) as { treeSize: number; added: number };
    expect(held.added).toBe(held.treeSize);
    await issued(2);
    const second = JSON.parse((await cli(["mirror", "--cert", cert, "--url", URL_BASE, "--dir", mirror])).out) as { treeSize: number; added: number };
    expect(second.added).toBe(2);
    expect(readFileSync(join(mirror, "checkpoint"), "utf8")).toBe(await (await h.app.request("/v1/log/checkpoint")).text());

    // A tampered entry: one byte of the last bundle changed.
    const flip = altered((path, real) =>
      path.startsWith("/v1/log/tile/entries/")
        ? real().then(async (r) => {
            const b = Buffer.from(await r.arrayBuffer());
            b.writeUInt8(b.readUInt8(b.length - 50) ^ 1, b.length - 50);
            return new Response(new Uint8Array(b));
          })
        : null,
    );
    const tampered = await cli(["mirror", "--cert", cert, "--url", URL_BASE, "--dir", join(dir, "m-tampered")], flip);
    expect(tampered.code).toBe(1);
    expect(tampered.err).toMatch(/not the signed/);

    // A removed entry: the bundle served without its first entry.
    const drop = altered((path, real) =>
      path.startsWith("/v1/log/tile/entries/") ? real().then(async (r) => new Response(new Uint8Array(encodeBundle(decodeBundle(Buffer.from(await r.arrayBuffer())).slice(1))))) : null,
    );
    const removed = await cli(["mirror", "--cert", cert, "--url", URL_BASE, "--dir", join(dir, "m-removed")], drop);
    expect(removed.code).toBe(1);
    expect(removed.err).toMatch(/removed/);

    // A rewritten history, signed with the log's own key: entry 1 changed, one entry added.
    const real = decodeBundle(Buffer.from(await (await h.app.request(`/v1/log/tile/entries/000.p/${second.treeSize}`)).arrayBuffer()));
    const e1 = decodeEntry(real[1]!);
    const forged = [real[0]!, encodeEntry({ ...e1, type: "cancelled" }), ...real.slice(2), encodeEntry({ ...e1, type: "cancelled", at: new Date() })];
    const f = new TileFrontier(0);
    for (const e of forged) f.append(leafHash(e));
    const forgedTiles = new Map(f.changedTiles().map((t) => [tileKey(t.level, t.n), t.hashes]));
    const src: TileSource = async (w) => new Map(w.map((t) => [tileKey(t.level, t.n), forgedTiles.get(tileKey(t.level, t.n))!]));
    const forgedHead = signNote(checkpointText({ origin: h.services.log!.origin, size: forged.length, root: await treeRoot(forged.length, src), extensions: [] }), h.services.log!.signer);
    const b64 = (xs: Buffer[]) => xs.map((x) => x.toString("base64"));
    // A consistent liar: its own checkpoint, entries and proofs, all of the second tree.
    const fork = altered(async (path) => {
      const q = new URL(path, URL_BASE).searchParams;
      if (path === "/v1/log/checkpoint") return new Response(forgedHead);
      if (path.startsWith("/v1/log/tile/entries/000")) return new Response(new Uint8Array(encodeBundle(forged.slice(0, Number(path.split(".p/")[1] ?? 256)))));
      if (path.startsWith("/v1/log/proof/consistency")) return Response.json({ proof: b64(await consistencyProof(Number(q.get("from")), Number(q.get("to") ?? forged.length), src)) });
      if (path.startsWith("/v1/log/proof/inclusion")) {
        const i = Number(q.get("index"));
        return Response.json({ leafIndex: i, treeSize: forged.length, proof: b64(await inclusionProof(i, forged.length, src)), entry: forged[i]!.toString("base64") });
      }
      return null;
    });
    const rewritten = await cli(["mirror", "--cert", cert, "--url", URL_BASE, "--dir", mirror], fork);
    expect(rewritten.code).toBe(1);
    expect(rewritten.err).toMatch(/rewrote its history/);
    // A client keeping the last head it saw (--state) catches the same second history.
    const state = join(dir, "fork-state");
    expect((await cli(["verify-inclusion", "--cert", cert, "--url", URL_BASE, "--index", "0", "--state", state])).code).toBe(0);
    const split = await cli(["verify-inclusion", "--cert", cert, "--url", URL_BASE, "--index", "0", "--state", state], fork);
    expect(split.code).toBe(1);
    expect(split.err).toMatch(/rewrote its history/);
    // And so does comparing two heads directly.
    writeFileSync(join(dir, "forged-head"), forgedHead);
    writeFileSync(join(dir, "real-head"), readFileSync(join(mirror, "checkpoint")));
    const cons = await cli(["verify-consistency", "--cert", cert, "--url", URL_BASE, "--from-checkpoint", join(dir, "real-head"), "--to-checkpoint", join(dir, "forged-head")], fork);
    expect(cons.code).toBe(1);
    expect(cons.err).toMatch(/rewrote its history/);
    expect((await cli(["verify-consistency", "--cert", cert, "--url", URL_BASE, "--from-checkpoint", join(dir, "real-head")])).code).toBe(0);

    // A forged head: the same origin, another key.
    const impostor = signerFromSeed(h.services.log!.origin, randomBytes(32));
    const fakeHead = signNote(checkpointText({ origin: impostor.name, size: 1, root: randomBytes(32), extensions: [] }), impostor);
    const forgedOnly = altered(async (path) => (path === "/v1/log/checkpoint" ? new Response(fakeHead) : null));
    const headForged = await cli(["mirror", "--cert", cert, "--url", URL_BASE, "--dir", mirror], forgedOnly);
    expect(headForged.code).toBe(1);
    expect(headForged.err).toMatch(/not a checkpoint signed by the log's key/);
    // The mirror still holds the genuine head.
    expect(readFileSync(join(mirror, "checkpoint"), "utf8")).toBe(readFileSync(join(dir, "real-head"), "utf8"));
  });
});
