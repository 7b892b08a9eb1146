#!/usr/bin/python3
"""libxmlsec1 in process (python3-xmlsec over lxml) verifying the seller signature of every .xml
file of DIR, as `npm run bench:verify` does with the service's gate: parse, find
DSCKS/NBan/Signature, register the Id attributes, load the key of the KeyInfo certificate
(untrusted: only the cryptography is measured, as in bench:verify), verify digests and signature
value. One warm-up pass, then N passes (default 5, at least 2 s); the figure is the fastest
pass per invoice. Last line:
`xmlsec: <µs> µs/invoice (<N> files)`.
Run with Debian's python: /usr/bin/python3 scripts/bench-verify-xmlsec.py DIR [PASSES]
"""
import os
import sys
import time

import xmlsec
from lxml import etree

DS = "http://www.w3.org/2000/09/xmldsig#"


def verify(data: bytes) -> bool:
    try:
        root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))
        hdon = root if root.tag == "HDon" else root.find(".//HDon")
        sig = hdon.find("DSCKS/NBan/{%s}Signature" % DS)
        if sig is None:
            return False
        xmlsec.tree.add_ids(root, ["Id"])
        cert = "".join(sig.find("{%s}KeyInfo/{%s}X509Data/{%s}X509Certificate" % (DS, DS, DS)).text.split())
        pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(cert[i : i + 64] for i in range(0, len(cert), 64)) + "\n-----END CERTIFICATE-----\n"
        ctx = xmlsec.SignatureContext()
        ctx.key = xmlsec.Key.from_memory(pem.encode(), xmlsec.constants.KeyDataFormatCertPem)
        ctx.verify(sig)
        return True
    except Exception:
        return False


def main() -> None:
    directory = sys.argv[1]
    passes = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    files = sorted(f for f in os.listdir(directory) if f.endswith(".xml"))
    bodies = [open(os.path.join(directory, f), "rb").read() for f in files]
    valid = sum(1 for b in bodies if verify(b))
    print(f"{len(files)} files in {directory}: {valid} verify, {len(files) - valid} do not (warm-up pass)")
    c0 = time.process_time()
    t0 = time.perf_counter()
    done = 0
    p = 0
    best = float("inf")
    while p < passes or time.perf_counter() - t0 < 2:
        s = time.perf_counter()
        for b in bodies:
            verify(b)
        best = min(best, time.perf_counter() - s)
        done += len(bodies)
        p += 1
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print(f"{done} verifications in {wall * 1000:.0f} ms (mean {wall * 1e6 / done:.1f} µs); CPU {cpu * 1e6 / done:.1f} µs/invoice; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"xmlsec: {best * 1e6 / len(bodies):.1f} µs/invoice ({len(files)} files)")


main()
