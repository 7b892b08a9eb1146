/**
 * The frame of an inner element (an HDon inside a T-VAN TDiep): its bytes and its children's
 * bytes, found in the text it was parsed from, so the stamp can splice them unchanged.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { elementFrame } from "../../src/xml/frame.js";
import { focus, parseXml } from "../../src/xml/parse.js";

const sample = (name: string) => readFileSync(new URL(`../../../shared/interop/${name}`, import.meta.url), "utf8");

function parsed(text: string, root: string) {
  const p = parseXml(text, root);
  if (!p.ok) throw new Error(JSON.stringify(p.faults));
  return p.value;
}

describe("the frame of an inner element", () => {
  it("finds the HDon of a real TDiep 200 and its DLHDon and DSCKS, byte for byte", () => {
    const text = sample("01_msg200_invoice_sent_for_code_seller_signed.xml");
    const p = parsed(text, "TDiep");
    const hdon = p.root.getElementsByTagName("HDon")[0]!;
    const f = focus(p, hdon).frame;
    const outer = text.slice(f.outerStart, f.outerEnd);
    expect(outer.startsWith("<HDon><DLHDon")).toBe(true);
    expect(outer.endsWith("</DSCKS></HDon>")).toBe(true);
    expect(f.children.map((c) => c.name)).toEqual(["DLHDon", "DSCKS"]);
    expect(text.slice(f.children[0]!.start, f.children[0]!.end)).toMatch(/^<DLHDon Id="SigningData">[\s\S]*<\/DLHDon>$/);
    expect(text.slice(f.rootCloseStart, f.outerEnd)).toBe("</HDon>");
  });

  it("tells same-named elements apart by position, through attributes holding '>' and CDATA holding tags", () => {
    const text = `<?xml version="1.0"?><R><A x="a>b"><HDon/></A><B><![CDATA[<HDon><X/></HDon>]]><HDon Id="2"><C/>t<D a='/>'/></HDon></B></R>`;
    const p = parsed(text, "R");
    const second = p.root.getElementsByTagName("HDon")[1]!;
    const f = elementFrame(text, second);
    expect(text.slice(f.outerStart, f.outerEnd)).toBe(`<HDon Id="2"><C/>t<D a='/>'/></HDon>`);
    expect(f.children.map((c) => text.slice(c.start, c.end))).toEqual(["<C/>", "<D a='/>'/>"]);
  });

  it("gives the document element the frame of the pre-scan", () => {
    const text = `<HDon><DLHDon Id="a"><X>1</X></DLHDon><DSCKS><NBan/></DSCKS></HDon>`;
    const p = parsed(text, "HDon");
    const f = elementFrame(text, p.root);
    expect(f.rootOpenEnd).toBe(p.frame.rootOpenEnd);
    expect(f.rootCloseStart).toBe(p.frame.rootCloseStart);
    expect(f.children).toEqual(p.frame.children);
  });
});
