/**
 * `hoadon submit --url URL --key API_KEY [--dry-run] FILE…`: POST /v1/invoices, one file at a time;
 * prints each answer's status and body. Exit 0 when every file was issued (201) or replayed (200).
 *
 * `hoadon verify (--url URL | --authority-cert FILE) FILE`: a stamped invoice, either through the
 * service (POST /v1/verify: signatures, the code's MAC, the record, the status), or offline
 * against the authority's certificate (the seller's and the authority's signatures verify, and
 * the authority's was made with that certificate). Exit 0 when genuine.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { checkSignatures } from "./check.js";
import type { CliIo } from "./io.js";

export async function submit(args: string[], io: CliIo): Promise<number> {
  let p;
  try {
    p = parseArgs({ args, allowPositionals: true, options: { url: { type: "string" }, key: { type: "string" }, "dry-run": { type: "boolean" } } });
  } catch (e) {
    io.err(`hoadon submit: ${(e as Error).message}`);
    return 2;
  }
  const { url, key } = p.values;
  if (!url || !key || p.positionals.length === 0) {
    io.err("usage: hoadon submit --url URL --key API_KEY [--dry-run] FILE…");
    return 2;
  }
  let ok = true;
  for (const file of p.positionals) {
    const res = await io.fetch(`${url.replace(/\/+$/, "")}/v1/invoices${p.values["dry-run"] ? "?dryRun=true" : ""}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/xml" },
      body: readFileSync(file),
    });
    const body = await res.text();
    io.out(`${file}: ${res.status} ${body}`);
    ok &&= res.status === 200 || res.status === 201;
  }
  return ok ? 0 : 1;
}

export async function verify(args: string[], io: CliIo): Promise<number> {
  let p;
  try {
    p = parseArgs({ args, allowPositionals: true, options: { url: { type: "string" }, "authority-cert": { type: "string" }, "allow-sha1": { type: "boolean" } } });
  } catch (e) {
    io.err(`hoadon verify: ${(e as Error).message}`);
    return 2;
  }
  const { url } = p.values;
  const certFile = p.values["authority-cert"];
  if ((!url && !certFile) || p.positionals.length !== 1) {
    io.err("usage: hoadon verify (--url URL | --authority-cert FILE [--allow-sha1]) FILE");
    return 2;
  }
  const xml = readFileSync(p.positionals[0]!, "utf8");
  if (url) {
    const res = await io.fetch(`${url.replace(/\/+$/, "")}/v1/verify`, { method: "POST", headers: { "content-type": "application/xml" }, body: xml });
    const body = await res.text();
    io.out(body);
    return res.status === 200 && (JSON.parse(body) as { valid?: boolean }).valid === true ? 0 : 1;
  }
  const authority = new X509Certificate(readFileSync(certFile!));
  const sigs = checkSignatures(xml, !!p.values["allow-sha1"]);
  const seller = sigs.find((s) => s.role === "seller");
  const cqt = sigs.find((s) => s.role === "authority");
  const signer = /<(?:\w+:)?CQT>[\s\S]*?<(?:\w+:)?X509Certificate>([^<]+)</.exec(xml)?.[1]?.replace(/\s+/g, "");
  const byAuthority = !!signer && Buffer.from(signer, "base64").equals(authority.raw);
  const checks = { sellerSignature: !!seller?.valid, authoritySignature: !!cqt?.valid && byAuthority };
  io.out(JSON.stringify({ valid: checks.sellerSignature && checks.authoritySignature, checks, ...(cqt && !byAuthority ? { reason: "the CQT signature was not made with this authority certificate" } : {}) }));
  return checks.sellerSignature && checks.authoritySignature ? 0 : 1;
}
