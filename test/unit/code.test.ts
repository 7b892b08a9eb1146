/**
 * The tax authority's code (MCCQT, invoice-format.md §5): its form, that it reveals nothing of
 * the transaction number, that it authenticates exactly the invoice identity it was made for,
 * that codes of the earlier clear layout still verify, and that the issuer never hands out a
 * number twice.
 */
import { createDecipheriv, createHmac, randomBytes, randomInt } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CODE_PATTERN, type CodeIdentity, CodeIssuer, isAuthenticCode, MAX_TRANSACTION, makeClearCode, makeCode, openCode } from "../../src/domain/code.js";
import { nextNumber, randomTaxCode } from "../helpers/invoice.js";

const secret = () => new Uint8Array(randomBytes(32));

function identity(over: Partial<CodeIdentity> = {}): CodeIdentity {
  return {
    sellerTaxCode: randomTaxCode(),
    form: "1",
    symbol: "C26TAA",
    number: nextNumber(),
    issueDate: "2026-11-22",
    totalPayable: "3790000",
    digest: randomBytes(32).toString("base64"),
    ...over,
  };
}

/** A copy of the code with the hex digit at `i` changed to another hex digit. */
function flipDigit(code: string, i: number): string {
  const d = Number.parseInt(code[i]!, 16);
  return code.slice(0, i) + ((d + 1) % 16).toString(16).toUpperCase() + code.slice(i + 1);
}

describe("makeCode", () => {
  it("makes 34 upper-case hex characters starting with the issuer id", () => {
    const code = makeCode(secret(), "0A", 12345n, identity());
    expect(code).toMatch(/^[0-9A-F]{34}$/);
    expect(code).toMatch(CODE_PATTERN);
    expect(code.slice(0, 2)).toBe("0A");
  });

  it("hides the transaction number: consecutive numbers give codes with no digit in common position beyond chance", () => {
    const s = secret();
    const id = identity();
    const codes = Array.from({ length: 256 }, (_, i) => makeCode(s, "7F", BigInt(i), id).slice(2));
    // In the clear layout the first 12 of these 32 digits were "000000000000" for every code.
    // Enciphered, each position takes each hex digit about 16 times in 256 codes.
    for (let pos = 0; pos < 32; pos++) {
      const counts = new Map<string, number>();
      for (const c of codes) counts.set(c[pos]!, (counts.get(c[pos]!) ?? 0) + 1);
      expect(Math.max(...counts.values()), `position ${pos}`).toBeLessThan(40); // P(≥ 40 of 256 at 1/16) < 1e-6
    }
    expect(codes.some((c) => c.startsWith("000000"))).toBe(false);
  });

  it("enciphers (transaction ‖ MAC) as one AES-128 block under a key derived from the secret and the issuer", () => {
    // An independent reading of the construction the module's comment states.
    const s = secret();
    const id = identity();
    const code = makeCode(s, "3C", 0x1234_5678_9abcn, id);
    const key = createHmac("sha256", s).update("hoadon/mccqt/aes-128/v2\u0000" + "3C").digest().subarray(0, 16);
    const d = createDecipheriv("aes-128-ecb", key, null).setAutoPadding(false);
    const block = Buffer.concat([d.update(Buffer.from(code.slice(2), "hex")), d.final()]);
    expect(block.subarray(0, 7).toString("hex")).toBe("00123456789abc");
    const clear = makeClearCode(s, "3C", 0x1234_5678_9abcn, id);
    // The MAC inside is the clear layout's MAC: the same 72 bits, only enciphered.
    expect(block.subarray(7).toString("hex").toUpperCase()).toBe(clear.slice(16));
  });

  it("accepts the whole transaction range and refuses beyond it", () => {
    const s = secret();
    const id = identity();
    for (const t of [0n, 1n, MAX_TRANSACTION]) {
      const code = makeCode(s, "00", t, id);
      expect(code).toMatch(/^00[0-9A-F]{32}$/);
      expect(openCode(s, code)!.transaction).toBe(t);
      expect(isAuthenticCode(s, code, id)).toBe(true);
    }
    expect(() => makeCode(s, "00", MAX_TRANSACTION + 1n, id)).toThrow();
    expect(() => makeCode(s, "00", -1n, id)).toThrow();
  });

  it("refuses an issuer id that is not two upper-case hex characters", () => {
    for (const bad of ["0a", "G1", "0", "000", ""]) expect(() => makeCode(secret(), bad, 1n, identity())).toThrow();
  });

  it("is deterministic for the same secret, number and identity, and differs for another number", () => {
    const s = secret();
    const id = identity();
    expect(makeCode(s, "00", 42n, id)).toBe(makeCode(s, "00", 42n, { ...id }));
    expect(makeCode(s, "00", 43n, id)).not.toBe(makeCode(s, "00", 42n, id));
  });
});

describe("isAuthenticCode", () => {
  it("accepts the code for the identity it was made for", () => {
    const s = secret();
    const id = identity();
    const code = makeCode(s, "0A", BigInt(randomInt(1, 2 ** 40)), id);
    expect(isAuthenticCode(s, code, id)).toBe(true);
    expect(isAuthenticCode(s, code, { ...id })).toBe(true);
  });

  const changes: [keyof CodeIdentity, (id: CodeIdentity) => CodeIdentity][] = [
    ["sellerTaxCode", (id) => ({ ...id, sellerTaxCode: randomTaxCodeOtherThan(id.sellerTaxCode) })],
    ["form", (id) => ({ ...id, form: "2" })],
    ["symbol", (id) => ({ ...id, symbol: "C26TAB" })],
    ["number", (id) => ({ ...id, number: id.number + 1 })],
    ["issueDate", (id) => ({ ...id, issueDate: "2026-11-23" })],
    ["totalPayable", (id) => ({ ...id, totalPayable: "3790001" })],
    ["digest", (id) => ({ ...id, digest: randomBytes(32).toString("base64") })],
  ];
  for (const [field, change] of changes) {
    it(`refuses the code when only ${field} changes`, () => {
      const s = secret();
      const id = identity();
      const code = makeCode(s, "0A", 7n, id);
      const changed = change(id);
      expect(changed[field]).not.toEqual(id[field]);
      expect(isAuthenticCode(s, code, changed)).toBe(false);
    });
  }

  it("covers all seven identity fields (the list above is complete)", () => {
    expect(changes.map(([f]) => f).sort()).toEqual(Object.keys(identity()).sort());
  });

  it("refuses the code when any one of its 34 hex digits changes", () => {
    const s = secret();
    const id = identity();
    const code = makeCode(s, "0A", 123456789n, id);
    for (let i = 0; i < 34; i++) {
      const forged = flipDigit(code, i);
      expect(forged).not.toBe(code);
      expect(isAuthenticCode(s, forged, id), `digit ${i}`).toBe(false);
    }
  });

  it("refuses the code under another secret", () => {
    const id = identity();
    const code = makeCode(secret(), "0A", 99n, id);
    expect(isAuthenticCode(secret(), code, id)).toBe(false);
  });

  it("refuses the code in lower case, shortened, lengthened, or not hex at all", () => {
    const s = secret();
    const id = identity();
    const code = makeCode(s, "0A", 5n, id);
    for (const bad of [code.toLowerCase(), code.slice(0, 33), code + "0", code.replace(/.$/, "G"), "", " ".repeat(34)]) {
      expect(isAuthenticCode(s, bad, id), bad).toBe(false);
    }
  });

  it("keeps identity fields apart: moving characters from one field to the next does not authenticate", () => {
    const s = secret();
    const id = identity({ form: "1", symbol: "C26TAA" });
    const code = makeCode(s, "0A", 11n, id);
    expect(isAuthenticCode(s, code, { ...id, form: "1C", symbol: "26TAA" })).toBe(false);
    expect(isAuthenticCode(s, code, { ...id, issueDate: id.issueDate + id.totalPayable[0], totalPayable: id.totalPayable.slice(1) })).toBe(false);
  });
});

function randomTaxCodeOtherThan(tc: string): string {
  for (;;) {
    const other = randomTaxCode();
    if (other !== tc) return other;
  }
}

describe("openCode", () => {
  it("gives back the issuer and transaction number with the secret, and nothing readable without it", () => {
    const s = secret();
    const code = makeCode(s, "C3", 0x1234_5678_9abcn, identity());
    expect(openCode(s, code)).toMatchObject({ issuer: "C3", transaction: 0x1234_5678_9abcn });
    expect(openCode(secret(), code)!.transaction).not.toBe(0x1234_5678_9abcn);
  });

  it("answers null for anything but 34 upper-case hex characters", () => {
    const s = secret();
    const upper = "00B7ED1EE40D31479DAE6D8235E8549FB";
    for (const bad of ["", "00", "00b7ed1ee40d31479dae6d8235e8549fb3", upper, `${upper}30`, `${upper}Z`, `${upper}\n`]) {
      expect(openCode(s, bad), JSON.stringify(bad)).toBeNull();
    }
  });
});

describe("codes of the earlier clear layout", () => {
  it("keep verifying: a code made by the old function (transaction number in clear) authenticates its identity", () => {
    const s = secret();
    const id = identity();
    const old = makeClearCode(s, "0A", 0x19d81n, id);
    expect(old.slice(0, 16)).toBe("0A00000000019D81");
    expect(isAuthenticCode(s, old, id)).toBe(true);
    expect(isAuthenticCode(s, old, { ...id, totalPayable: "1" })).toBe(false);
    expect(isAuthenticCode(secret(), old, id)).toBe(false);
    for (let i = 0; i < 34; i++) expect(isAuthenticCode(s, flipDigit(old, i), id), `digit ${i}`).toBe(false);
  });

  it("are never issued any more: the issuer's codes do not carry their number in clear", async () => {
    const s = secret();
    const r = countingReserve({ start: 1n });
    const issuer = new CodeIssuer("0A", s, r.reserve, 100);
    const id = identity();
    const code = await issuer.issue(id);
    expect(code).not.toBe(makeClearCode(s, "0A", 1n, id));
    expect(code.slice(2, 16)).not.toBe("00000000000001");
    expect(openCode(s, code)!.transaction).toBe(1n);
  });
});

describe("properties", () => {
  const s = secret();
  const txn = fc.bigInt({ min: 0n, max: MAX_TRANSACTION });
  const issuerArb = fc.integer({ min: 0, max: 255 }).map((n) => n.toString(16).toUpperCase().padStart(2, "0"));

  it("distinct transaction numbers of one issuer give distinct codes, whatever the identities", () => {
    fc.assert(
      fc.property(issuerArb, txn, txn, fc.boolean(), (issuer, a, b, sameId) => {
        fc.pre(a !== b);
        const idA = identity();
        const idB = sameId ? idA : identity();
        expect(makeCode(s, issuer, a, idA)).not.toBe(makeCode(s, issuer, b, idB));
      }),
      { numRuns: 500 },
    );
  });

  it("each code opens to its own transaction number (the mapping is one-to-one)", () => {
    fc.assert(
      fc.property(issuerArb, txn, (issuer, t) => {
        expect(openCode(s, makeCode(s, issuer, t, identity()))).toMatchObject({ issuer, transaction: t });
      }),
      { numRuns: 300 },
    );
  });

  it("changing any character of a code to any other hex digit makes it refused, in either layout", () => {
    fc.assert(
      fc.property(issuerArb, txn, fc.integer({ min: 0, max: 33 }), fc.integer({ min: 1, max: 15 }), fc.boolean(), (issuer, t, pos, delta, clear) => {
        const id = identity();
        const code = (clear ? makeClearCode : makeCode)(s, issuer, t, id);
        expect(isAuthenticCode(s, code, id)).toBe(true);
        const d = (Number.parseInt(code[pos]!, 16) + delta) % 16;
        const forged = code.slice(0, pos) + d.toString(16).toUpperCase() + code.slice(pos + 1);
        expect(forged).not.toBe(code);
        expect(isAuthenticCode(s, forged, id)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});

/** A reserve function like the store's: disjoint blocks from a counter, after a delay; counts its calls. */
function countingReserve(opts: { stride?: number; delayMs?: number; start?: bigint } = {}) {
  const stride = BigInt(opts.stride ?? 1024);
  let next = opts.start ?? 1n;
  const calls: { size: number; first: bigint }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const reserve = async (size: number): Promise<bigint> => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, opts.delayMs ?? 2));
    const first = next;
    next += stride;
    calls.push({ size, first });
    inFlight--;
    return first;
  };
  return { reserve, calls, maxInFlight: () => maxInFlight };
}



describe("CodeIssuer", () => {
  const issuerSecret = secret();
  const transactionOf = (code: string) => openCode(issuerSecret, code)!.transaction;
  it("hands out 5,000 distinct codes to concurrent callers, reserving only the blocks it needs, one at a time", async () => {
    const s = issuerSecret;
    const r = countingReserve();
    const issuer = new CodeIssuer("0A", s, r.reserve, 1000);
    const ids = Array.from({ length: 5000 }, () => identity());
    const codes = await Promise.all(ids.map((id) => issuer.issue(id)));
    expect(new Set(codes).size).toBe(5000);
    const txns = codes.map(transactionOf);
    expect(new Set(txns).size).toBe(5000);
    // 5,000 numbers in blocks of 1,000: exactly five reservations, never two at once.
    expect(r.calls).toHaveLength(5);
    expect(r.calls.every((c) => c.size === 1000)).toBe(true);
    expect(r.maxInFlight()).toBe(1);
    // Every number comes from a reserved block.
    for (const t of txns) expect(r.calls.some((c) => t >= c.first && t < c.first + 1000n)).toBe(true);
    codes.forEach((code, i) => {
      expect(code.startsWith("0A")).toBe(true);
      expect(isAuthenticCode(s, code, ids[i]!)).toBe(true);
    });
  });

  it("gives distinct codes to the same identity issued many times at once", async () => {
    const r = countingReserve();
    const issuer = new CodeIssuer("0A", issuerSecret, r.reserve, 100);
    const id = identity();
    const codes = await Promise.all(Array.from({ length: 1000 }, () => issuer.issue(id)));
    expect(new Set(codes).size).toBe(1000);
    expect(r.calls).toHaveLength(10);
  });

  it("shares one pending reservation among callers that arrive while it is in flight", async () => {
    const r = countingReserve({ delayMs: 20 });
    const issuer = new CodeIssuer("0A", issuerSecret, r.reserve, 1000);
    const codes = await Promise.all(Array.from({ length: 50 }, () => issuer.issue(identity())));
    expect(r.calls).toHaveLength(1);
    expect(new Set(codes.map(transactionOf)).size).toBe(50);
  });

  it("reserves nothing before the first code, then once per exhausted block", async () => {
    const r = countingReserve();
    const issuer = new CodeIssuer("0A", issuerSecret, r.reserve, 10);
    expect(r.calls).toHaveLength(0);
    await issuer.issue(identity());
    expect(r.calls).toHaveLength(1);
    for (let i = 1; i < 10; i++) await issuer.issue(identity());
    expect(r.calls).toHaveLength(1);
    await issuer.issue(identity());
    expect(r.calls).toHaveLength(2);
  });

  it("uses the numbers of a block in order and jumps to the next block's first number", async () => {
    const r = countingReserve({ stride: 1024, start: 1n });
    const issuer = new CodeIssuer("0A", issuerSecret, r.reserve, 3);
    const txns: bigint[] = [];
    for (let i = 0; i < 7; i++) txns.push(transactionOf(await issuer.issue(identity())));
    expect(txns).toEqual([1n, 2n, 3n, 1025n, 1026n, 1027n, 2049n]);
  });

  it("never reuses a number after a failed reservation: callers see the error and the next call reserves afresh", async () => {
    let fail = false;
    const r = countingReserve({ stride: 1000 });
    const reserve = async (size: number) => {
      if (fail) throw new Error("database down");
      return r.reserve(size);
    };
    const issuer = new CodeIssuer("0A", issuerSecret, reserve, 5);
    const before = await Promise.all(Array.from({ length: 5 }, () => issuer.issue(identity())));
    fail = true;
    const failed = await Promise.allSettled(Array.from({ length: 3 }, () => issuer.issue(identity())));
    expect(failed.every((f) => f.status === "rejected")).toBe(true);
    fail = false;
    const after = await Promise.all(Array.from({ length: 8 }, () => issuer.issue(identity())));
    const all = [...before, ...after].map(transactionOf);
    expect(new Set(all).size).toBe(13);
    expect(r.calls).toHaveLength(3);
  });

  it("keeps two issuers that share a reserve function apart", async () => {
    const r = countingReserve();
    const s = issuerSecret;
    const a = new CodeIssuer("0A", s, r.reserve, 100);
    const b = new CodeIssuer("0A", s, r.reserve, 100);
    const codes = await Promise.all(Array.from({ length: 500 }, (_, i) => (i % 2 ? a : b).issue(identity())));
    expect(new Set(codes.map(transactionOf)).size).toBe(500);
  });
});
