#!/usr/bin/env python3
"""Signs an e-invoice (HDon) with python-xmlsec over lxml and submits it to Hoadon.

The signature follows the profile of docs/spec/invoice-format.md §4:
  - one Signature in DSCKS/NBan, rsa-sha256 (TransformEcdsaSha256 for an EC key), C14N 1.0, the
    signer's certificate in KeyInfo;
  - Reference 1: "#<DLHDon/@Id>", transforms enveloped-signature + C14N, sha256;
  - Reference 2: "#<Object/@Id>", the Signature's own Object holding the SigningTime (GMT+7,
    no offset), transform C14N only (see docs/signing.md).

Debian: apt-get install python3-xmlsec python3-lxml (or pip install xmlsec lxml). Standard
library otherwise:
  python3 sign_and_submit.py invoice.xml seller.p12 PASSWORD http://127.0.0.1:8080 hdk_… [signed.xml]
Exit status 0 when the service issued the invoice (201) or replayed it (200), 1 otherwise.
"""
import datetime
import sys
import urllib.error
import urllib.request
import uuid

import xmlsec
from lxml import etree

DSIG = "http://www.w3.org/2000/09/xmldsig#"


def child(parent, name):
    return next((e for e in parent if isinstance(e.tag, str) and etree.QName(e).localname == name), None)


def sign(invoice: bytes, p12_path: str, password: str) -> bytes:
    # No DTDs, no entities, no network: the invoice is data.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False)
    root = etree.fromstring(invoice, parser)
    dlhdon = child(root, "DLHDon")
    dscks = child(root, "DSCKS")
    if dscks is None:
        dscks = etree.SubElement(root, "DSCKS")
    nban = child(dscks, "NBan")
    if nban is None:
        nban = etree.SubElement(dscks, "NBan")

    key = xmlsec.Key.from_file(p12_path, xmlsec.constants.KeyDataFormatPkcs12, password)
    method = xmlsec.constants.TransformRsaSha256  # an EC key: xmlsec.constants.TransformEcdsaSha256

    sig_id = "Signature-" + uuid.uuid4().hex
    obj_id = "SigningTime-" + uuid.uuid4().hex
    sig = xmlsec.template.create(root, xmlsec.constants.TransformInclC14N, method, ns=None)  # default namespace, no "ds:" prefix
    sig.set("Id", sig_id)
    nban.append(sig)

    ref = xmlsec.template.add_reference(sig, xmlsec.constants.TransformSha256, uri="#" + dlhdon.get("Id"))
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformInclC14N)
    time_ref = xmlsec.template.add_reference(sig, xmlsec.constants.TransformSha256, uri="#" + obj_id)
    xmlsec.template.add_transform(time_ref, xmlsec.constants.TransformInclC14N)  # C14N only here

    key_info = xmlsec.template.ensure_key_info(sig)
    x509 = xmlsec.template.add_x509_data(key_info)
    xmlsec.template.x509_data_add_certificate(x509)

    # Object/SignatureProperties/SignatureProperty/SigningTime, in the XMLDSig namespace.
    now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=7))).strftime("%Y-%m-%dT%H:%M:%S")
    obj = etree.SubElement(sig, "{%s}Object" % DSIG, Id=obj_id)
    props = etree.SubElement(obj, "{%s}SignatureProperties" % DSIG)
    prop = etree.SubElement(props, "{%s}SignatureProperty" % DSIG, Target="#" + sig_id)
    etree.SubElement(prop, "{%s}SigningTime" % DSIG).text = now

    ctx = xmlsec.SignatureContext()
    ctx.register_id(dlhdon, "Id")
    ctx.register_id(obj, "Id")
    ctx.key = key
    ctx.sign(sig)
    return etree.tostring(root, encoding="utf-8")


def main(argv):
    if len(argv) < 6:
        print("usage: sign_and_submit.py invoice.xml seller.p12 password baseUrl apiKey [signed.xml]", file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        xml = sign(f.read(), argv[2], argv[3])
    if len(argv) > 6:
        with open(argv[6], "wb") as f:
            f.write(xml)
    req = urllib.request.Request(
        argv[4].rstrip("/") + "/v1/invoices",
        data=xml,
        method="POST",
        headers={"Authorization": "Bearer " + argv[5], "Content-Type": "application/xml"},
    )
    try:
        with urllib.request.urlopen(req) as res:
            status, body = res.status, res.read()
    except urllib.error.HTTPError as e:  # 4xx/5xx: the error envelope
        status, body = e.code, e.read()
    print(status)
    print(body.decode("utf-8"))
    return 0 if status in (200, 201) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
