/**
 * A corpus of seller-signed invoices for `npm run bench:verify` and scripts/bench-verify-xmlsec.py:
 * `npm run bench:verify:corpus -- DIR [COUNT] [LINES]` writes COUNT invoices (default 200) of
 * LINES goods lines (default 12: ≈ 6.6 KB, the load tests' size), every one distinct, half signed
 * with the RSA-2048 and half with the P-256 seller certificate of certs/ (rsa-sha256 /
 * ecdsa-sha256, C14N 1.0, SigningTime covered), as DIR/NNNN.xml.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildInvoice, type InvoiceLine } from "../test/helpers/invoice.js";
import { signInvoice } from "../test/helpers/sign.js";

const [dir, countArg, linesArg] = process.argv.slice(2);
if (!dir) {
  console.error("usage: make-verify-corpus DIR [COUNT] [LINES]");
  process.exit(2);
}
const count = Number(countArg ?? 200);
const nLines = Number(linesArg ?? 12);
const certs = new URL("../certs/", import.meta.url);
const read = (f: string) => readFileSync(new URL(f, certs), "utf8");
const keys = [
  { taxCode: "0100000010", keyPem: read("seller-0100000010-rsa.key"), certPem: read("seller-0100000010-rsa.pem"), algorithm: "rsa-sha256" },
  { taxCode: "0310000024", keyPem: read("seller-0310000024-ec.key"), certPem: read("seller-0310000024-ec.pem"), algorithm: "ecdsa-sha256" },
];
mkdirSync(dir, { recursive: true });
for (let i = 0; i < count; i++) {
  const k = keys[i % 2]!;
  const lines: InvoiceLine[] = Array.from({ length: nLines }, (_, j) => ({ name: `Hàng hóa số ${j + 1} — lô ${i}`, unit: "Cái", quantity: 1 + ((i + j) % 7), unitPrice: 10_000 * (1 + (j % 9)), taxRate: "10%" }));
  const xml = signInvoice(buildInvoice({ sellerTaxCode: k.taxCode, number: i + 1, lines }), {
    keyPem: k.keyPem,
    certPem: k.certPem,
    algorithm: k.algorithm,
    c14n: "inclusive",
    signingTime: "2026-11-20T09:30:00",
  } as never);
  writeFileSync(join(dir, `${String(i).padStart(4, "0")}.xml`), xml);
}
console.log(`wrote ${count} invoices of ${nLines} lines to ${dir}`);
