/**
 * The signing samples of examples/ (C# with SignedXml on Mono, Java with javax.xml.crypto.dsig,
 * Python with python-xmlsec over lxml) are independent signers: each is built, signs a fresh
 * invoice with its own platform's XMLDSig library and submits it to the service, started as a
 * child process on PostgreSQL. Each must get 201 with a code, the invoice must be stored under
 * that code, and xmlsec1 must verify the signature the sample made (a fourth opinion).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, NEEDS_POSTGRES, type RemoteSeller, registerSeller, removeDataDirs, SERVER_URL, serviceEnv } from "../faults/common.js";
import { buildInvoice, nextNumber } from "../helpers/invoice.js";
import { type NodeService, ROOT, startService } from "../helpers/process.js";

const PYTHON = ["/usr/bin/python3", "python3"].find((p) => spawnSync(p, ["-c", "import xmlsec, lxml"]).status === 0);
const P12_PASSWORD = "sample-p12-password";
/** A connection per request: a sample runs for seconds, longer than the server keeps an idle connection. */
const noKeepAlive = new Agent({ pipelining: 0 });

function run(cmd: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 120_000 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function must(r: { status: number | null; stdout: string; stderr: string }, what: string): void {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

describe.skipIf(!SERVER_URL)(`signing samples (${SERVER_URL ? "PostgreSQL" : NEEDS_POSTGRES})`, () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let svc: NodeService;
  let seller: RemoteSeller;
  let dir: string;
  let p12: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "hoadon-samples-"));
    db = await freshDatabase(SERVER_URL!);
    svc = await startService(serviceEnv(db.url));
    seller = await registerSeller(svc.url);
    // A PKCS#12 file, as vendors keep their signing keys (3DES/SHA-1 PBE: what Mono reads).
    writeFileSync(join(dir, "seller.key"), seller.cert.keyPem);
    writeFileSync(join(dir, "seller.pem"), seller.cert.certPem);
    p12 = join(dir, "seller.p12");
    must(
      run("openssl", ["pkcs12", "-export", "-inkey", "seller.key", "-in", "seller.pem", "-out", p12, "-passout", `pass:${P12_PASSWORD}`,
        "-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"], dir),
      "openssl pkcs12",
    );
  });

  afterAll(async () => {
    await svc?.kill();
    await db?.drop();
    removeDataDirs();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Writes a fresh unsigned invoice, runs the sample on it, checks the answer, the stored invoice and xmlsec1's verdict. */
  async function issueWith(name: string, command: (invoice: string, signed: string) => [string, string[]]): Promise<void> {
    const number = nextNumber();
    const invoice = join(dir, `${name}-invoice.xml`);
    const signed = join(dir, `${name}-signed.xml`);
    writeFileSync(invoice, buildInvoice({ sellerTaxCode: seller.taxCode, number }));
    const [cmd, args] = command(invoice, signed);
    const r = run(cmd, args, dir);
    const [status, body] = r.stdout.split("\n");
    expect({ status, exit: r.status }, `${r.stdout}\n${r.stderr}`).toEqual({ status: "201", exit: 0 });
    const answer = JSON.parse(body!) as { code: string; number: number; sellerTaxCode: string };
    expect(answer.code).toMatch(/^[0-9A-F]{34}$/);
    expect({ number: answer.number, seller: answer.sellerTaxCode }).toEqual({ number, seller: seller.taxCode });

    const stored = await fetch(`${svc.url}/v1/invoices/${answer.code}`, { headers: { authorization: `Bearer ${seller.apiKey}` }, dispatcher: noKeepAlive } as RequestInit);
    expect(stored.status).toBe(200);
    expect(((await stored.json()) as { code: string }).code).toBe(answer.code);

    // The sample's signature verifies with xmlsec1 against the development trust anchors.
    const v = run("xmlsec1", ["--verify", "--trusted-pem", join(ROOT, "certs/trust-anchors.pem"), "--untrusted-pem", join(ROOT, "certs/intermediates.pem"),
      "--id-attr:Id", "DLHDon", "--node-xpath", "//*[local-name()='NBan']/*[local-name()='Signature']", signed], dir);
    expect(v.status, v.stderr).toBe(0);
    // What the sample signed is the invoice it was given: only DSCKS/NBan gained the Signature.
    const before = readFileSync(invoice, "utf8");
    const after = readFileSync(signed, "utf8");
    expect(/<DLHDon[\s\S]*<\/DLHDon>/.exec(after)![0]).toBe(/<DLHDon[\s\S]*<\/DLHDon>/.exec(before)![0]);
  }

  it("C#: System.Security.Cryptography.Xml.SignedXml on Mono", async () => {
    must(run("mcs", ["-r:System.Security.dll", `-out:${join(dir, "SignAndSubmit.exe")}`, join(ROOT, "examples/csharp/SignAndSubmit.cs")], dir), "mcs");
    await issueWith("csharp", (inv, out) => ["mono", [join(dir, "SignAndSubmit.exe"), inv, p12, P12_PASSWORD, svc.url, seller.apiKey, out]]);
  });

  it("Java: javax.xml.crypto.dsig (JDK 17)", async () => {
    must(run("javac", ["-d", join(dir, "java"), join(ROOT, "examples/java/SignAndSubmit.java")], dir), "javac");
    await issueWith("java", (inv, out) => ["java", ["-cp", join(dir, "java"), "SignAndSubmit", inv, p12, P12_PASSWORD, svc.url, seller.apiKey, out]]);
  });

  it("Python: python-xmlsec over lxml", async () => {
    if (!PYTHON) throw new Error("python3 with xmlsec and lxml is needed (apt-get install python3-xmlsec python3-lxml)");
    await issueWith("python", (inv, out) => [PYTHON, [join(ROOT, "examples/python/sign_and_submit.py"), inv, p12, P12_PASSWORD, svc.url, seller.apiKey, out]]);
  });
});
