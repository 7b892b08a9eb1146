/**
 * A client generated from /openapi.json with openapi-typescript compiles under `tsc --strict`
 * and calls the API: it submits an invoice (201, then 200 for the replay), reads a refusal's
 * code as the generated ErrorCode enum, and verifies the invoice by its code. The generated types
 * are what a TypeScript integrator gets; the calls go through the real app on the test database.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import openapiTS from "openapi-typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { ROOT } from "../helpers/process.js";

const CLIENT = `
import type { components, paths } from "./api";

export type Issued = paths["/v1/invoices"]["post"]["responses"][201]["content"]["application/json"];
export type Refusal = components["schemas"]["Error"];
export type ErrorCode = components["schemas"]["ErrorCode"];
export type PublicInvoice = paths["/v1/verify/{code}"]["get"]["responses"][200]["content"]["application/json"];
type Code = paths["/v1/verify/{code}"]["get"]["parameters"]["path"]["code"];

// The error code is an enum, not any string:
export const example: ErrorCode = "SIGNATURE_INVALID";
// @ts-expect-error a code that does not exist
export const notACode: ErrorCode = "NOT_A_CODE";

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

export class HoadonClient {
  constructor(private readonly base: string, private readonly apiKey: string, private readonly fetchFn: Fetch) {}

  async submitInvoice(xml: string): Promise<{ status: 200 | 201; body: Issued } | { status: number; body: Refusal }> {
    const res = await this.fetchFn(this.base + "/v1/invoices", {
      method: "POST",
      headers: { authorization: "Bearer " + this.apiKey, "content-type": "application/xml", "x-request-id": "client-test-1" },
      body: xml,
    });
    if (res.status === 200 || res.status === 201) return { status: res.status, body: (await res.json()) as Issued };
    return { status: res.status, body: (await res.json()) as Refusal };
  }

  async verifyByCode(code: Code): Promise<PublicInvoice> {
    const res = await this.fetchFn(this.base + "/v1/verify/" + encodeURIComponent(code));
    if (res.status !== 200) throw new Error("verify: " + res.status);
    return (await res.json()) as PublicInvoice;
  }
}
`;

let h: Harness;
let seller: TestSeller;
let dir: string;

beforeAll(async () => {
  h = await startHarness();
  seller = await h.seller();
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  dir = mkdtempSync(join(ROOT, "dist", "openapi-client-"));
});

afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a client generated from /openapi.json (openapi-typescript)", () => {
  it("compiles under tsc --strict and calls the API", async () => {
    const doc = (await (await h.app.request("/openapi.json")).json()) as Record<string, unknown>;
    const types = await openapiTS(doc as never);
    expect(types).toContain("submitInvoice");
    writeFileSync(join(dir, "api.ts"), types);
    writeFileSync(join(dir, "client.ts"), CLIENT);

    const options = ["--ignoreConfig", "--noEmit", "--strict", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler"];
    const tsc = spawnSync(join(ROOT, "node_modules/.bin/tsc"), [...options, "--lib", "es2022,dom", "--types", "", "client.ts", "api.ts"], { cwd: dir, encoding: "utf8" });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);

    const { HoadonClient } = (await import(join(dir, "client.ts"))) as { HoadonClient: new (base: string, key: string, f: (u: string, i?: RequestInit) => Promise<Response>) => any };
    const client = new HoadonClient("http://hoadon.test", seller.apiKey, async (url, init) => h.app.request(url.replace("http://hoadon.test", ""), init));
    const xml = seller.invoice();

    const first = await client.submitInvoice(xml);
    expect(first.status).toBe(201);
    expect(first.body.code).toMatch(/^[0-9A-F]{34}$/);
    const again = await client.submitInvoice(xml);
    expect({ status: again.status, code: again.body.code }).toEqual({ status: 200, code: first.body.code });

    const tampered = await client.submitInvoice(seller.invoice().replace(/<SHDon>(\d+)<\/SHDon>/, (_: string, n: string) => `<SHDon>${Number(n) + 1000}</SHDon>`));
    expect(tampered.status).toBe(422);
    expect(tampered.body.error.code).toBe("SIGNATURE_INVALID");

    const verified = await client.verifyByCode(first.body.code);
    expect({ valid: verified.valid, code: verified.code, seller: verified.sellerTaxCode }).toEqual({ valid: true, code: first.body.code, seller: seller.taxCode });
  });
});
