/**
 * `hoadon sign --key KEY.pem --cert CERT.pem [--signing-time YYYY-MM-DDThh:mm:ss] FILE`: prints the
 * invoice with the profile's seller signature in DSCKS/NBan (invoice-format.md §4, docs/signing.md):
 * rsa-sha256 (ecdsa-sha256 for an EC key), C14N 1.0, a Reference to DLHDon (enveloped-signature +
 * C14N) and one to the Signature's own SigningTime Object (C14N only), the certificate in KeyInfo.
 * An unsigned template in DSCKS/NBan (an empty SignatureValue, as xmlsec1 fills) is replaced.
 * For tests and sandboxes: a seller's software signs with its own key store.
 */
import { createPrivateKey, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DOMParser, XMLSerializer, type Element as XmlElement } from "@xmldom/xmldom";
import { SignedXml } from "xml-crypto";
import { gmt7 } from "../domain/gmt7.js";
import { C14N, ECDSA_SHA256, ENVELOPED, RSA_SHA256, SHA256, XML_CRYPTO_ECDSA } from "../xml/algorithms.js";
import type { CliIo } from "./io.js";

/** Now in GMT+7 without an offset, as SigningTime is written. */
export function nowGmt7(at = new Date()): string {
  return gmt7(at);
}

const children = (e: XmlElement | null | undefined, name: string): XmlElement[] =>
  e ? (Array.from(e.childNodes).filter((n) => n.nodeType === 1 && (n as XmlElement).localName === name) as XmlElement[]) : [];

export function signXml(xml: string, keyPem: string, certPem: string, signingTime = nowGmt7()): string {
  const doc = new DOMParser().parseFromString(xml, "text/xml");
  const hdon = doc.documentElement as unknown as XmlElement;
  const dlhdon = children(hdon, "DLHDon")[0];
  if (!dlhdon?.getAttribute("Id")) throw new Error("the invoice has no HDon/DLHDon with an Id");
  let dscks = children(hdon, "DSCKS")[0];
  if (!dscks) dscks = hdon.appendChild(doc.createElement("DSCKS")) as XmlElement;
  if (!children(dscks, "NBan")[0]) dscks.appendChild(doc.createElement("NBan"));
  const nban = children(dscks, "NBan")[0]!;
  for (const sig of children(nban, "Signature")) {
    // An xmlsec1 template (examples/invoice-template.xml: an empty SignatureValue) is replaced; a signature is not.
    if (children(sig, "SignatureValue").some((v) => (v.textContent ?? "").trim() !== "")) throw new Error("DSCKS/NBan already holds a Signature");
    nban.removeChild(sig);
  }

  const sigId = `Signature-${randomBytes(16).toString("hex")}`;
  const objId = `SigningTime-${randomBytes(16).toString("hex")}`;
  const ec = createPrivateKey(keyPem).asymmetricKeyType === "ec";
  const sx = new SignedXml({
    privateKey: keyPem,
    publicCert: certPem,
    signatureAlgorithm: ec ? ECDSA_SHA256 : RSA_SHA256,
    canonicalizationAlgorithm: C14N,
    objects: [
      {
        content: `<SignatureProperties><SignatureProperty Target="#${sigId}"><SigningTime>${signingTime}</SigningTime></SignatureProperty></SignatureProperties>`,
        attributes: { Id: objId },
      },
    ],
  });
  Object.assign(sx.SignatureAlgorithms, XML_CRYPTO_ECDSA);
  sx.addReference({ xpath: "/*[local-name()='HDon']/*[local-name()='DLHDon']", transforms: [ENVELOPED, C14N], digestAlgorithm: SHA256 });
  sx.addReference({ xpath: `//*[local-name()='Object'][@Id='${objId}']`, transforms: [C14N], digestAlgorithm: SHA256 });
  sx.computeSignature(new XMLSerializer().serializeToString(doc), {
    attrs: { Id: sigId },
    location: { reference: "/*[local-name()='HDon']/*[local-name()='DSCKS']/*[local-name()='NBan']", action: "append" },
  });
  return sx.getSignedXml();
}

export async function run(args: string[], io: CliIo): Promise<number> {
  let p;
  try {
    p = parseArgs({ args, allowPositionals: true, options: { key: { type: "string" }, cert: { type: "string" }, "signing-time": { type: "string" } } });
  } catch (e) {
    io.err(`hoadon sign: ${(e as Error).message}`);
    return 2;
  }
  const { key, cert } = p.values;
  if (!key || !cert || p.positionals.length !== 1) {
    io.err("usage: hoadon sign --key KEY.pem --cert CERT.pem [--signing-time YYYY-MM-DDThh:mm:ss] FILE");
    return 2;
  }
  try {
    io.out(signXml(readFileSync(p.positionals[0]!, "utf8"), readFileSync(key, "utf8"), readFileSync(cert, "utf8"), p.values["signing-time"]));
    return 0;
  } catch (e) {
    io.err(`hoadon sign: ${(e as Error).message}`);
    return 1;
  }
}
