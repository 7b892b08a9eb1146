/**
 * Attack corpus, part 1: the signature profile. Signature wrapping, References that point
 * elsewhere, forbidden transforms, duplicate Ids, extra Signatures and SignedInfos, and the
 * algorithm allow-list. Every fixture is a real signed invoice, tampered and — where the attack
 * needs it — re-signed with the attacker's key, so that only the check under test stands between
 * it and a code. Each expects its stable code and that nothing was stored.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { startHarness, type Harness, type TestSeller } from "../helpers/app.js";
import {
  BASE64,
  ENVELOPED,
  HMAC_SHA1,
  HMAC_SHA256,
  MD5,
  RSA_MD5,
  XPATH,
  XPATH2,
  XSLT,
  all,
  certDer,
  ds,
  dsElement,
  kids,
  one,
  reference,
  resign,
  rewrite,
  sellerSignature,
  transformsOf,
} from "../helpers/attacks.js";
import { expectIssued, expectRefused } from "../helpers/refusal.js";

let h: Harness;
let s: TestSeller;

beforeAll(async () => {
  h = await startHarness();
  s = await h.seller();
});
afterAll(async () => h?.close());

const refused = (xml: string | Uint8Array, code: Parameters<typeof expectRefused>[2], key = s.apiKey) => expectRefused(h, xml, code, key);

/** A fresh signed invoice of the file's seller, with an amount worth forging. */
const signed = (opts: Parameters<TestSeller["invoice"]>[1] = {}) =>
  s.invoice({ lines: [{ name: "Máy chủ", quantity: 1, unitPrice: 1_000_000, taxRate: "10%" }] }, opts);

/** The same invoice with the amounts a forger wants (and consistent totals). */
function forge(dlhdon: Element): void {
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

describe("signature wrapping", () => {
  for (const [where, place] of [
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
  ] as const) {
    it(`refuses the signed DLHDon moved into ${where} with a forged DLHDon in its place under the same Id (SIGNATURE_PROFILE)`, async () => {
      const xml = rewrite(signed(), (doc) => {
        const original = one(doc, "DLHDon");
        const forged = original.cloneNode(true) as Element;
        forge(forged);
        doc.documentElement!.replaceChild(forged, original);
        place(doc, original);
      });
      expect(xml.match(/<DLHDon /g)).toHaveLength(2);
      await refused(xml, "SIGNATURE_PROFILE");
    });
  }

  it("refuses a forged DLHDon under a new Id when the Reference still names the moved original (SIGNATURE_PROFILE)", async () => {
    const xml = rewrite(signed(), (doc) => {
      const original = one(doc, "DLHDon");
      const forged = original.cloneNode(true) as Element;
      forge(forged);
      forged.setAttribute("Id", "Forged");
      doc.documentElement!.replaceChild(forged, original);
      const sig = sellerSignature(doc);
      const obj = dsElement(doc, sig, "Object");
      obj.appendChild(original);
      sig.appendChild(obj);
    });
    await refused(xml, "SIGNATURE_PROFILE");
  });

  it("refuses a forged DLHDon whose amounts changed in place (SIGNATURE_INVALID)", async () => {
    await refused(rewrite(signed(), (doc) => forge(one(doc, "DLHDon"))), "SIGNATURE_INVALID");
  });

  for (const [what, edit] of [
    ["TTChung inside DLHDon", (doc: Document) => one(doc, "TTChung").setAttribute("Id", "part")],
    ["NDHDon inside DLHDon", (doc: Document) => one(doc, "NDHDon").setAttribute("Id", "part")],
    ["the HDon root (covering everything)", (doc: Document) => doc.documentElement!.setAttribute("Id", "part")],
    ["DSCKS", (doc: Document) => one(doc, "DSCKS").setAttribute("Id", "part")],
  ] as const) {
    it(`refuses a correctly re-signed Reference to ${what} instead of DLHDon (SIGNATURE_PROFILE)`, async () => {
      const xml = resign(signed(), s.keyPem, ({ doc, signedInfo }) => {
        edit(doc);
        kids(signedInfo).find((k) => k.localName === "Reference")!.setAttribute("URI", "#part");
      });
      await refused(xml, "SIGNATURE_PROFILE");
    });
  }

  it("refuses a Reference to the buyer's signature Object instead of the seller's own (SIGNATURE_PROFILE)", async () => {
    const xml = resign(signed(), s.keyPem, ({ doc, signature, signedInfo }) => {
      const buyer = doc.createElement("NMua");
      const other = signature.cloneNode(true) as Element;
      for (const e of [other, ...Array.from(other.getElementsByTagName("*"))]) if (e.getAttribute("Id")) e.setAttribute("Id", `buyer-${e.getAttribute("Id")}`);
      buyer.appendChild(other);
      one(doc, "DSCKS").appendChild(buyer);
      const objRef = kids(signedInfo).filter((k) => k.localName === "Reference")[1]!;
      objRef.setAttribute("URI", `#buyer-${objRef.getAttribute("URI")!.slice(1)}`);
    });
    await refused(xml, "SIGNATURE_PROFILE");
  });

  it("refuses an empty Reference URI (the whole document), correctly re-signed (SIGNATURE_PROFILE)", async () => {
    const xml = resign(signed(), s.keyPem, ({ signedInfo }) => kids(signedInfo).find((k) => k.localName === "Reference")!.setAttribute("URI", ""));
    await refused(xml, "SIGNATURE_PROFILE");
  });

  it("refuses a Reference without a URI (SIGNATURE_PROFILE)", async () => {
    const xml = resign(signed(), s.keyPem, ({ signedInfo }) => kids(signedInfo).find((k) => k.localName === "Reference")!.removeAttribute("URI"));
    await refused(xml, "SIGNATURE_PROFILE");
  });

  for (const uri of ["http://attacker.example/invoice.xml#SigningData", "file:///etc/passwd", "invoice.xml#SigningData", "#xpointer(id('SigningData'))", "#xpointer(/)", "#"]) {
    it(`refuses the external or non-Id Reference URI ${JSON.stringify(uri)} (SIGNATURE_PROFILE)`, async () => {
      const xml = resign(signed(), s.keyPem, ({ signedInfo }) => kids(signedInfo).find((k) => k.localName === "Reference")!.setAttribute("URI", uri), { digests: "keep" });
      await refused(xml, "SIGNATURE_PROFILE");
    });
  }

  for (const [name, alg, param] of [
    ["an XPath filter", XPATH, "XPath"],
    ["an XPath Filter 2.0", XPATH2, "XPath"],
    ["an XSLT", XSLT, null],
    ["a base64", BASE64, null],
    ["an unknown", "urn:attacker:transform", null],
  ] as const) {
    it(`refuses ${name} transform on the DLHDon Reference, correctly re-signed (SIGNATURE_PROFILE)`, async () => {
      const xml = resign(signed(), s.keyPem, ({ doc, signedInfo }) => {
        const ref = kids(signedInfo).find((k) => k.localName === "Reference")!;
        const t = dsElement(doc, ref, "Transform", { Algorithm: alg });
        if (param) t.appendChild(dsElement(doc, ref, param, alg === XPATH2 ? { Filter: "subtract" } : {}, "ancestor-or-self::*[local-name()='Signature']"));
        if (alg === XSLT) {
          const xsl = doc.createElementNS("http://www.w3.org/1999/XSL/Transform", "xsl:stylesheet");
          xsl.setAttribute("version", "1.0");
          t.appendChild(xsl);
        }
        transformsOf(ref).insertBefore(t, transformsOf(ref).firstChild);
      });
      await refused(xml, "SIGNATURE_PROFILE");
    });
  }

  it("refuses a third Reference (to a second Object), correctly re-signed (SIGNATURE_PROFILE)", async () => {
    const xml = resign(signed(), s.keyPem, ({ doc, signature, signedInfo }) => {
      const obj = dsElement(doc, signature, "Object", { Id: "extra-object" }, "anything");
      signature.appendChild(obj);
      signedInfo.appendChild(reference(doc, signedInfo, "#extra-object"));
    });
    await refused(xml, "SIGNATURE_PROFILE");
  });

  it("refuses two References to DLHDon, correctly re-signed (SIGNATURE_PROFILE)", async () => {
    const xml = resign(signed({ signingTime: null }), s.keyPem, ({ signedInfo }) => {
      const first = kids(signedInfo).find((k) => k.localName === "Reference")!;
      signedInfo.appendChild(first.cloneNode(true));
    });
    await refused(xml, "SIGNATURE_PROFILE");
  });

  it("refuses the Object Reference alone, with no Reference covering DLHDon (SIGNATURE_PROFILE)", async () => {
    const xml = resign(signed(), s.keyPem, ({ signedInfo }) => signedInfo.removeChild(kids(signedInfo).find((k) => k.localName === "Reference")!));
    await refused(xml, "SIGNATURE_PROFILE");
  });

  it("refuses a SigningTime Reference whose digest is that of empty canonical output (what a spec-literal enveloped transform on the Object gives) (SIGNATURE_INVALID)", async () => {
    // By the XMLDSig text, enveloped-signature on a Reference to the signature's own Object removes
    // the whole Signature and leaves nothing: a verifier that does that (xmlsec1) accepts any
    // Object content, so SigningTime could be forged. Ours digests the Object itself.
    const empty = createHash("sha256").update("").digest("base64");
    const xml = resign(
      signed(),
      s.keyPem,
      ({ doc, signedInfo }) => {
        const objRef = kids(signedInfo).filter((k) => k.localName === "Reference")[1]!;
        const ts = transformsOf(objRef);
        ts.insertBefore(dsElement(doc, objRef, "Transform", { Algorithm: ENVELOPED }), ts.firstChild);
        const st = all(doc, "SigningTime")[0]!;
        st.replaceChild(doc.createTextNode("2026-01-01T00:00:00"), st.firstChild!);
      },
      { digestOverride: { 1: empty } },
    );
    await refused(xml, "SIGNATURE_INVALID");
  });
});

describe("duplicate Ids", () => {
  for (const attr of ["Id", "ID", "id", "xml:id"]) {
    it(`refuses a second element whose ${attr} repeats the DLHDon Id (SIGNATURE_PROFILE)`, async () => {
      const xml = rewrite(signed(), (doc) => {
        const decoy = doc.createElement("CCKSKhac");
        decoy.setAttribute(attr, one(doc, "DLHDon").getAttribute("Id")!);
        one(doc, "DSCKS").appendChild(decoy);
      });
      await refused(xml, "SIGNATURE_PROFILE");
    });
  }

  it("refuses an Id in another namespace (wsu:Id) that repeats the DLHDon Id, which xml-crypto resolves by local name (SIGNATURE_PROFILE)", async () => {
    const xml = rewrite(signed(), (doc) => {
      const decoy = doc.createElement("CCKSKhac");
      decoy.setAttributeNS("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd", "wsu:Id", one(doc, "DLHDon").getAttribute("Id")!);
      one(doc, "DSCKS").appendChild(decoy);
    });
    await refused(xml, "SIGNATURE_PROFILE");
  });

  it("refuses an Id repeated inside the signed DLHDon itself, correctly re-signed (SIGNATURE_PROFILE)", async () => {
    const xml = resign(signed(), s.keyPem, ({ doc }) => all(doc, "NBan")[0]!.setAttribute("ID", one(doc, "DLHDon").getAttribute("Id")!));
    await refused(xml, "SIGNATURE_PROFILE");
  });

  it("refuses an Id repeated on two elements that no Reference names: Ids are unique in the whole document (SIGNATURE_PROFILE)", async () => {
    const xml = rewrite(signed(), (doc) => {
      for (const name of ["CCKSKhac", "NMua"]) {
        const e = doc.createElement(name);
        e.setAttribute("Id", "unrelated");
        one(doc, "DSCKS").appendChild(e);
      }
    });
    await refused(xml, "SIGNATURE_PROFILE");
  });

  it("refuses the SigningTime Object's Id repeated elsewhere (SIGNATURE_PROFILE)", async () => {
    const xml = rewrite(signed(), (doc) => {
      const objId = all(doc, "Object")[0]!.getAttribute("Id")!;
      const decoy = doc.createElement("NMua");
      decoy.setAttribute("id", objId);
      one(doc, "DSCKS").appendChild(decoy);
    });
    await refused(xml, "SIGNATURE_PROFILE");
  });
});

describe("extra Signatures and SignedInfos", () => {
  it("refuses two Signatures under DSCKS/NBan (SIGNATURE_PROFILE)", async () => {
    const xml = rewrite(signed(), (doc) => {
      const sig = sellerSignature(doc);
      const copy = sig.cloneNode(true) as Element;
      for (const e of [copy, ...Array.from(copy.getElementsByTagName("*"))]) if (e.getAttribute("Id")) e.setAttribute("Id", `copy-${e.getAttribute("Id")}`);
      sig.parentNode!.appendChild(copy);
    });
    await refused(xml, "SIGNATURE_PROFILE");
  });

  it("refuses two SignedInfo elements in the seller's Signature (SIGNATURE_PROFILE)", async () => {
    const xml = rewrite(signed(), (doc) => {
      const sig = sellerSignature(doc);
      const si = ds(sig, "SignedInfo");
      const forged = si.cloneNode(true) as Element;
      sig.insertBefore(forged, si.nextSibling);
    });
    await refused(xml, "SIGNATURE_PROFILE");
  });

  it("refuses two SignatureValue or two KeyInfo elements (SIGNATURE_PROFILE)", async () => {
    for (const name of ["SignatureValue", "KeyInfo"]) {
      const xml = rewrite(signed(), (doc) => {
        const sig = sellerSignature(doc);
        const e = ds(sig, name);
        sig.insertBefore(e.cloneNode(true), e);
      });
      await refused(xml, "SIGNATURE_PROFILE");
    }
  });

  for (const [where, place] of [
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
  ] as const) {
    it(`refuses a Signature ${where} (SIGNATURE_PROFILE)`, async () => {
      const xml = rewrite(signed(), (doc) => {
        const copy = sellerSignature(doc).cloneNode(true) as Element;
        for (const e of [copy, ...Array.from(copy.getElementsByTagName("*"))]) if (e.getAttribute("Id")) e.setAttribute("Id", `stray-${e.getAttribute("Id")}`);
        place(doc, copy);
      });
      await refused(xml, "SIGNATURE_PROFILE");
    });
  }

  it("refuses KeyInfo/RetrievalMethod (keys fetched from elsewhere) (SIGNATURE_PROFILE)", async () => {
    const xml = rewrite(signed(), (doc) => {
      const ki = ds(sellerSignature(doc), "KeyInfo");
      ki.appendChild(dsElement(doc, ki, "RetrievalMethod", { URI: "http://attacker.example/key.der" }));
    });
    await refused(xml, "SIGNATURE_PROFILE");
  });

  it("refuses an HMACOutputLength parameter that would truncate the signature (SIGNATURE_PROFILE or ALGORITHM_NOT_ALLOWED)", async () => {
    const xml = rewrite(signed(), (doc) => {
      const sm = ds(ds(sellerSignature(doc), "SignedInfo"), "SignatureMethod");
      sm.appendChild(dsElement(doc, sm, "HMACOutputLength", {}, "0"));
    });
    await refused(xml, "SIGNATURE_PROFILE");
  });
});

describe("algorithms", () => {
  const setAlg = (el: Element, uri: string) => el.setAttribute("Algorithm", uri);
  const signatureMethod = (si: Element) => ds(si, "SignatureMethod");
  const digestMethods = (si: Element) => kids(si).filter((k) => k.localName === "Reference").map((r) => ds(r, "DigestMethod"));

  for (const [name, uri] of [
    ["hmac-sha256", HMAC_SHA256],
    ["hmac-sha1", HMAC_SHA1],
  ] as const) {
    for (const [secretName, secret] of [
      ["the certificate's DER", () => certDer(s.certPem)],
      ["the certificate's PEM text", () => s.certPem],
    ] as const) {
      it(`refuses ${name} keyed with ${secretName} (ALGORITHM_NOT_ALLOWED)`, async () => {
        const xml = resign(signed(), s.keyPem, ({ signedInfo }) => setAlg(signatureMethod(signedInfo), uri), { hmacSecret: secret() });
        await refused(xml, "ALGORITHM_NOT_ALLOWED");
      });
    }
  }

  it("refuses rsa-sha1 with sha1 digests while legacy SHA-1 is off (ALGORITHM_NOT_ALLOWED), and accepts it when the operator enables it", async () => {
    const xml = signed({ algorithm: "rsa-sha1", digest: "http://www.w3.org/2000/09/xmldsig#sha1" });
    await refused(xml, "ALGORITHM_NOT_ALLOWED");
    const legacy = await startHarness({ allowSha1: true });
    try {
      const t = await legacy.seller();
      await expectIssued(legacy, t.invoice({}, { algorithm: "rsa-sha1", digest: "http://www.w3.org/2000/09/xmldsig#sha1" }), t.apiKey);
    } finally {
      await legacy.close();
    }
  });

  it("refuses sha1 digests under rsa-sha256 while legacy SHA-1 is off (ALGORITHM_NOT_ALLOWED)", async () => {
    await refused(signed({ digest: "http://www.w3.org/2000/09/xmldsig#sha1" }), "ALGORITHM_NOT_ALLOWED");
  });

  it("refuses rsa-md5 and md5 digests, correctly re-signed (ALGORITHM_NOT_ALLOWED)", async () => {
    const both = resign(signed(), s.keyPem, ({ signedInfo }) => {
      setAlg(signatureMethod(signedInfo), RSA_MD5);
      for (const d of digestMethods(signedInfo)) setAlg(d, MD5);
    });
    await refused(both, "ALGORITHM_NOT_ALLOWED");
    const digestOnly = resign(signed(), s.keyPem, ({ signedInfo }) => setAlg(digestMethods(signedInfo)[0]!, MD5));
    await refused(digestOnly, "ALGORITHM_NOT_ALLOWED");
  });

  for (const [what, edit] of [
    ["SignatureMethod", (si: Element) => setAlg(signatureMethod(si), "http://attacker.example/rsa-sha256")],
    ["DigestMethod", (si: Element) => setAlg(digestMethods(si)[0]!, "urn:attacker:digest")],
    ["CanonicalizationMethod", (si: Element) => setAlg(ds(si, "CanonicalizationMethod"), "http://www.w3.org/2006/12/xml-c14n11")],
    ["SignatureMethod (dsa-sha1)", (si: Element) => setAlg(signatureMethod(si), "http://www.w3.org/2000/09/xmldsig#dsa-sha1")],
    ["SignatureMethod (rsa-pss)", (si: Element) => setAlg(signatureMethod(si), "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1")],
  ] as const) {
    it(`refuses an unknown ${what} URI (ALGORITHM_NOT_ALLOWED)`, async () => {
      await refused(resign(signed(), s.keyPem, ({ signedInfo }) => edit(signedInfo)), "ALGORITHM_NOT_ALLOWED");
    });
  }

  it("refuses ecdsa-sha256 declared over a value made with an RSA key (SIGNATURE_INVALID)", async () => {
    const xml = resign(signed(), s.keyPem, ({ signedInfo }) => setAlg(signatureMethod(signedInfo), "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"));
    await refused(xml, "SIGNATURE_INVALID");
  });

  it("refuses rsa-sha256 declared over a value actually made with sha512 or sha1 (SIGNATURE_INVALID)", async () => {
    for (const actualHash of ["sha512", "sha1"]) {
      await refused(resign(signed(), s.keyPem, undefined, { actualHash }), "SIGNATURE_INVALID");
    }
  });

  it("accepts allowed signature and digest algorithms mixed (rsa-sha256 over sha512 digests): both are in the allow-list", async () => {
    await expectIssued(h, signed({ digest: "http://www.w3.org/2001/04/xmlenc#sha512" }), s.apiKey);
  });

  for (const [where, pick] of [
    ["SignatureMethod", (si: Element) => signatureMethod(si)],
    ["DigestMethod", (si: Element) => digestMethods(si)[0]!],
    ["CanonicalizationMethod", (si: Element) => ds(si, "CanonicalizationMethod")],
  ] as const) {
    it(`refuses whitespace around the ${where} URI, correctly re-signed (ALGORITHM_NOT_ALLOWED)`, async () => {
      for (const pad of [(u: string) => ` ${u}`, (u: string) => `${u}\n`, (u: string) => `\t${u} `]) {
        const xml = resign(signed(), s.keyPem, ({ signedInfo }) => {
          const el = pick(signedInfo);
          el.setAttribute("Algorithm", pad(el.getAttribute("Algorithm")!));
        });
        await refused(xml, "ALGORITHM_NOT_ALLOWED");
      }
    });
  }

  it("refuses whitespace around a Transform URI, correctly re-signed (SIGNATURE_PROFILE)", async () => {
    const xml = resign(signed(), s.keyPem, ({ signedInfo }) => {
      const t = kids(transformsOf(kids(signedInfo).find((k) => k.localName === "Reference")!))[0]!;
      t.setAttribute("Algorithm", ` ${t.getAttribute("Algorithm")}`);
    });
    await refused(xml, "SIGNATURE_PROFILE");
  });

  it("still accepts the untouched invoice these attacks start from (the attacks fail for their own reason)", async () => {
    await expectIssued(h, signed(), s.apiKey);
    await expectIssued(h, resign(signed(), s.keyPem), s.apiKey);
  });
});
