/**
 * The T-VAN replies checked by an independent XMLDSig implementation (xmlsec1), live: the 202's
 * HDon verifies exactly as a direct submission's stamped invoice does, and the authority's
 * signatures of 204, 301 and 999 verify against the authority's certificate.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CERTS, startHarness, type Harness, type TestSeller } from "../helpers/app.js";
import { buildInvoice } from "../helpers/invoice.js";
import { SELLER_SIGNATURE_XPATH, signWithXmlsec1, verifyWithXmlsec1 } from "../helpers/sign.js";
import { errorNotice, readReply, signNotice, tdiep } from "../helpers/tvan.js";

const CQT_XPATH = "//*[local-name()='CQT']/*[local-name()='Signature']";

if (spawnSync("xmlsec1", ["--version"]).status !== 0) throw new Error("xmlsec1 is required for the interop suite (apt-get install xmlsec1)");

let h: Harness;
let s: TestSeller;
let work: string;
let authorityPem: string;

beforeAll(async () => {
  h = await startHarness();
  s = await h.seller();
  work = mkdtempSync(join(tmpdir(), "hoadon-tvan-"));
  authorityPem = join(work, "authority.pem");
  writeFileSync(authorityPem, h.authorityCertPem);
});
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await h?.close();
});

async function send(xml: string): Promise<string> {
  const res = await h.app.request("/v1/messages", { method: "POST", headers: { authorization: `Bearer ${s.apiKey}`, "content-type": "application/xml" }, body: xml });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return text;
}

/** The command of docs/integration.md and docs/lifecycle.md for a direct submission's stamped invoice, run on the 202. */
const verifyInvoiceCqt = (xml: string) => verifyWithXmlsec1(xml, { nodeXpath: CQT_XPATH, trustedPem: authorityPem, idAttrs: ["DLHDon", "MCCQT", "Object"] });
/** The command of docs/integration.md and docs/lifecycle.md for a notice (204, 301) or a 999. */
const verifyNotice = (xml: string) => verifyWithXmlsec1(xml, { nodeXpath: CQT_XPATH, trustedPem: authorityPem, idAttrs: ["DLTBao", "TBao", "Object"] });

describe("T-VAN replies verified by xmlsec1", () => {
  it("202: the authority's and the seller's signatures of an xmlsec1-signed invoice verify inside the envelope", async () => {
    const signed = signWithXmlsec1(buildInvoice({ sellerTaxCode: s.taxCode, declaration: true }), { keyPem: s.keyPem, certPem: s.certPem });
    const reply = await send(tdiep("200", signed, { mst: s.taxCode }).xml);
    expect(readReply(reply).ttchung.MLTDiep).toBe("202");
    const cqt = verifyInvoiceCqt(reply);
    expect(cqt.ok, cqt.output).toBe(true);
    const seller = verifyWithXmlsec1(reply, { nodeXpath: SELLER_SIGNATURE_XPATH, trustedPem: CERTS + "root-ca.pem", untrustedPem: CERTS + "issuing-ca.pem", idAttrs: ["DLHDon", "Object"] });
    expect(seller.ok, seller.output).toBe(true);
    const forged = reply.replace(/(<MCCQT [^>]*>[0-9A-F]{33})([0-9A-F])/, (_, a: string, b: string) => a + (b === "0" ? "1" : "0"));
    expect(verifyInvoiceCqt(forged).ok).toBe(false);
  });

  it("204: the notice of a refused invoice verifies, and fails once a reason is changed", async () => {
    const reply = await send(tdiep("200", s.invoice({ overrides: { TgTTTBSo: "1" } }), { mst: s.taxCode }).xml);
    expect(readReply(reply).ttchung.MLTDiep).toBe("204");
    const v = verifyNotice(reply);
    expect(v.ok, v.output).toBe(true);
    expect(verifyNotice(reply.replace("<MLoi>3005</MLoi>", "<MLoi>3004</MLoi>")).ok).toBe(false);
  });

  it("301: the answer to an error notice verifies", async () => {
    const issued = readReply(await send(tdiep("200", s.invoice(), { mst: s.taxCode }).xml));
    const code = issued.one("HDon/MCCQT");
    const inv = (await (await h.call("GET", `/v1/invoices/${code}`, undefined, s.apiKey)).json()) as { symbol: string; number: number; issueDate: string };
    const tbao = signNotice(errorNotice(s.taxCode, [{ code, symbol: inv.symbol, number: inv.number, issueDate: inv.issueDate, action: "1", reason: "Hủy" }]), s);
    const reply = await send(tdiep("300", tbao, { mst: s.taxCode }).xml);
    expect(readReply(reply).ttchung.MLTDiep).toBe("301");
    const v = verifyNotice(reply);
    expect(v.ok, v.output).toBe(true);
  });

  it("999: the acknowledgement of a malformed envelope verifies", async () => {
    const reply = await send("<TDiep><TTChung/></TDiep>");
    expect(readReply(reply).ttchung.MLTDiep).toBe("999");
    const v = verifyNotice(reply);
    expect(v.ok, v.output).toBe(true);
  });
});
