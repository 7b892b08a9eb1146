/**
 * C2SP signed-note (Ed25519, signature type 0x01) and C2SP tlog-checkpoint, in the text formats
 * of the Go checksum database (golang.org/x/mod/sumdb/note) so that its tooling reads them:
 *
 *   key ID       = SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4], big-endian
 *   verifier key = <name>+<key ID, 8 hex digits>+<base64(0x01 || public key)>
 *   signer key   = PRIVATE+KEY+<name>+<key ID>+<base64(0x01 || 32-byte seed)>
 *   signed note  = text (ending in \n) || \n || "— <name> <base64(key ID || signature)>\n"…
 *   checkpoint   = origin \n size \n base64(root) \n [extension lines]
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { sha256 } from "./merkle.js";

const ED25519 = 0x01;
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class NoteError extends Error {
  override readonly name = "NoteError";
}

/** Key names: non-empty, no Unicode spaces, no plus (signed-note "Format"). */
export function checkKeyName(name: string): string {
  if (name.length === 0 || /[\s+\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u.test(name) || /[\x00-\x1f]/.test(name)) {
    throw new NoteError(`key name ${JSON.stringify(name)}: must be non-empty, without spaces, plus signs or control characters`);
  }
  return name;
}

function b64(s: string, what: string): Buffer {
  if (!B64.test(s) || s.length % 4 !== 0) throw new NoteError(`${what}: not standard base64`);
  return Buffer.from(s, "base64");
}

export const keyId = (name: string, publicKey: Uint8Array): number => sha256(Buffer.from(`${name}\n`, "utf8"), Buffer.from([ED25519]), publicKey).readUInt32BE(0);
const hex8 = (id: number): string => id.toString(16).padStart(8, "0");

export interface NoteVerifier {
  name: string;
  id: number;
  publicKey: Buffer;
  key: KeyObject;
  /** The verifier key text (name+id+base64). */
  text: string;
}

export interface NoteSigner extends NoteVerifier {
  sign(message: Uint8Array): Buffer;
  /** The signer key text (PRIVATE+KEY+…): a secret. */
  secretText: string;
}

export function ed25519PublicKey(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== 32) throw new NoteError("an Ed25519 public key is 32 bytes");
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: "der", type: "spki" });
}

export function verifierFromKey(name: string, publicKey: Uint8Array): NoteVerifier {
  checkKeyName(name);
  const id = keyId(name, publicKey);
  return { name, id, publicKey: Buffer.from(publicKey), key: ed25519PublicKey(publicKey), text: `${name}+${hex8(id)}+${Buffer.concat([Buffer.from([ED25519]), publicKey]).toString("base64")}` };
}

/** Parses a verifier key (as golang.org/x/mod/sumdb/note.NewVerifier). */
export function parseVerifierKey(text: string): NoteVerifier {
  const m = /^([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(text.trim());
  if (!m) throw new NoteError("verifier key: not name+hash+key");
  const raw = b64(m[3]!, "verifier key");
  if (raw.length !== 33 || raw[0] !== ED25519) throw new NoteError("verifier key: not an Ed25519 key (type 0x01, 32 bytes)");
  const v = verifierFromKey(m[1]!, raw.subarray(1));
  if (hex8(v.id) !== m[2]) throw new NoteError("verifier key: the key hash does not match the name and key");
  return v;
}

export function signerFromSeed(name: string, seed: Uint8Array): NoteSigner {
  if (seed.length !== 32) throw new NoteError("an Ed25519 seed is 32 bytes");
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
  const spki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  const v = verifierFromKey(name, spki.subarray(spki.length - 32));
  return {
    ...v,
    sign: (message) => sign(null, message, privateKey),
    secretText: `PRIVATE+KEY+${name}+${hex8(v.id)}+${Buffer.concat([Buffer.from([ED25519]), seed]).toString("base64")}`,
  };
}

/** Parses a signer key (as golang.org/x/mod/sumdb/note.NewSigner). */
export function parseSignerKey(text: string): NoteSigner {
  const m = /^PRIVATE\+KEY\+([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(text.trim());
  if (!m) throw new NoteError("signer key: not PRIVATE+KEY+name+hash+key");
  const raw = b64(m[3]!, "signer key");
  if (raw.length !== 33 || raw[0] !== ED25519) throw new NoteError("signer key: not an Ed25519 seed (type 0x01, 32 bytes)");
  const s = signerFromSeed(m[1]!, raw.subarray(1));
  if (hex8(s.id) !== m[2]) throw new NoteError("signer key: the key hash does not match the name and key");
  return s;
}

function checkText(text: string): void {
  if (!text.endsWith("\n")) throw new NoteError("note text must end in a newline");
  if (/[\x00-\x09\x0b-\x1f]/.test(text)) throw new NoteError("note text carries a control character");
}

/** Signs a note text with each signer: the text, a blank line, one signature line each. */
export function signNote(text: string, ...signers: NoteSigner[]): string {
  checkText(text);
  const message = Buffer.from(text, "utf8");
  const lines = signers.map((s) => {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(s.id);
    return `— ${s.name} ${Buffer.concat([id, s.sign(message)]).toString("base64")}\n`;
  });
  return `${text}\n${lines.join("")}`;
}

export interface OpenedNote {
  text: string;
  /** Names of the trusted keys whose signatures verified. */
  verifiedBy: string[];
}

/**
 * Opens a signed note (as sumdb/note.Open): the text is trusted only if a signature of one of
 * `verifiers` verifies; a signature of a known key that fails rejects the whole note; others'
 * signatures are ignored.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  if (note.length > 1_000_000) throw new NoteError("note too large");
  if (/[\x00-\x09\x0b-\x1f]/.test(note) || !note.endsWith("\n")) throw new NoteError("malformed note");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new NoteError("malformed note: no blank line before the signatures");
  const text = note.slice(0, split + 1);
  const sigLines = note.slice(split + 2, -1).split("\n");
  if (sigLines.length === 0 || sigLines.length > 100) throw new NoteError("malformed note: signatures");
  const message = Buffer.from(text, "utf8");
  const verifiedBy: string[] = [];
  for (const line of sigLines) {
    const m = /^— (\S+) ([A-Za-z0-9+/=]+)$/u.exec(line);
    if (!m || m[1]!.includes("+")) throw new NoteError("malformed note: a signature line");
    const raw = b64(m[2]!, "signature");
    if (raw.length < 5) throw new NoteError("malformed note: a signature is too short");
    const id = raw.readUInt32BE(0);
    const v = verifiers.find((k) => k.name === m[1] && k.id === id);
    if (!v) continue;
    if (!verify(null, message, v.key, raw.subarray(4))) throw new NoteError(`invalid signature for key ${v.name}+${hex8(v.id)}`);
    if (!verifiedBy.includes(v.name)) verifiedBy.push(v.name);
  }
  if (verifiedBy.length === 0) throw new NoteError("note has no verifiable signatures");
  return { text, verifiedBy };
}

// Checkpoints (C2SP tlog-checkpoint) ---------------------------------------------------------

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
  extensions: string[];
}

export function checkpointText(c: Checkpoint): string {
  if (c.origin.length === 0 || c.origin.includes("\n")) throw new NoteError("checkpoint origin must be one non-empty line");
  if (c.root.length !== 32) throw new NoteError("checkpoint root must be 32 bytes");
  return [c.origin, String(c.size), c.root.toString("base64"), ...c.extensions].join("\n") + "\n";
}

export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split("\n");
  if (lines.pop() !== "" || lines.length < 3 || lines.some((l) => l === "")) throw new NoteError("checkpoint: not three or more non-empty lines");
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine))) throw new NoteError("checkpoint: the size is not a decimal without leading zeroes");
  const root = b64(rootLine, "checkpoint root");
  if (root.length !== 32) throw new NoteError("checkpoint: the root hash is not 32 bytes");
  return { origin, size: Number(sizeLine), root, extensions };
}

/** Opens a signed checkpoint: the signature of `verifier` must verify and the origin must be its name. */
export function openCheckpoint(note: string, verifier: NoteVerifier): Checkpoint {
  const { text } = openNote(note, [verifier]);
  const c = parseCheckpoint(text);
  if (c.origin !== verifier.name) throw new NoteError(`checkpoint: origin ${JSON.stringify(c.origin)} is not the log's name ${JSON.stringify(verifier.name)}`);
  return c;
}
