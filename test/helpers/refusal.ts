/**
 * What every refusal test checks: the stable code of api.md with its HTTP status (read from the
 * one error table), the request id in the envelope, and that nothing was stored.
 */
import { expect } from "vitest";
import { ERRORS, type ErrorCode } from "../../src/errors.js";
import type { Harness } from "./app.js";

export interface ErrorBody {
  error: { code: string; message: string; details: { code: string; message: string; path?: string }[]; requestId: string };
}

/** The HTTP status of a code, from src/errors.ts. */
export const statusOf = (code: ErrorCode): number => ERRORS[code].status;

/**
 * POST /v1/invoices with `key` and expects a refusal with `code`; checks the status, the request
 * id, and that no table gained or lost a row. Returns the error body.
 */
export async function expectRefused(h: Harness, xml: string | Uint8Array, code: ErrorCode, key: string, headers: Record<string, string> = {}): Promise<ErrorBody> {
  const before = await h.store.countRows();
  const res = await h.submit(xml, key, headers);
  const text = await res.text();
  let body: ErrorBody;
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    throw new Error(`expected a JSON error envelope (${code}), got ${res.status}: ${text.slice(0, 300)}`);
  }
  expect(body.error?.code, text.slice(0, 2000)).toBe(code);
  expect(res.status).toBe(statusOf(code));
  expect(body.error.requestId).toBe(res.headers.get("x-request-id"));
  expect(await h.store.countRows(), "a refused request leaves no row behind").toEqual(before);
  return body;
}

/** POST /v1/invoices and expects 201 Created; returns the JSON body. */
export async function expectIssued(h: Harness, xml: string | Uint8Array, key: string): Promise<{ code: string; xml: string; digest: string; legacy: string[] }> {
  const res = await h.submit(xml, key);
  const text = await res.text();
  expect(res.status, text.slice(0, 2000)).toBe(201);
  return JSON.parse(text) as { code: string; xml: string; digest: string; legacy: string[] };
}
