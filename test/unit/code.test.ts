/**
 * The tax authority's code (MCCQT, invoice-format.md §5): its form, that it authenticates exactly
 * the invoice identity it was made for, and that the issuer never hands out a number twice.
 */
import { randomBytes, randomInt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CODE_PATTERN, CodeIssuer, isAuthenticCode, makeCode, MAX_TRANSACTION, parseCode, type CodeIdentity } from "../../src/domain/code.js";
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

  it("writes the transaction number after the issuer id", () => {
    const code = makeCode(secret(), "7F", 0xabcdefn, identity());
    expect(code.slice(0, 16)).toBe("7F00000000ABCDEF");
  });

  it("accepts the whole transaction range and refuses beyond it", () => {
    const s = secret();
    const id = identity();
    expect(makeCode(s, "00", 0n, id)).toMatch(/^0000000000000000[0-9A-F]{18}$/);
    expect(makeCode(s, "00", MAX_TRANSACTION, id)).toMatch(/^00FFFFFFFFFFFFFF[0-9A-F]{18}$/);
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

describe("parseCode", () => {
  it("splits a code into issuer, transaction number and MAC", () => {
    const id = identity();
    const code = makeCode(secret(), "C3", 0x1234_5678_9abcn, id);
    const parts = parseCode(code);
    expect(parts).not.toBeNull();
    expect(parts!.issuer).toBe("C3");
    expect(parts!.transaction).toBe(0x1234_5678_9abcn);
    expect(parts!.mac).toBe(code.slice(16));
    expect(parts!.mac).toMatch(/^[0-9A-F]{18}$/);
    expect(parts!.issuer + code.slice(2, 16) + parts!.mac).toBe(code);
  });

  it("reads the production example of invoice-format.md §5", () => {
    expect(parseCode("00B7ED1EE40D31479DAE6D8235E8549FB3")).toEqual({ issuer: "00", transaction: 0xb7ed1ee40d3147n, mac: "9DAE6D8235E8549FB3" });
  });

  it("answers null for anything but 34 upper-case hex characters", () => {
    for (const bad of ["", "00", "00b7ed1ee40d31479dae6d8235e8549fb3", "00B7ED1EE40D31479DAE6D8235E8549FB", "00B7ED1EE40D31479DAE6D8235E8549FB30", "00B7ED1EE40D31479DAE6D8235E8549FBZ", "00B7ED1EE40D31479DAE6D8235E8549FB\n"]) {
      expect(parseCode(bad), JSON.stringify(bad)).toBeNull();
    }
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

const transactionOf = (code: string) => parseCode(code)!.transaction;

describe("CodeIssuer", () => {
  it("hands out 5,000 distinct codes to concurrent callers, reserving only the blocks it needs, one at a time", async () => {
    const s = secret();
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
    const issuer = new CodeIssuer("0A", secret(), r.reserve, 100);
    const id = identity();
    const codes = await Promise.all(Array.from({ length: 1000 }, () => issuer.issue(id)));
    expect(new Set(codes).size).toBe(1000);
    expect(r.calls).toHaveLength(10);
  });

  it("shares one pending reservation among callers that arrive while it is in flight", async () => {
    const r = countingReserve({ delayMs: 20 });
    const issuer = new CodeIssuer("0A", secret(), r.reserve, 1000);
    const codes = await Promise.all(Array.from({ length: 50 }, () => issuer.issue(identity())));
    expect(r.calls).toHaveLength(1);
    expect(new Set(codes.map(transactionOf)).size).toBe(50);
  });

  it("reserves nothing before the first code, then once per exhausted block", async () => {
    const r = countingReserve();
    const issuer = new CodeIssuer("0A", secret(), r.reserve, 10);
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
    const issuer = new CodeIssuer("0A", secret(), r.reserve, 3);
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
    const issuer = new CodeIssuer("0A", secret(), reserve, 5);
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
    const s = secret();
    const a = new CodeIssuer("0A", s, r.reserve, 100);
    const b = new CodeIssuer("0A", s, r.reserve, 100);
    const codes = await Promise.all(Array.from({ length: 500 }, (_, i) => (i % 2 ? a : b).issue(identity())));
    expect(new Set(codes.map(transactionOf)).size).toBe(500);
  });
});
