/**
 * Test helpers for the T-VAN channel: envelopes (TDiep) as accounting software sends them, the
 * error notice 04/SS-HĐĐT signed by the seller, and reading and verifying the authority's replies.
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DOMParser, XMLSerializer } from "@xmldom/xmldom";
import { SignedXml } from "xml-crypto";
import { C14N, DSIG_NS, ENVELOPED, XML_CRYPTO_ECDSA } from "../../src/xml/algorithms.js";
import { parseXml } from "../../src/xml/parse.js";
import { readSignature, verifyProfile } from "../../src/xml/verify.js";
import { escapeXml } from "./invoice.js";
import { nowGmt7, registerAlgorithms, signatureTemplate } from "./sign.js";

/** A sender's MTDiep: its code and 32 upper-case hex digits. */
export function messageId(sender: string): string {
  return sender + randomUUID().replace(/-/g, "").toUpperCase();
}

export interface EnvelopeOptions {
  mst: string;
  /** MNGui; default a T-VAN provider code. */
  sender?: string;
  /** MTDiep; default a fresh one of the sender. */
  id?: string;
  pban?: string;
  declaration?: boolean;
}

/** A TDiep of type `type` around `content` (an HDon or a TBao, as text). */
export function tdiep(type: string, content: string, o: EnvelopeOptions): { xml: string; id: string; sender: string } {
  const sender = o.sender ?? "0200784873";
  const id = o.id ?? messageId(sender);
  // The seller's HDon may carry its own XML declaration; inside DLieu it cannot.
  const inner = content.replace(/^<\?xml[^>]*\?>/, "");
  const xml =
    (o.declaration === false ? "" : `<?xml version="1.0" encoding="utf-8"?>`) +
    `<TDiep><TTChung><PBan>${o.pban ?? "2.0.0"}</PBan><MNGui>${sender}</MNGui><MNNhan>TCT</MNNhan><MLTDiep>${type}</MLTDiep>` +
    `<MTDiep>${id}</MTDiep><MTDTChieu /><MST>${o.mst}</MST><SLuong>1</SLuong></TTChung><DLieu>${inner}</DLieu></TDiep>`;
  return { xml, id, sender };
}

export interface NoticeEntry {
  code: string;
  form?: string;
  symbol: string;
  number: number | string;
  issueDate: string;
  /** LADHDDT, default 1. */
  kind?: string;
  /** TCTBao: 1 cancel, 2 adjust, 3 replace, 4 explain. */
  action: string;
  reason: string;
}

/** The unsigned TBao of an error notice 04/SS-HĐĐT (DSCKS/NNT left empty for the signer). */
export function errorNotice(mst: string, entries: NoticeEntry[], o: { mso?: string } = {}): string {
  const hdon = entries
    .map(
      (e, i) =>
        `<HDon><STT>${i + 1}</STT><MCQTCap>${e.code}</MCQTCap><KHMSHDon>${e.form ?? "1"}</KHMSHDon><KHHDon>${e.symbol}</KHHDon>` +
        `<SHDon>${e.number}</SHDon><Ngay>${e.issueDate}</Ngay><LADHDDT>${e.kind ?? "1"}</LADHDDT><TCTBao>${e.action}</TCTBao><LDo>${escapeXml(e.reason)}</LDo></HDon>`,
    )
    .join("");
  return (
    `<TBao><DLTBao Id="DLTBao-${randomUUID().slice(0, 8)}"><PBan>2.0.0</PBan><MSo>${o.mso ?? "04/SS-HĐĐT"}</MSo><Ten>Thông báo hóa đơn điện tử có sai sót</Ten>` +
    `<Loai>1</Loai><MCQT>10100</MCQT><TCQT>Cục Thuế TP Hà Nội</TCQT><TNNT>Công ty TNHH Thử nghiệm</TNNT><MST>${mst}</MST><DDanh>Hà Nội</DDanh>` +
    `<NTBao>${nowGmt7().slice(0, 10)}</NTBao><DSHDon>${hdon}</DSHDon></DLTBao><DSCKS><NNT/></DSCKS></TBao>`
  );
}

/** Signs an error notice's DLTBao as its seller, the Signature in TBao/DSCKS/NNT (the invoice profile: enveloped + C14N, SigningTime Object). */
export function signNotice(tbao: string, key: { keyPem: string; certPem: string }): string {
  const doc = new DOMParser().parseFromString(tbao, "text/xml");
  const id = doc.getElementsByTagName("DLTBao")[0]!.getAttribute("Id")!;
  return signInto(new XMLSerializer().serializeToString(doc), key, { target: `//*[local-name()='DLTBao'][@Id='${id}']`, into: "NNT" });
}

/** A reply read back: its TTChung fields and a text lookup by path under DLieu. */
export interface Reply {
  xml: string;
  doc: Document;
  ttchung: Record<string, string>;
  /** Texts of the elements at this slash path below DLieu (e.g. "TBao/DLTBao/LTBao"), in order. */
  all(path: string): string[];
  one(path: string): string;
}

export function readReply(xml: string): Reply {
  const doc = new DOMParser().parseFromString(xml, "text/xml") as unknown as Document;
  const root = doc.documentElement!;
  const kids = (e: Element) => Array.from(e.childNodes).filter((n): n is Element => n.nodeType === 1);
  const tt = kids(root).find((e) => e.localName === "TTChung")!;
  const dl = kids(root).find((e) => e.localName === "DLieu")!;
  const ttchung = Object.fromEntries(kids(tt).map((e) => [e.localName, e.textContent ?? ""]));
  const all = (path: string) => {
    let level = [dl];
    for (const step of path.split("/")) level = level.flatMap((e) => kids(e).filter((k) => k.localName === step));
    return level.map((e) => e.textContent ?? "");
  };
  return {
    xml,
    doc,
    ttchung,
    all,
    one: (path) => {
      const found = all(path);
      if (found.length !== 1) throw new Error(`readReply: ${found.length} elements at ${path}`);
      return found[0]!;
    },
  };
}

/**
 * Verifies the authority's signature of a 204/301/999 (DSCKS/CQT/Signature): with our verifier
 * (every Reference to an element carrying that Id, or the signature's own Object) and with
 * xml-crypto's SignedXml, against the authority's certificate. Returns the referenced Ids.
 */
export function verifyNoticeSignature(xml: string, authorityCertPem: string): { ok: boolean; references: string[] } {
  const parsed = parseXml(xml, "TDiep");
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.faults));
  const cqt = parsed.value.signatures.filter((s) => s.parentNode?.localName === "CQT");
  if (cqt.length !== 1) return { ok: false, references: [] };
  const profile = readSignature(cqt[0]!, parsed.value, { allowSha1: false, maxReferences: 3, allowedTarget: () => true, requiredTargets: [] });
  if (!profile.ok) throw new Error(JSON.stringify(profile.faults));
  const ours = verifyProfile(profile.value);
  const cert = authorityCertPem.replace(/-----[A-Z ]+-----|\s/g, "");
  const sameCert = profile.value.certificates[0]!.toString("base64") === cert;
  const sx = new SignedXml({ publicCert: authorityCertPem });
  Object.assign(sx.SignatureAlgorithms, XML_CRYPTO_ECDSA);
  const dom = new DOMParser().parseFromString(xml, "text/xml");
  const node = Array.from(dom.getElementsByTagNameNS(DSIG_NS, "Signature")).find((s) => s.parentNode?.nodeName === "CQT")!;
  sx.loadSignature(node as never);
  let oracle = false;
  try {
    oracle = sx.checkSignature(xml);
  } catch {
    oracle = false;
  }
  return { ok: ours.ok && oracle && sameCert, references: profile.value.references.map((r) => r.uri) };
}

export interface FormOptions {
  mst: string;
  name?: string;
  /** 1 new, 2 change. */
  hthuc?: "1" | "2";
  officeCode?: string;
  date?: string;
  /** NDTKhai flags to set (others as a plain coded-invoice registration). */
  flags?: Record<string, "0" | "1">;
  /** DSCTSSDung rows. */
  certificates?: { serial: string; action: "1" | "2" | "3"; from?: string; to?: string }[];
  /** Raw XML added at the end of NDTKhai (2.1.0 lists, unknown elements). */
  extra?: string;
  pban?: string;
}

/** The unsigned TKhai of a 100 (01/ĐKTĐ-HĐĐT), DSCKS/NNT left empty for the signer. */
export function registrationForm(o: FormOptions): string {
  const f: Record<string, "0" | "1"> = {
    CMa: "1", KCMa: "0", NNTDBKKhan: "0", NNTKTDNUBND: "0", CDLTTDCQT: "0", CDLQTCTN: "0", CDDu: "1", CBTHop: "0",
    HDGTGT: "1", HDBHang: "0", HDBTSCong: "0", HDBHDTQGia: "0", HDKhac: "0", CTu: "0", ...o.flags,
  };
  const x = (n: string) => `<${n}>${f[n]}</${n}>`;
  const opt = (n: string) => (f[n] !== undefined ? x(n) : "");
  const today = nowGmt7().slice(0, 10);
  const certs = (o.certificates ?? [])
    .map(
      (c, i) =>
        `<CTS><STT>${i + 1}</STT><TTChuc>CN=Hoadon Test Issuing CA, C=VN</TTChuc><Seri>${c.serial}</Seri>` +
        `<TNgay>${c.from ?? "2020-01-01T00:00:00"}</TNgay><DNgay>${c.to ?? "2099-12-31T00:00:00"}</DNgay><HThuc>${c.action}</HThuc></CTS>`,
    )
    .join("");
  return (
    `<TKhai><DLTKhai Id="SigningData"><TTChung><PBan>${o.pban ?? "2.0.0"}</PBan><MSo>01/ĐKTĐ-HĐĐT</MSo><Ten>Tờ khai đăng ký/thay đổi thông tin sử dụng hóa đơn điện tử</Ten>` +
    `<HThuc>${o.hthuc ?? "1"}</HThuc><TNNT>${escapeXml(o.name ?? "Công ty TNHH Thử nghiệm")}</TNNT><MST>${o.mst}</MST><CQTQLy>Chi cục Thuế khu vực Ba Đình</CQTQLy><MCQTQLy>${o.officeCode ?? "10101"}</MCQTQLy>` +
    `<NLHe>Nguyễn Văn A</NLHe><DCLHe>1 Tràng Tiền, Hà Nội</DCLHe><DCTDTu>ketoan@example.vn</DCTDTu><DTLHe>0240000000</DTLHe><DDanh>Hà Nội</DDanh><NLap>${o.date ?? today}</NLap></TTChung>` +
    `<NDTKhai><HTHDon>${x("CMa")}${x("KCMa")}${opt("CMTMTTien")}</HTHDon><HTGDLHDDT>${x("NNTDBKKhan")}${x("NNTKTDNUBND")}${x("CDLTTDCQT")}${x("CDLQTCTN")}</HTGDLHDDT>` +
    `<PThuc>${x("CDDu")}${x("CBTHop")}</PThuc><LHDSDung>${x("HDGTGT")}${x("HDBHang")}${x("HDBTSCong")}${x("HDBHDTQGia")}${x("HDKhac")}${x("CTu")}</LHDSDung>` +
    `${certs ? `<DSCTSSDung>${certs}</DSCTSSDung>` : ""}${o.extra ?? ""}</NDTKhai></DLTKhai><DSCKS><NNT/></DSCKS></TKhai>`
  );
}

/** Signs a TKhai's DLTKhai as the taxpayer, the Signature in TKhai/DSCKS/NNT (enveloped + C14N, SigningTime Object). */
export function signForm(tkhai: string, key: { keyPem: string; certPem: string }): string {
  const doc = new DOMParser().parseFromString(tkhai, "text/xml");
  return signInto(new XMLSerializer().serializeToString(doc), key, { target: "//*[local-name()='DLTKhai']", into: "NNT" });
}

/** Signs a TKhai's DLTKhai with xmlsec1 (an independent signer): the invoice template in TKhai/DSCKS/NNT, `xmlsec1 --sign`. */
export function signFormWithXmlsec1(tkhai: string, key: { keyPem: string; certPem: string }): string {
  return signIntoWithXmlsec1(tkhai, key, { target: "DLTKhai", into: "NNT" }).replace(/^<\?xml[^>]*\?>\s*/, "");
}

export interface PackageOptions extends EnvelopeOptions {
  /** SLuong as written (default: the number of items). */
  count?: number | string;
  /** A 206's DLieu Id (default production's: "_" + the 32 hex of MTDiep). */
  dlieuId?: string;
}

/**
 * A TDiep carrying several items (203, 206, 400): SLuong the number of items; a 206 gets its
 * DLieu Id and an empty CKSNNT for signPackage / signPackageWithXmlsec1.
 */
export function packageTdiep(type: string, items: string[], o: PackageOptions): { xml: string; id: string; sender: string } {
  const sender = o.sender ?? "V0103930279";
  const id = o.id ?? messageId(sender);
  const inner = items.map((x) => x.replace(/^<\?xml[^>]*\?>/, "")).join("");
  const dlieu = type === "206" ? `<DLieu Id="${o.dlieuId ?? `_${id.slice(sender.length)}`}">` : "<DLieu>";
  const xml =
    (o.declaration === false ? "" : `<?xml version="1.0" encoding="utf-8"?>`) +
    `<TDiep><TTChung><PBan>${o.pban ?? "2.1.0"}</PBan><MNGui>${sender}</MNGui><MNNhan>TCT</MNNhan><MLTDiep>${type}</MLTDiep>` +
    `<MTDiep>${id}</MTDiep><MTDTChieu></MTDTChieu><MST>${o.mst}</MST><SLuong>${o.count ?? items.length}</SLuong></TTChung>${dlieu}${inner}</DLieu>` +
    (type === "206" ? "<CKSNNT/>" : "") +
    `</TDiep>`;
  return { xml, id, sender };
}

/** Signs a 206's DLieu as the taxpayer into CKSNNT, as production does (enveloped-signature + the Object, C14N 1.0, rsa-sha256). */
export function signPackage(tdiepXml: string, key: { keyPem: string; certPem: string }, o: { signingTime?: string } = {}): string {
  const id = /<DLieu Id="([^"]+)"/.exec(tdiepXml)![1]!;
  const hex = id.replace(/^_/, "");
  return signInto(tdiepXml, key, {
    target: `//*[local-name()='DLieu'][@Id='${id}']`,
    into: "CKSNNT",
    targetTransforms: [ENVELOPED],
    sigId: `CKSNNT-${hex}`,
    objId: `Obj-CKSNNT-${hex}`,
    ...(o.signingTime === undefined ? {} : { signingTime: o.signingTime }),
  });
}

/** Signs a 206's DLieu with xmlsec1 (an independent signer) into CKSNNT: C14N 1.0, enveloped-signature, a SigningTime Object. */
export function signPackageWithXmlsec1(tdiepXml: string, key: { keyPem: string; certPem: string }): string {
  return signIntoWithXmlsec1(tdiepXml, key, { target: "DLieu", into: "CKSNNT" });
}

export interface SummaryHeader {
  mst: string;
  number?: number;
  /** LKDLieu, KDLieu; default this month. */
  periodKind?: "T" | "Q" | "N";
  period?: string;
  /** LDau 1 (default) or 0 with BSLThu. */
  supplement?: number;
  printed?: boolean;
  /** LHHoa: 1 fuel, 2 air transport, 9 other (default). */
  lhhoa?: 1 | 2 | 9;
  id?: string;
}

/** The fields of a summary row (DSDLieu/DLieu), written in 01/TH-HĐĐT's order. */
export type SummaryRowFields = Partial<Record<(typeof ROW_ORDER)[number], string>>;
const ROW_ORDER = [
  "STT", "KHMSHDon", "KHHDon", "SHDon", "NLap", "TNMua", "MSTNMua", "MHHDVu", "THHDVu", "DVTinh", "SLuong", "TTCThue", "TSuat",
  "TgTThue", "TgTTToan", "TThai", "LHDCLQuan", "KHMSHDCLQuan", "KHHDCLQuan", "SHDCLQuan", "GChu",
] as const;

/** An unsigned BTHDLieu (01/TH-HĐĐT), DSCKS/NNT left empty for the signer. */
export function summaryTable(h: SummaryHeader, rows: SummaryRowFields[]): string {
  const today = nowGmt7().slice(0, 10);
  const kind = h.periodKind ?? "T";
  const period = h.period ?? (kind === "N" ? `${today.slice(8, 10)}/${today.slice(5, 7)}/${today.slice(0, 4)}` : `${today.slice(5, 7)}/${today.slice(0, 4)}`);
  const rowXml = rows.map((r) => "<DLieu>" + ROW_ORDER.filter((k) => r[k] !== undefined).map((k) => `<${k}>${escapeXml(r[k]!)}</${k}>`).join("") + "</DLieu>").join("");
  return (
    `<BTHDLieu><DLBTHop Id="${h.id ?? `BTH-${randomUUID().slice(0, 8)}`}"><TTChung><PBan>2.1.0</PBan><MSo>01/TH-HĐĐT</MSo><Ten>Bảng tổng hợp dữ liệu hóa đơn điện tử gửi cơ quan thuế</Ten>` +
    `<SBTHDLieu>${h.number ?? 1}</SBTHDLieu><LKDLieu>${kind}</LKDLieu><KDLieu>${period}</KDLieu><LDau>${h.supplement ? 0 : 1}</LDau>${h.supplement ? `<BSLThu>${h.supplement}</BSLThu>` : ""}` +
    `<NLap>${today}</NLap><TNNT>Công ty TNHH Thử nghiệm</TNNT><MST>${h.mst}</MST><HDDIn>${h.printed ? 1 : 0}</HDDIn><LHHoa>${h.lhhoa ?? 9}</LHHoa></TTChung>` +
    `<NDBTHDLieu><DSDLieu>${rowXml}</DSDLieu></NDBTHDLieu></DLBTHop><DSCKS><NNT/></DSCKS></BTHDLieu>`
  );
}

/** Signs a BTHDLieu's DLBTHop as the taxpayer into DSCKS/NNT (enveloped + C14N, a SigningTime Object). */
export function signSummary(bthdlieu: string, key: { keyPem: string; certPem: string }): string {
  const doc = new DOMParser().parseFromString(bthdlieu, "text/xml");
  const id = doc.getElementsByTagName("DLBTHop")[0]!.getAttribute("Id")!;
  return signInto(new XMLSerializer().serializeToString(doc), key, { target: `//*[local-name()='DLBTHop'][@Id='${id}']`, into: "NNT" });
}

/** Signs a BTHDLieu's DLBTHop with xmlsec1 (an independent signer) into DSCKS/NNT. */
export function signSummaryWithXmlsec1(bthdlieu: string, key: { keyPem: string; certPem: string }): string {
  return signIntoWithXmlsec1(bthdlieu, key, { target: "DLBTHop", into: "NNT" }).replace(/^<\?xml[^>]*\?>\s*/, "");
}

interface SignInto {
  /** XPath of the signed element. */
  target: string;
  /** Local name of the (empty) element the Signature is appended to. */
  into: string;
  /** The signed element's transforms (default: enveloped-signature, C14N 1.0). */
  targetTransforms?: string[];
  sigId?: string;
  objId?: string;
  signingTime?: string;
}

/**
 * Signs as a taxpayer with xml-crypto, the profile every T-VAN document shares with the invoice:
 * a Reference to the signed element (enveloped + C14N 1.0) and one to a SigningTime Object
 * (C14N 1.0), RSA or ECDSA with SHA-256, the Signature appended to `into`.
 */
function signInto(xml: string, key: { keyPem: string; certPem: string }, o: SignInto): string {
  const sigId = o.sigId ?? `Signature-${randomUUID()}`;
  const objId = o.objId ?? `SigningTime-${randomUUID()}`;
  const sig = registerAlgorithms(
    new SignedXml({
      privateKey: key.keyPem,
      publicCert: key.certPem,
      signatureAlgorithm: key.keyPem.includes("EC PRIVATE") ? "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" : "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
      canonicalizationAlgorithm: C14N,
      objects: [{ content: `<SignatureProperties><SignatureProperty Target="#${sigId}"><SigningTime>${o.signingTime ?? nowGmt7()}</SigningTime></SignatureProperty></SignatureProperties>`, attributes: { Id: objId } }],
    }),
  );
  sig.addReference({ xpath: o.target, transforms: o.targetTransforms ?? [ENVELOPED, C14N], digestAlgorithm: "http://www.w3.org/2001/04/xmlenc#sha256" });
  sig.addReference({ xpath: `//*[local-name()='Object'][@Id='${objId}']`, transforms: [C14N], digestAlgorithm: "http://www.w3.org/2001/04/xmlenc#sha256" });
  sig.computeSignature(xml, { attrs: { Id: sigId }, location: { reference: `//*[local-name()='${o.into}']`, action: "append" } });
  return sig.getSignedXml();
}

/** Signs the element `target` (by its Id) with xmlsec1, an independent signer: the invoice's template put into `<into/>`, `xmlsec1 --sign`. */
function signIntoWithXmlsec1(xml: string, key: { keyPem: string; certPem: string }, o: { target: string; into: string }): string {
  const id = new RegExp(`<${o.target} Id="([^"]+)"`).exec(xml)![1]!;
  const template = signatureTemplate({ keyPem: key.keyPem, certPem: key.certPem, dlhdonId: id });
  const input = xml.replace(`<${o.into}/>`, `<${o.into}>${template}</${o.into}>`);
  const dir = mkdtempSync(join(tmpdir(), "hoadon-tvan-sign-"));
  try {
    writeFileSync(join(dir, "key.pem"), key.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, "cert.pem"), key.certPem);
    writeFileSync(join(dir, "in.xml"), input);
    const keyFiles = `${join(dir, "key.pem")},${join(dir, "cert.pem")}`;
    const ids = ["--id-attr:Id", o.target, "--id-attr:Id", "Object"];
    const run = spawnSync("xmlsec1", ["--sign", "--privkey-pem", keyFiles, ...ids, "--output", join(dir, "out.xml"), join(dir, "in.xml")], { encoding: "utf8" });
    if (run.status !== 0) throw new Error(`xmlsec1 --sign failed: ${run.stdout}${run.stderr}`);
    return readFileSync(join(dir, "out.xml"), "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
