/**
 * DLQRCode: EMVCo data objects with template 99 and a CRC-16/CCITT-FALSE, built and read back;
 * the QR image drawn from it.
 */
import { describe, expect, it } from "vitest";
import { buildQrPayload, buyerCheckUrl, crc16, parseQrPayload, publicBase, QR_GUID, type QrInvoice, readPastedCode } from "../../src/domain/qr.js";
import { qrDataUrl, qrMatrix, qrSvg } from "../../src/web/qr-image.js";

const invoice: QrInvoice = { sellerTaxCode: "0100000010", form: "1", symbol: "C26TAA", number: 42, issueDate: "2026-11-20", totalPayable: "3790000" };

/** Recomputes the CRC of a payload whose body was edited, so that only the edit is under test. */
const withCrc = (bodyWith6304: string): string => bodyWith6304 + crc16(bodyWith6304).toString(16).toUpperCase().padStart(4, "0");

describe("crc16 (CRC-16/CCITT-FALSE)", () => {
  it("gives 29B1 for the check string 123456789", () => {
    expect(crc16("123456789")).toBe(0x29b1);
  });

  it("gives FFFF for the empty string (the initial value, no final XOR)", () => {
    expect(crc16("")).toBe(0xffff);
  });
});

describe("buildQrPayload", () => {
  it("writes the payload format indicator, template 99 with every field, and the CRC, field by field", () => {
    const p = buildQrPayload(invoice)!;
    const template = `00${String(QR_GUID.length).padStart(2, "0")}${QR_GUID}` + "01100100000010" + "02011" + "0306C26TAA" + "040242" + "050820261120" + "06073790000";
    expect(p).toBe(withCrc(`000201` + `99${template.length}${template}` + `6304`));
    expect(p.startsWith("000201")).toBe(true);
    expect(p).toMatch(/6304[0-9A-F]{4}$/);
  });

  it("gives the example of docs/verification.md, whose CRC is D023", () => {
    const p = buildQrPayload({ sellerTaxCode: "0100000010", form: "1", symbol: "C26TAA", number: 42, issueDate: "2026-11-20", totalPayable: "3520000" });
    expect(p).toBe("00020199730011VN.GDT.HDDT01100100000010020110306C26TAA040242050820261120060735200006304D023");
  });

  it("reads back what it wrote", () => {
    expect(parseQrPayload(buildQrPayload(invoice)!)).toEqual({ ok: true, invoice });
  });

  it("writes the number without zero padding, a branch tax code and a negative adjustment total", () => {
    const inv = { ...invoice, sellerTaxCode: "0100000010-001", number: 7, totalPayable: "-20000" };
    const p = buildQrPayload(inv)!;
    expect(p).toContain("04017");
    expect(parseQrPayload(p)).toEqual({ ok: true, invoice: inv });
  });

  it("gives null when the template would pass 99 characters", () => {
    expect(buildQrPayload({ ...invoice, totalPayable: "9".repeat(32) + ".123456" })).toBeNull();
  });

  it("gives null for a field that is not printable ASCII", () => {
    expect(buildQrPayload({ ...invoice, symbol: "C26TÀA" })).toBeNull();
  });
});

describe("parseQrPayload", () => {
  const good = buildQrPayload(invoice)!;

  it("refuses a payload whose CRC does not match", () => {
    const last = good.at(-1) === "0" ? "1" : "0";
    expect(parseQrPayload(good.slice(0, -1) + last)).toMatchObject({ ok: false, reason: "the CRC does not match" });
  });

  it("refuses a changed total even with a recomputed CRC when the lengths no longer add up", () => {
    const body = good.slice(0, -4).replace("3790000", "37900000");
    expect(parseQrPayload(withCrc(body))).toMatchObject({ ok: false });
  });

  it("refuses a payload without the CRC object", () => {
    expect(parseQrPayload(good.slice(0, -8))).toMatchObject({ ok: false, reason: "no CRC (63 04 XXXX) at the end" });
  });

  it("refuses a payload that does not start with 00 02 01", () => {
    expect(parseQrPayload(withCrc(good.slice(6, -4)))).toMatchObject({ ok: false });
  });

  it("refuses a template without the identifier, or with an unknown field", () => {
    const t = "01100100000010" + "02011" + "0306C26TAA" + "040242" + "050820261120" + "06073790000";
    expect(parseQrPayload(withCrc(`00020199${t.length}${t}6304`))).toMatchObject({ ok: false });
    const extra = `0011${QR_GUID}` + t + "0702xx";
    expect(parseQrPayload(withCrc(`00020199${extra.length}${extra}6304`))).toMatchObject({ ok: false, reason: "template 99 holds an unknown field 07" });
  });

  it("refuses a data object that occurs twice, and one of length 00", () => {
    expect(parseQrPayload(withCrc(good.slice(0, -8) + "0002016304"))).toMatchObject({ ok: false });
    expect(parseQrPayload(withCrc("0002010100" + good.slice(6, -4)))).toMatchObject({ ok: false });
  });

  it("refuses a payload longer than 512 characters", () => {
    expect(parseQrPayload("0".repeat(600))).toMatchObject({ ok: false, reason: "longer than 512 characters" });
  });
});

describe("the QR image", () => {
  const p = buildQrPayload(invoice)!;

  it("is a square matrix of a QR version's size with the three finder patterns", () => {
    const m = qrMatrix(p);
    const n = m.length;
    expect((n - 17) % 4).toBe(0);
    expect(m.every((row) => row.length === n)).toBe(true);
    // A finder pattern: a dark 7×7 ring around a light ring around a dark 3×3 square.
    const finder = (r0: number, c0: number) => {
      for (let r = 0; r < 7; r++)
        for (let c = 0; c < 7; c++) {
          const ring = Math.max(Math.abs(r - 3), Math.abs(c - 3));
          expect(m[r0 + r]![c0 + c], `module ${r0 + r},${c0 + c}`).toBe(ring !== 2);
        }
    };
    finder(0, 0);
    finder(0, n - 7);
    finder(n - 7, 0);
  });

  it("is an SVG image with a quiet zone, as a data: URL", () => {
    const svg = qrSvg(p);
    const n = qrMatrix(p).length;
    expect(svg).toContain(`viewBox="0 0 ${n + 8} ${n + 8}"`);
    expect(svg).not.toMatch(/<script|on\w+=/i);
    expect(qrDataUrl(p)).toBe(`data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}`);
  });
});

describe("the pages' QR: the buyer's check", () => {
  const code = "0A3F9C2B7D11E04A5B6C7D8E9F00112233";

  it("is the public base URL with the code", () => {
    expect(buyerCheckUrl("https://hoadon.example.vn/tra-cuu/", code)).toBe(`https://hoadon.example.vn/tra-cuu/?code=${code}`);
    expect(publicBase("https://hoadon.example.vn/tra-cuu")).toBe("https://hoadon.example.vn/tra-cuu/");
    expect(publicBase("https://hoadon.example.vn/?a")).toBeNull();
  });

  it("reads back what a buyer pastes: the code, the URL of the QR, or the DLQRCode data", () => {
    expect(readPastedCode(` ${code.toLowerCase().slice(0, 10)} ${code.slice(10).toLowerCase()} `)).toEqual({ code });
    expect(readPastedCode(buyerCheckUrl("https://hoadon.example.vn/", code.toLowerCase()))).toEqual({ code });
    expect(readPastedCode(buildQrPayload(invoice)!)).toEqual({ invoice });
    expect(readPastedCode("https://hoadon.example.vn/")).toBeNull();
    const broken = buildQrPayload(invoice)!.replace("VN.GDT.HDDT", "VN.GDT.HDDX");
    expect(readPastedCode(broken)).toMatchObject({ badQr: expect.stringContaining("CRC") });
  });
});
