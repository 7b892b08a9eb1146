/**
 * `hoadon log …`: checks the transparency log from outside, trusting nothing but the authority's
 * certificate (docs/transparency-log.md).
 *
 *   hoadon log verify-inclusion   --cert authority.pem (--url URL | --key key.json --proof proof.json)
 *                                 [--code CODE | --index N] [--state FILE]
 *   hoadon log verify-consistency --cert authority.pem (--url URL | --key key.json --proof proof.json)
 *                                 --from-checkpoint FILE [--to-checkpoint FILE]
 *   hoadon log mirror             --cert authority.pem --url URL --dir DIR
 *
 * The log's key comes from GET /v1/authority/log-key (or a saved copy, --key) and is used only if
 * the authority's signature over it verifies with the certificate. Every checkpoint must verify
 * with that key; every proof is checked (RFC 9162) against a verified checkpoint. --state keeps
 * the last checkpoint seen and requires each new one to be consistent with it (no rollback, no
 * second history); a mirror keeps the entries and tiles (C2SP tlog-tiles layout, servable as
 * is), recomputes the tree and requires the signed root. Exit 0: verified; 1: a check failed
 * (the reason on stderr); 2: bad usage.
 */
import { verify as cryptoVerify, X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { decodeBundle, decodeEntry, encodeBundle, tilePath } from "../tlog/entry.js";
import { HASH_SIZE, leafHash, TILE_WIDTH, TileFrontier, treeRoot, verifyConsistency, verifyInclusion } from "../tlog/merkle.js";
import { type Checkpoint, type NoteVerifier, openCheckpoint, parseVerifierKey } from "../tlog/note.js";
import type { CliIo } from "./io.js";

class Failed extends Error {}

const USAGE = `usage:
  hoadon log verify-inclusion   --cert authority.pem (--url URL | --key key.json --proof proof.json) [--code CODE | --index N] [--state FILE]
  hoadon log verify-consistency --cert authority.pem (--url URL | --key key.json --proof proof.json) --from-checkpoint FILE [--to-checkpoint FILE]
  hoadon log mirror             --cert authority.pem --url URL --dir DIR`;

const OPTIONS = {
  cert: { type: "string" },
  url: { type: "string" },
  key: { type: "string" },
  proof: { type: "string" },
  code: { type: "string" },
  index: { type: "string" },
  state: { type: "string" },
  "from-checkpoint": { type: "string" },
  "to-checkpoint": { type: "string" },
  dir: { type: "string" },
} as const;

export async function run(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  let opts: Record<string, string | undefined>;
  try {
    opts = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (e) {
    io.err(`hoadon log: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const commands: Record<string, (o: Record<string, string | undefined>, io: CliIo) => Promise<unknown>> = {
    "verify-inclusion": verifyInclusionCmd,
    "verify-consistency": verifyConsistencyCmd,
    mirror: mirrorCmd,
  };
  const command = sub ? commands[sub] : undefined;
  if (!command || !opts.cert || (!opts.url && !(opts.key && (opts.proof || sub === "mirror")))) {
    io.err(USAGE);
    return 2;
  }
  try {
    const result = await command(opts, io);
    io.out(JSON.stringify(result, null, 2));
    return 0;
  } catch (e) {
    io.err(`hoadon log ${sub}: ${e instanceof Failed ? "FAILED: " : ""}${(e as Error).message}`);
    return 1;
  }
}

// The log's key, vouched for by the authority ---------------------------------------------------

interface KeyStatement {
  origin: string;
  verifierKey: string;
  authoritySignature: string;
}

async function getJson<T>(io: CliIo, url: string): Promise<T> {
  const res = await io.fetch(url);
  if (!res.ok) throw new Failed(`${url}: HTTP ${res.status} ${await res.text().catch(() => "")}`.trim());
  return (await res.json()) as T;
}

async function getBytes(io: CliIo, url: string): Promise<Buffer> {
  const res = await io.fetch(url);
  if (!res.ok) throw new Failed(`${url}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

const base = (o: Record<string, string | undefined>) => o.url!.replace(/\/+$/, "");

/** The log's verifier key, only if the authority's signature over it verifies with the certificate. */
async function logKey(o: Record<string, string | undefined>, io: CliIo): Promise<NoteVerifier> {
  const cert = new X509Certificate(await readFile(o.cert!));
  const statement = o.key ? (JSON.parse(await readFile(o.key, "utf8")) as KeyStatement) : await getJson<KeyStatement>(io, `${base(o)}/v1/authority/log-key`);
  const signature = Buffer.from(statement.authoritySignature ?? "", "base64");
  if (!cryptoVerify("sha256", Buffer.from(`${statement.verifierKey}\n`, "utf8"), cert.publicKey, signature)) {
    throw new Failed("the log key is not signed by the authority's certificate");
  }
  const v = parseVerifierKey(statement.verifierKey);
  if (v.name !== statement.origin) throw new Failed("the log key's name is not the log's origin");
  return v;
}

function openHead(note: string, key: NoteVerifier, what: string): Checkpoint {
  try {
    return openCheckpoint(note, key);
  } catch (e) {
    throw new Failed(`${what}: not a checkpoint signed by the log's key (${(e as Error).message})`);
  }
}

async function latestHead(o: Record<string, string | undefined>, io: CliIo, key: NoteVerifier): Promise<{ note: string; head: Checkpoint }> {
  const res = await io.fetch(`${base(o)}/v1/log/checkpoint`);
  if (!res.ok) throw new Failed(`checkpoint: HTTP ${res.status}`);
  const note = await res.text();
  return { note, head: openHead(note, key, "the latest checkpoint") };
}

const b64 = (xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x, "base64"));

/** Requires `next` to extend `prev` (a consistency proof from the log, checked here). */
async function requireConsistent(o: Record<string, string | undefined>, io: CliIo, prev: Checkpoint, next: Checkpoint, proofFile?: { proof: string[] }): Promise<void> {
  if (prev.size > next.size) throw new Failed(`the log went back from size ${prev.size} to ${next.size}`);
  if (prev.size === next.size) {
    if (!prev.root.equals(next.root)) throw new Failed(`two different trees of size ${prev.size}: the log shows two histories`);
    return;
  }
  if (prev.size === 0) return;
  if (!proofFile && !o.url) throw new Failed("checking against the head kept needs --url (for the consistency proof)");
  const p = proofFile ?? (await getJson<{ proof: string[] }>(io, `${base(o)}/v1/log/proof/consistency?from=${prev.size}&to=${next.size}`));
  if (!verifyConsistency(prev.size, next.size, prev.root, next.root, b64(p.proof))) {
    throw new Failed(`the tree of size ${next.size} does not extend the tree of size ${prev.size}: the log rewrote its history`);
  }
}

// Subcommands ---------------------------------------------------------------------------------

interface InclusionAnswer {
  leafIndex: number;
  treeSize: number;
  proof: string[];
  entry: string;
  checkpoint?: string;
}

async function verifyInclusionCmd(o: Record<string, string | undefined>, io: CliIo) {
  const key = await logKey(o, io);
  let note: string;
  let answer: InclusionAnswer;
  if (o.proof) {
    answer = JSON.parse(await readFile(o.proof, "utf8")) as InclusionAnswer;
    if (!answer.checkpoint) throw new Failed("the proof file carries no checkpoint");
    note = answer.checkpoint;
  } else {
    if (!o.code && o.index === undefined) throw new Failed("give --code or --index");
    ({ note } = await latestHead(o, io, key));
    const latest = openHead(note, key, "the latest checkpoint");
    // The head first: it must extend the last one this client saw.
    await keepState(o, io, key, latest, note);
    const size = latest.size;
    const query = o.code ? `code=${encodeURIComponent(o.code)}` : `index=${encodeURIComponent(o.index!)}`;
    answer = await getJson<InclusionAnswer>(io, `${base(o)}/v1/log/proof/inclusion?${query}&size=${size}`);
  }
  const head = openHead(note, key, "the checkpoint");
  if (answer.treeSize !== head.size) throw new Failed(`the proof is for size ${answer.treeSize}, the checkpoint for ${head.size}`);
  const entryBytes = Buffer.from(answer.entry, "base64");
  if (!verifyInclusion(leafHash(entryBytes), answer.leafIndex, head.size, b64(answer.proof), head.root)) {
    throw new Failed(`entry ${answer.leafIndex} is not in the signed tree of size ${head.size} (the entry or the proof was altered)`);
  }
  const entry = decodeEntry(entryBytes);
  if (o.code && entry.code !== o.code.toUpperCase()) throw new Failed(`leaf ${answer.leafIndex} is of code ${entry.code}, not ${o.code}`);
  if (o.index !== undefined && answer.leafIndex !== Number(o.index)) throw new Failed(`the proof is of leaf ${answer.leafIndex}, not ${o.index}`);
  if (o.proof) await keepState(o, io, key, head, note);
  return { verified: true, origin: head.origin, treeSize: head.size, rootHash: head.root.toString("base64"), leafIndex: answer.leafIndex, entry: { ...entry, at: entry.at.toISOString() } };
}

/** --state: the last checkpoint seen; a new one must extend it. */
async function keepState(o: Record<string, string | undefined>, io: CliIo, key: NoteVerifier, head: Checkpoint, note: string): Promise<void> {
  if (!o.state) return;
  if (existsSync(o.state)) {
    const prev = openHead(await readFile(o.state, "utf8"), key, `${o.state}`);
    if (prev.size > head.size) {
      // An older head than the one kept: it must be a prefix of it.
      await requireConsistent(o, io, head, prev);
      return;
    }
    await requireConsistent(o, io, prev, head);
  }
  await atomicWrite(o.state, note);
}

async function verifyConsistencyCmd(o: Record<string, string | undefined>, io: CliIo) {
  const key = await logKey(o, io);
  if (!o["from-checkpoint"]) throw new Failed("give --from-checkpoint");
  const from = openHead(await readFile(o["from-checkpoint"], "utf8"), key, o["from-checkpoint"]);
  const to = o["to-checkpoint"] ? openHead(await readFile(o["to-checkpoint"], "utf8"), key, o["to-checkpoint"]) : (await latestHead(o, io, key)).head;
  const proofFile = o.proof ? (JSON.parse(await readFile(o.proof, "utf8")) as { proof: string[] }) : undefined;
  if (from.size <= to.size) await requireConsistent(o, io, from, to, proofFile);
  else await requireConsistent(o, io, to, from, proofFile);
  return { verified: true, origin: from.origin, from: from.size, to: to.size };
}

/**
 * Copies the log into DIR in the C2SP tlog-tiles layout (checkpoint, tile/entries/…, tile/<L>/…),
 * computing every hash itself from the entries: the signed root must come out, and a checkpoint
 * already held must be a prefix of the new one (its entries unchanged).
 */
async function mirrorCmd(o: Record<string, string | undefined>, io: CliIo) {
  if (!o.dir || !o.url) throw new Failed("give --url and --dir");
  const dir = o.dir;
  const key = await logKey(o, io);
  const { note, head } = await latestHead(o, io, key);
  const heldPath = join(dir, "checkpoint");
  const held = existsSync(heldPath) ? openHead(await readFile(heldPath, "utf8"), key, heldPath) : null;
  const from = held?.size ?? 0;
  if (from > head.size) throw new Failed(`the log went back from size ${from} (held) to ${head.size}`);
  if (held && from === head.size && !held.root.equals(head.root)) throw new Failed(`two different trees of size ${from}: the log shows two histories`);

  // The frontier of the tree held, from the tiles held (their hashes were computed here).
  const frontier = new TileFrontier(from);
  for (const t of TileFrontier.edgeTiles(from)) {
    const width = Math.floor(from / TILE_WIDTH ** t.level) % TILE_WIDTH;
    frontier.load(t.level, t.n, await readFile(join(dir, tilePath(t.level, t.n, width))));
  }
  if (held && !(await treeRoot(from, frontier.source())).equals(held.root)) throw new Failed(`the tiles in ${dir} do not give the root of the checkpoint held`);

  let added = 0;
  for (let n = Math.floor(from / TILE_WIDTH); n * TILE_WIDTH < head.size; n++) {
    const width = Math.min(TILE_WIDTH, head.size - n * TILE_WIDTH);
    const bytes = await getBytes(io, `${base(o)}/v1/log/${tilePath("entries", n, width)}`);
    let entries: Buffer[];
    try {
      entries = decodeBundle(bytes);
    } catch (e) {
      throw new Failed(`entry bundle ${n}: ${(e as Error).message}`);
    }
    if (entries.length !== width) throw new Failed(`entry bundle ${n} holds ${entries.length} entries, the signed tree has ${width} there (an entry was removed or added)`);
    const start = n * TILE_WIDTH;
    // Entries already held must come back unchanged.
    const keep = Math.max(0, from - start);
    if (keep > 0) {
      const mine = decodeBundle(await readFile(join(dir, tilePath("entries", n, keep))));
      for (let k = 0; k < keep; k++) {
        if (!mine[k]!.equals(entries[k]!)) throw new Failed(`entry ${start + k} differs from the copy held: the log rewrote its history`);
      }
    }
    for (let k = keep; k < width; k++) {
      frontier.append(leafHash(entries[k]!));
      added++;
    }
    await atomicWrite(join(dir, tilePath("entries", n, width)), encodeBundle(entries));
  }
  const root = await treeRoot(head.size, frontier.source());
  if (!root.equals(head.root)) throw new Failed(`the entries served give root ${root.toString("base64")}, not the signed ${head.root.toString("base64")} (an entry was altered, removed or added)`);
  for (const t of frontier.changedTiles()) {
    const width = t.hashes.length / HASH_SIZE;
    await atomicWrite(join(dir, tilePath(t.level, t.n, width)), t.hashes);
  }
  await atomicWrite(heldPath, note);
  return { verified: true, origin: head.origin, treeSize: head.size, rootHash: head.root.toString("base64"), added };
}

async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
