/** Cloudflare Workers entry point: the same app as on Node, over PostgreSQL through Hyperdrive (see worker-env.ts). */
import "reflect-metadata"; // before @peculiar/x509 is evaluated: its decorators need it on Workers
import type { ExecutionContext } from "hono";
import { buildIsolate, type Isolate, requestServices, type WorkerBindings, workerConfig } from "./worker-env.js";

// Built on the first request of an isolate and kept while the bindings are the same object.
let isolate: { env: WorkerBindings; iso: Isolate } | { env: WorkerBindings; error: string } | undefined;

function isolateFor(env: WorkerBindings): Isolate | string {
  if (isolate?.env !== env) {
    const parsed = workerConfig(env);
    if (!parsed.ok) {
      isolate = { env, error: parsed.error };
    } else {
      try {
        isolate = { env, iso: buildIsolate(parsed.config) };
      } catch (e) {
        isolate = { env, error: `invalid configuration: HOADON_SIGNING_KEY/HOADON_SIGNING_CERT/HOADON_TRUST_ANCHORS: ${(e as Error).message}` };
      }
    }
  }
  return "iso" in isolate ? isolate.iso : isolate.error;
}

export default {
  async fetch(request: Request, env: WorkerBindings, ctx: ExecutionContext): Promise<Response> {
    const iso = isolateFor(env);
    if (typeof iso === "string") {
      // Misconfigured: one log line naming the setting; the client gets the generic 500.
      console.error(JSON.stringify({ level: "error", service: "hoadon", msg: iso }));
      const requestId = crypto.randomUUID();
      return Response.json({ error: { code: "INTERNAL", message: "Internal error.", details: [], requestId } }, { status: 500, headers: { "X-Request-Id": requestId } });
    }
    const { db, services } = await requestServices(iso, env);
    try {
      const clientAddress = request.headers.get("cf-connecting-ip") ?? "unknown";
      return await iso.app.fetch(request, { ...env, services, clientAddress }, ctx);
    } finally {
      // Every body is complete when the app answers (no streaming), so the client can go; the
      // last uses noted by this isolate are written first when 30 s have passed since the last write.
      ctx.waitUntil(
        iso.credentialUse
          .flushIfDue(services.store)
          .catch((e: unknown) => console.error(JSON.stringify({ level: "warn", service: "hoadon", msg: "last use of keys and tokens: writing failed, will retry", error: String(e) })))
          .finally(() => db.close()),
      );
    }
  },
};
