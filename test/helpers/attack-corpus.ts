/**
 * The attack corpus as data: each attack a name, the stable code the gate must refuse it with,
 * and how to build it from a fresh signed invoice (and the signer's key, for the attacks that
 * re-sign). test/api/attacks-signature.test.ts submits every SIGNATURE_ATTACKS document to the
 * service; test/interop/check-xmlsec1.test.ts runs every document of both lists through
 * `hoadon check` and xmlsec1 and explains each place where they differ.
 *
 * Every fixture is a real signed invoice, tampered and — where the attack needs it — re-signed
 * with the attacker's key (attacks.ts resign), so that only the check under test stands between
 * it and a code.
 */
import { createHash } from "node:crypto";
import type { ErrorCode } from "../../src/errors.js";
import {
  all,
  BASE64,
  certDer,
  ds,
  dsElement,
  ENVELOPED,
  HMAC_SHA1,
  HMAC_SHA256,
  kids,
  MD5,
  one,
  RSA_MD5,
  reference,
  resign,
  rewrite,
  sellerSignature,
  transformsOf,
  XPATH,
  XPATH2,
  XSLT,
} from "./attacks.js";
import type { SignOptions } from "./sign.js";

export interface AttackContext {
  /** A fresh signed invoice of the attacked seller (1,000,000 VND at 10%: TgTTTBSo 1100000). */
  signed: (sign?: Partial<SignOptions>) => string;
  /** The seller's key and certificate: an attacker holding a key re-signs with it. */
  keyPem: string;
  certPem: string;
}

export interface Attack {
  /** Describes the attack, ending with the expected code in parentheses. */
  name: string;
  code: ErrorCode;
  build: (c: AttackContext) => string;
}

/** The same invoice with the amounts a forger wants (and consistent totals). */
export function forge(dlhdon: Element): void {
  const set = (name: string, value: string) => {
    for (const e of Array.from(dlhdon.getElementsByTagName(name))) {
      while (e.firstChild) e.removeChild(e.firstChild);
      e.appendChild(dlhdon.ownerDocument!.createTextNode(value));
    }
  };
  set("DGia", "1");
  set("ThTien", "1");
  set("TThue", "0");
  set("TgTCThue", "1");
  set("TgTThue", "0");
  set("TgTTTBSo", "1");
}

const firstReference = (signedInfo: Element) => kids(signedInfo).find((k) => k.localName === "Reference")!;
const renameIds = (copy: Element, prefix: string) => {
  for (const e of [copy, ...Array.from(copy.getElementsByTagName("*"))]) if (e.getAttribute("Id")) e.setAttribute("Id", `${prefix}${e.getAttribute("Id")}`);
};
const setAlg = (el: Element, uri: string) => el.setAttribute("Algorithm", uri);
const signatureMethod = (si: Element) => ds(si, "SignatureMethod");
const digestMethods = (si: Element) => kids(si).filter((k) => k.localName === "Reference").map((r) => ds(r, "DigestMethod"));

const wrapping: Attack[] = (
  [
    ["the seller signature's own Object", (doc: Document, original: Element) => {
      const sig = sellerSignature(doc);
      const obj = dsElement(doc, sig, "Object");
      obj.appendChild(original);
      sig.appendChild(obj);
    }],
    ["DSCKS/CCKSKhac", (doc: Document, original: Element) => {
      const other = doc.createElement("CCKSKhac");
      other.appendChild(original);
      one(doc, "DSCKS").appendChild(other);
    }],
    ["the forged DLHDon's own TTKhac", (doc: Document, original: Element) => {
      const forged = all(doc, "DLHDon")[0]!;
      const ttkhac = doc.createElement("TTKhac");
      ttkhac.appendChild(original);
      forged.appendChild(ttkhac);
    }],
    ["HDon itself, after the forged DLHDon", (doc: Document, original: Element) => {
      doc.documentElement!.insertBefore(original, one(doc, "DSCKS"));
    }],
  ] as const
).map(([where, place]) => ({
  name: `the signed DLHDon moved into ${where} with a forged DLHDon in its place under the same Id (SIGNATURE_PROFILE)`,
  code: "SIGNATURE_PROFILE" as const,
  build: (c: AttackContext) =>
    rewrite(c.signed(), (doc) => {
      const original = one(doc, "DLHDon");
      const forged = original.cloneNode(true) as Element;
      forge(forged);
      doc.documentElement!.replaceChild(forged, original);
      place(doc, original);
    }),
}));

/** Attacks on the signature profile: wrapping, References that point elsewhere, transforms, duplicate Ids, extra Signatures, algorithms. */
export const SIGNATURE_ATTACKS: readonly Attack[] = [
  ...wrapping,
  {
    name: "a forged DLHDon under a new Id when the Reference still names the moved original (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) =>
      rewrite(c.signed(), (doc) => {
        const original = one(doc, "DLHDon");
        const forged = original.cloneNode(true) as Element;
        forge(forged);
        forged.setAttribute("Id", "Forged");
        doc.documentElement!.replaceChild(forged, original);
        const sig = sellerSignature(doc);
        const obj = dsElement(doc, sig, "Object");
        obj.appendChild(original);
        sig.appendChild(obj);
      }),
  },
  { name: "a forged DLHDon whose amounts changed in place (SIGNATURE_INVALID)", code: "SIGNATURE_INVALID", build: (c) => rewrite(c.signed(), (doc) => forge(one(doc, "DLHDon"))) },
  ...(
    [
      ["TTChung inside DLHDon", (doc: Document) => one(doc, "TTChung").setAttribute("Id", "part")],
      ["NDHDon inside DLHDon", (doc: Document) => one(doc, "NDHDon").setAttribute("Id", "part")],
      ["the HDon root (covering everything)", (doc: Document) => doc.documentElement!.setAttribute("Id", "part")],
      ["DSCKS", (doc: Document) => one(doc, "DSCKS").setAttribute("Id", "part")],
    ] as const
  ).map(([what, edit]): Attack => ({
    name: `a correctly re-signed Reference to ${what} instead of DLHDon (SIGNATURE_PROFILE)`,
    code: "SIGNATURE_PROFILE",
    build: (c) =>
      resign(c.signed(), c.keyPem, ({ doc, signedInfo }) => {
        edit(doc);
        firstReference(signedInfo).setAttribute("URI", "#part");
      }),
  })),
  {
    name: "a Reference to the buyer's signature Object instead of the seller's own (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) =>
      resign(c.signed(), c.keyPem, ({ doc, signature, signedInfo }) => {
        const buyer = doc.createElement("NMua");
        const other = signature.cloneNode(true) as Element;
        renameIds(other, "buyer-");
        buyer.appendChild(other);
        one(doc, "DSCKS").appendChild(buyer);
        const objRef = kids(signedInfo).filter((k) => k.localName === "Reference")[1]!;
        objRef.setAttribute("URI", `#buyer-${objRef.getAttribute("URI")!.slice(1)}`);
      }),
  },
  {
    name: "an empty Reference URI (the whole document), correctly re-signed (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) => resign(c.signed(), c.keyPem, ({ signedInfo }) => firstReference(signedInfo).setAttribute("URI", "")),
  },
  {
    name: "a Reference without a URI (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) => resign(c.signed(), c.keyPem, ({ signedInfo }) => firstReference(signedInfo).removeAttribute("URI")),
  },
  ...["http://attacker.example/invoice.xml#SigningData", "file:///etc/passwd", "invoice.xml#SigningData", "#xpointer(id('SigningData'))", "#xpointer(/)", "#"].map(
    (uri): Attack => ({
      name: `the external or non-Id Reference URI ${JSON.stringify(uri)} (SIGNATURE_PROFILE)`,
      code: "SIGNATURE_PROFILE",
      build: (c) => resign(c.signed(), c.keyPem, ({ signedInfo }) => firstReference(signedInfo).setAttribute("URI", uri), { digests: "keep" }),
    }),
  ),
  ...(
    [
      ["an XPath filter", XPATH, "XPath"],
      ["an XPath Filter 2.0", XPATH2, "XPath"],
      ["an XSLT", XSLT, null],
      ["a base64", BASE64, null],
      ["an unknown", "urn:attacker:transform", null],
    ] as const
  ).map(([name, alg, param]): Attack => ({
    name: `${name} transform on the DLHDon Reference, correctly re-signed (SIGNATURE_PROFILE)`,
    code: "SIGNATURE_PROFILE",
    build: (c) =>
      resign(c.signed(), c.keyPem, ({ doc, signedInfo }) => {
        const ref = firstReference(signedInfo);
        const t = dsElement(doc, ref, "Transform", { Algorithm: alg });
        if (param) t.appendChild(dsElement(doc, ref, param, alg === XPATH2 ? { Filter: "subtract" } : {}, "ancestor-or-self::*[local-name()='Signature']"));
        if (alg === XSLT) {
          const xsl = doc.createElementNS("http://www.w3.org/1999/XSL/Transform", "xsl:stylesheet");
          xsl.setAttribute("version", "1.0");
          t.appendChild(xsl);
        }
        transformsOf(ref).insertBefore(t, transformsOf(ref).firstChild);
      }),
  })),
  {
    name: "a third Reference (to a second Object), correctly re-signed (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) =>
      resign(c.signed(), c.keyPem, ({ doc, signature, signedInfo }) => {
        const obj = dsElement(doc, signature, "Object", { Id: "extra-object" }, "anything");
        signature.appendChild(obj);
        signedInfo.appendChild(reference(doc, signedInfo, "#extra-object"));
      }),
  },
  {
    name: "two References to DLHDon, correctly re-signed (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) => resign(c.signed({ signingTime: null }), c.keyPem, ({ signedInfo }) => signedInfo.appendChild(firstReference(signedInfo).cloneNode(true))),
  },
  {
    name: "the Object Reference alone, with no Reference covering DLHDon (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) => resign(c.signed(), c.keyPem, ({ signedInfo }) => signedInfo.removeChild(firstReference(signedInfo))),
  },
  {
    // By the XMLDSig text, enveloped-signature on a Reference to the signature's own Object removes
    // the whole Signature and leaves nothing: a verifier that does that (xmlsec1) accepts any
    // Object content, so SigningTime could be forged. Ours digests the Object itself.
    name: "a SigningTime Reference whose digest is that of empty canonical output (what a spec-literal enveloped transform on the Object gives) (SIGNATURE_INVALID)",
    code: "SIGNATURE_INVALID",
    build: (c) =>
      resign(
        c.signed(),
        c.keyPem,
        ({ doc, signedInfo }) => {
          const objRef = kids(signedInfo).filter((k) => k.localName === "Reference")[1]!;
          const ts = transformsOf(objRef);
          ts.insertBefore(dsElement(doc, objRef, "Transform", { Algorithm: ENVELOPED }), ts.firstChild);
          const st = all(doc, "SigningTime")[0]!;
          st.replaceChild(doc.createTextNode("2026-01-01T00:00:00"), st.firstChild!);
        },
        { digestOverride: { 1: createHash("sha256").update("").digest("base64") } },
      ),
  },
  ...["Id", "ID", "id", "xml:id"].map(
    (attr): Attack => ({
      name: `a second element whose ${attr} repeats the DLHDon Id (SIGNATURE_PROFILE)`,
      code: "SIGNATURE_PROFILE",
      build: (c) =>
        rewrite(c.signed(), (doc) => {
          const decoy = doc.createElement("CCKSKhac");
          decoy.setAttribute(attr, one(doc, "DLHDon").getAttribute("Id")!);
          one(doc, "DSCKS").appendChild(decoy);
        }),
    }),
  ),
  {
    name: "an Id in another namespace (wsu:Id) that repeats the DLHDon Id, which xml-crypto resolves by local name (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) =>
      rewrite(c.signed(), (doc) => {
        const decoy = doc.createElement("CCKSKhac");
        decoy.setAttributeNS("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd", "wsu:Id", one(doc, "DLHDon").getAttribute("Id")!);
        one(doc, "DSCKS").appendChild(decoy);
      }),
  },
  {
    name: "an Id repeated inside the signed DLHDon itself, correctly re-signed (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) => resign(c.signed(), c.keyPem, ({ doc }) => all(doc, "NBan")[0]!.setAttribute("ID", one(doc, "DLHDon").getAttribute("Id")!)),
  },
  {
    name: "an Id repeated on two elements that no Reference names: Ids are unique in the whole document (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) =>
      rewrite(c.signed(), (doc) => {
        for (const name of ["CCKSKhac", "NMua"]) {
          const e = doc.createElement(name);
          e.setAttribute("Id", "unrelated");
          one(doc, "DSCKS").appendChild(e);
        }
      }),
  },
  {
    name: "the SigningTime Object's Id repeated elsewhere (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) =>
      rewrite(c.signed(), (doc) => {
        const objId = all(doc, "Object")[0]!.getAttribute("Id")!;
        const decoy = doc.createElement("NMua");
        decoy.setAttribute("id", objId);
        one(doc, "DSCKS").appendChild(decoy);
      }),
  },
  {
    name: "two Signatures under DSCKS/NBan (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) =>
      rewrite(c.signed(), (doc) => {
        const sig = sellerSignature(doc);
        const copy = sig.cloneNode(true) as Element;
        renameIds(copy, "copy-");
        sig.parentNode!.appendChild(copy);
      }),
  },
  {
    name: "two SignedInfo elements in the seller's Signature (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) =>
      rewrite(c.signed(), (doc) => {
        const sig = sellerSignature(doc);
        const si = ds(sig, "SignedInfo");
        sig.insertBefore(si.cloneNode(true), si.nextSibling);
      }),
  },
  ...["SignatureValue", "KeyInfo"].map(
    (name): Attack => ({
      name: `two ${name} elements in the seller's Signature (SIGNATURE_PROFILE)`,
      code: "SIGNATURE_PROFILE",
      build: (c) =>
        rewrite(c.signed(), (doc) => {
          const sig = sellerSignature(doc);
          const e = ds(sig, name);
          sig.insertBefore(e.cloneNode(true), e);
        }),
    }),
  ),
  ...(
    [
      ["directly under HDon", (doc: Document, sig: Element) => doc.documentElement!.appendChild(sig)],
      ["directly under DSCKS", (doc: Document, sig: Element) => one(doc, "DSCKS").appendChild(sig)],
      ["inside DLHDon (TTKhac)", (doc: Document, sig: Element) => {
        const t = doc.createElement("TTKhac");
        t.appendChild(sig);
        one(doc, "DLHDon").appendChild(t);
      }],
      ["inside the seller signature's Object", (doc: Document, sig: Element) => {
        const obj = dsElement(doc, sellerSignature(doc), "Object");
        obj.appendChild(sig);
        sellerSignature(doc).appendChild(obj);
      }],
      ["inside DSCKS/NMua/X", (doc: Document, sig: Element) => {
        const nmua = doc.createElement("NMua");
        const x = doc.createElement("X");
        x.appendChild(sig);
        nmua.appendChild(x);
        one(doc, "DSCKS").appendChild(nmua);
      }],
    ] as const
  ).map(([where, place]): Attack => ({
    name: `a Signature ${where} (SIGNATURE_PROFILE)`,
    code: "SIGNATURE_PROFILE",
    build: (c) =>
      rewrite(c.signed(), (doc) => {
        const copy = sellerSignature(doc).cloneNode(true) as Element;
        renameIds(copy, "stray-");
        place(doc, copy);
      }),
  })),
  {
    name: "KeyInfo/RetrievalMethod (keys fetched from elsewhere) (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) =>
      rewrite(c.signed(), (doc) => {
        const ki = ds(sellerSignature(doc), "KeyInfo");
        ki.appendChild(dsElement(doc, ki, "RetrievalMethod", { URI: "http://attacker.example/key.der" }));
      }),
  },
  {
    name: "an HMACOutputLength parameter that would truncate the signature (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) =>
      rewrite(c.signed(), (doc) => {
        const sm = ds(ds(sellerSignature(doc), "SignedInfo"), "SignatureMethod");
        sm.appendChild(dsElement(doc, sm, "HMACOutputLength", {}, "0"));
      }),
  },
  ...(["hmac-sha256", "hmac-sha1"] as const).flatMap((name) =>
    (["the certificate's DER", "the certificate's PEM text"] as const).map(
      (secretName): Attack => ({
        name: `${name} keyed with ${secretName} (ALGORITHM_NOT_ALLOWED)`,
        code: "ALGORITHM_NOT_ALLOWED",
        build: (c) =>
          resign(c.signed(), c.keyPem, ({ signedInfo }) => setAlg(signatureMethod(signedInfo), name === "hmac-sha256" ? HMAC_SHA256 : HMAC_SHA1), {
            hmacSecret: secretName === "the certificate's DER" ? certDer(c.certPem) : c.certPem,
          }),
      }),
    ),
  ),
  {
    name: "rsa-sha1 with sha1 digests while legacy SHA-1 is off (ALGORITHM_NOT_ALLOWED)",
    code: "ALGORITHM_NOT_ALLOWED",
    build: (c) => c.signed({ algorithm: "rsa-sha1", digest: "http://www.w3.org/2000/09/xmldsig#sha1" }),
  },
  { name: "sha1 digests under rsa-sha256 while legacy SHA-1 is off (ALGORITHM_NOT_ALLOWED)", code: "ALGORITHM_NOT_ALLOWED", build: (c) => c.signed({ digest: "http://www.w3.org/2000/09/xmldsig#sha1" }) },
  {
    name: "rsa-md5 and md5 digests, correctly re-signed (ALGORITHM_NOT_ALLOWED)",
    code: "ALGORITHM_NOT_ALLOWED",
    build: (c) =>
      resign(c.signed(), c.keyPem, ({ signedInfo }) => {
        setAlg(signatureMethod(signedInfo), RSA_MD5);
        for (const d of digestMethods(signedInfo)) setAlg(d, MD5);
      }),
  },
  {
    name: "an md5 digest under rsa-sha256, correctly re-signed (ALGORITHM_NOT_ALLOWED)",
    code: "ALGORITHM_NOT_ALLOWED",
    build: (c) => resign(c.signed(), c.keyPem, ({ signedInfo }) => setAlg(digestMethods(signedInfo)[0]!, MD5)),
  },
  ...(
    [
      ["SignatureMethod", (si: Element) => setAlg(signatureMethod(si), "http://attacker.example/rsa-sha256")],
      ["DigestMethod", (si: Element) => setAlg(digestMethods(si)[0]!, "urn:attacker:digest")],
      ["CanonicalizationMethod", (si: Element) => setAlg(ds(si, "CanonicalizationMethod"), "http://www.w3.org/2006/12/xml-c14n11")],
      ["SignatureMethod (dsa-sha1)", (si: Element) => setAlg(signatureMethod(si), "http://www.w3.org/2000/09/xmldsig#dsa-sha1")],
      ["SignatureMethod (rsa-pss)", (si: Element) => setAlg(signatureMethod(si), "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1")],
    ] as const
  ).map(([what, edit]): Attack => ({
    name: `an unknown ${what} URI (ALGORITHM_NOT_ALLOWED)`,
    code: "ALGORITHM_NOT_ALLOWED",
    build: (c) => resign(c.signed(), c.keyPem, ({ signedInfo }) => edit(signedInfo)),
  })),
  {
    name: "ecdsa-sha256 declared over a value made with an RSA key (SIGNATURE_INVALID)",
    code: "SIGNATURE_INVALID",
    build: (c) => resign(c.signed(), c.keyPem, ({ signedInfo }) => setAlg(signatureMethod(signedInfo), "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256")),
  },
  ...["sha512", "sha1"].map(
    (actualHash): Attack => ({
      name: `rsa-sha256 declared over a value actually made with ${actualHash} (SIGNATURE_INVALID)`,
      code: "SIGNATURE_INVALID",
      build: (c) => resign(c.signed(), c.keyPem, undefined, { actualHash }),
    }),
  ),
  ...(
    [
      ["SignatureMethod", (si: Element) => signatureMethod(si)],
      ["DigestMethod", (si: Element) => digestMethods(si)[0]!],
      ["CanonicalizationMethod", (si: Element) => ds(si, "CanonicalizationMethod")],
    ] as const
  ).flatMap(([where, pick]) =>
    (
      [
        ["a leading space", (u: string) => ` ${u}`],
        ["a trailing line feed", (u: string) => `${u}\n`],
        ["a tab and a space", (u: string) => `\t${u} `],
      ] as const
    ).map(
      ([padName, pad]): Attack => ({
        name: `${padName} around the ${where} URI, correctly re-signed (ALGORITHM_NOT_ALLOWED)`,
        code: "ALGORITHM_NOT_ALLOWED",
        build: (c) =>
          resign(c.signed(), c.keyPem, ({ signedInfo }) => {
            const el = pick(signedInfo);
            el.setAttribute("Algorithm", pad(el.getAttribute("Algorithm")!));
          }),
      }),
    ),
  ),
  {
    name: "whitespace around a Transform URI, correctly re-signed (SIGNATURE_PROFILE)",
    code: "SIGNATURE_PROFILE",
    build: (c) =>
      resign(c.signed(), c.keyPem, ({ signedInfo }) => {
        const t = kids(transformsOf(firstReference(signedInfo)))[0]!;
        t.setAttribute("Algorithm", ` ${t.getAttribute("Algorithm")}`);
      }),
  },
];

/**
 * Hostile XML around a signed invoice (test/api/attacks-xml.test.ts submits each; the interop
 * test gives each to xmlsec1 too, so none of them names a network resource): comments and
 * processing instructions, also where they split a signed value without changing a C14N digest,
 * DOCTYPE and entities, two roots, relative namespace URIs. The gate refuses each at parse,
 * before any signature is read.
 */
export const XML_ATTACKS: readonly Attack[] = [
  ...(
    [
      ["inside DigestValue", (x: string) => x.replace(/(<DigestValue>[A-Za-z0-9+/]{4})/, "$1<!--x-->")],
      ["inside SignatureValue", (x: string) => x.replace(/(<SignatureValue>[A-Za-z0-9+/]{4})/, "$1<!---->")],
      ["splitting a signed amount (C14N without comments would keep the digest)", (x: string) => x.replace("<TgTTTBSo>1100000<", "<TgTTTBSo>11<!---->00000<")],
      ["splitting the seller's tax code", (x: string) => x.replace(/<MST>(\d{4})/, "<MST>$1<!---->")],
      ["before the root", (x: string) => `<!-- invoice -->${x}`],
      ["after the root", (x: string) => `${x}<!-- end -->`],
      ["inside X509Certificate", (x: string) => x.replace(/(<X509Certificate>[A-Za-z0-9+/]{8})/, "$1<!---->")],
    ] as const
  ).map(([where, edit]): Attack => ({ name: `a comment ${where} (XML_FORBIDDEN_CONSTRUCT)`, code: "XML_FORBIDDEN_CONSTRUCT", build: (c) => edit(c.signed()) })),
  ...(
    [
      ["before the root (xml-stylesheet)", (x: string) => `<?xml-stylesheet type="text/xsl" href="http://attacker.example/x.xsl"?>${x}`],
      ["inside DLHDon", (x: string) => x.replace("<NDHDon>", "<NDHDon><?php system('id') ?>")],
      ["inside SignatureValue", (x: string) => x.replace(/(<SignatureValue>[A-Za-z0-9+/]{4})/, "$1<?x?>")],
      ["splitting a signed amount", (x: string) => x.replace("<TgTTTBSo>1100000<", "<TgTTTBSo>110<?x?>0000<")],
      ["after the root", (x: string) => `${x}<?done?>`],
      ["as a second XML declaration inside the root", (x: string) => x.replace("<DSCKS>", '<?xml version="1.0"?><DSCKS>')],
    ] as const
  ).map(([where, edit]): Attack => ({ name: `a processing instruction ${where} (XML_FORBIDDEN_CONSTRUCT)`, code: "XML_FORBIDDEN_CONSTRUCT", build: (c) => edit(c.signed()) })),
  ...(
    [
      ["a bare DOCTYPE", "<!DOCTYPE HDon>", ""],
      ["an internal entity", '<!DOCTYPE HDon [<!ENTITY seller "Công ty giả mạo">]>', "&seller;"],
      ["an ATTLIST that declares a default Id", '<!DOCTYPE HDon [<!ATTLIST CCKSKhac Id ID "SigningData">]>', ""],
    ] as const
  ).map(([name, prolog, use]): Attack => ({
    name: `${name} (XML_FORBIDDEN_CONSTRUCT)`,
    code: "XML_FORBIDDEN_CONSTRUCT",
    build: (c) => `<?xml version="1.0" encoding="UTF-8"?>${prolog}${c.signed().replace(/^<\?xml[^>]*\?>/, "").replace("<THDon>", `<THDon>${use}`)}`,
  })),
  {
    name: "two roots: a forged HDon after the signed one (XML_MALFORMED)",
    code: "XML_MALFORMED",
    build: (c) => {
      const xml = c.signed();
      return xml + xml.replace("1100000", "1");
    },
  },
  {
    name: "two roots: a forged HDon before the signed one (XML_MALFORMED)",
    code: "XML_MALFORMED",
    build: (c) => {
      const xml = c.signed();
      return xml.replace("1100000", "1") + xml;
    },
  },
  ...(
    [
      ["on DSCKS (outside the signed data)", (x: string) => x.replace("<DSCKS>", '<DSCKS xmlns:a="relative/path">')],
      ["on the Signature", (x: string) => x.replace(/<Signature /, '<Signature xmlns:r="../up" ')],
    ] as const
  ).map(([where, edit]): Attack => ({ name: `a relative namespace URI ${where} (XML_FORBIDDEN_CONSTRUCT)`, code: "XML_FORBIDDEN_CONSTRUCT", build: (c) => edit(c.signed()) })),
];
