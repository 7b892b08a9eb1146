/**
 * The app behind @hono/node-server, as src/server.ts serves it, over a real socket: the bodies of
 * POST /v1/invoices, the batch and POST /v1/verify are read from node:http's request stream (not
 * through the web Request that app.request builds), so the limits, the refusals and a client
 * that goes away mid-body are checked here, where that path runs.
 */
import type { Server } from "node:http";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, type TestSeller } from "../helpers/app.js";
import { nextNumber } from "../helpers/invoice.js";

let h: Harness;
let s: TestSeller;
let server: Server;
let port: number;

beforeAll(async () => {
  h = await startHarness();
  s = await h.seller();
  server = await new Promise<Server>((resolve) => {
    const srv = serve({ fetch: h.app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(srv as Server)) as Server;
  });
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => {
    server?.close(resolve);
    server?.closeAllConnections();
  });
  await h?.close();
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request on its own connection. `chunks` are written one by one (chunked transfer encoding
 * unless a content-length header is given); `abortAfter` destroys the socket after that many chunks.
 */
function send(method: string, path: string, headers: Record<string, string>, chunks: (string | Buffer)[], opts: { abortAfter?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, headers: { connection: "close", ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (d: Buffer) => parts.push(d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    (async () => {
      for (let i = 0; i < chunks.length; i++) {
        if (opts.abortAfter === i) {
          req.destroy(new Error("client went away"));
          return;
        }
        if (!req.write(chunks[i]!)) await new Promise((r) => req.once("drain", r));
      }
      req.end();
    })().catch(reject);
  });
}

const errorCode = (a: Answer) => (JSON.parse(a.body) as { error: { code: string; requestId: string } }).error;
const xmlHeaders = () => ({ authorization: `Bearer ${s.apiKey}`, "content-type": "application/xml" });
/** A body of `total` bytes in chunks of `size`. */
const pieces = (total: number, size = 64 * 1024): Buffer[] => Array.from({ length: Math.ceil(total / size) }, (_, i) => Buffer.alloc(Math.min(size, total - i * size), 0x20));

describe("POST /v1/invoices over node:http", () => {
  it("issues an invoice sent in several chunks, as app.request does, with the request id echoed", async () => {
    const xml = Buffer.from(s.invoice({ number: nextNumber() }));
    const cut = [xml.subarray(0, 100), xml.subarray(100, 3000), xml.subarray(3000)];
    const res = await send("POST", "/v1/invoices", { ...xmlHeaders(), "x-request-id": "node-http-1" }, cut);
    expect(res.status).toBe(201);
    expect(res.headers["x-request-id"]).toBe("node-http-1");
    const issued = JSON.parse(res.body) as { code: string; xml: string };
    expect(res.headers.location).toBe(`/v1/invoices/${issued.code}`);
    expect(issued.xml).toContain(`<MCCQT`);
    // The same signed invoice again: the replay, 200 with the same code.
    const again = await send("POST", "/v1/invoices", xmlHeaders(), [xml]);
    expect(again.status).toBe(200);
    expect((JSON.parse(again.body) as { code: string }).code).toBe(issued.code);
  });

  it("refuses a chunked body past 2 MiB with 413 PAYLOAD_TOO_LARGE (no Content-Length to go by)", async () => {
    const res = await send("POST", "/v1/invoices", xmlHeaders(), pieces(2 * 1024 * 1024 + 1));
    expect(res.status).toBe(413);
    expect(errorCode(res).code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("refuses a declared Content-Length past 2 MiB before reading the body", async () => {
    const res = await send("POST", "/v1/invoices", { ...xmlHeaders(), "content-length": String(3 * 1024 * 1024) }, []);
    expect(res.status).toBe(413);
    expect(errorCode(res).code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("reads an empty body as empty (XML_MALFORMED), not as a hang", async () => {
    const res = await send("POST", "/v1/invoices", { ...xmlHeaders(), "content-length": "0" }, []);
    expect(res.status).toBe(400);
    expect(errorCode(res).code).toBe("XML_MALFORMED");
  });

  it("keeps serving after a client goes away in the middle of its body", async () => {
    await expect(send("POST", "/v1/invoices", xmlHeaders(), pieces(256 * 1024, 16 * 1024), { abortAfter: 3 })).rejects.toThrow();
    const res = await send("POST", "/v1/invoices", xmlHeaders(), [s.invoice({ number: nextNumber() })]);
    expect(res.status).toBe(201);
  });
});

describe("the other bodies read the same way", () => {
  it("POST /v1/invoices/batch: issues, and refuses a chunked body past 32 MiB with 413", async () => {
    const body = JSON.stringify({ invoices: [s.invoice({ number: nextNumber() }), s.invoice({ number: nextNumber() })] });
    const ok = await send("POST", "/v1/invoices/batch", { authorization: `Bearer ${s.apiKey}`, "content-type": "application/json" }, [body.slice(0, 500), body.slice(500)]);
    expect(ok.status).toBe(200);
    expect((JSON.parse(ok.body) as { results: { status: number }[] }).results.map((r) => r.status)).toEqual([201, 201]);
    const big = await send("POST", "/v1/invoices/batch", { authorization: `Bearer ${s.apiKey}`, "content-type": "application/json" }, pieces(32 * 1024 * 1024 + 1, 1024 * 1024));
    expect(big.status).toBe(413);
    expect(errorCode(big).code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("POST /v1/invoices/batch: a malformed JSON body is 400 BAD_REQUEST", async () => {
    const res = await send("POST", "/v1/invoices/batch", { authorization: `Bearer ${s.apiKey}`, "content-type": "application/json" }, ["{\"invoices\": ["]);
    expect(res.status).toBe(400);
    expect(errorCode(res).code).toBe("BAD_REQUEST");
  });

  it("POST /v1/verify: judges the document sent", async () => {
    const xml = s.invoice({ number: nextNumber() });
    const issued = await send("POST", "/v1/invoices", { ...xmlHeaders(), accept: "application/xml" }, [xml]);
    expect(issued.status).toBe(201);
    const res = await send("POST", "/v1/verify", { "content-type": "application/xml" }, [issued.body]);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { valid: boolean }).valid).toBe(true);
  });
});
