/**
 * The public endpoints' rate limit as Hono middleware (the limiter itself, without HTTP, is
 * rate-limit.ts), the client's address it counts by, and the paths it guards.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./context.js";

/**
 * The client's address: the socket's, or — behind `hops` trusted proxies — the address the
 * outermost trusted proxy saw, i.e. the hops-th X-Forwarded-For entry from the right. Entries
 * further left were written by the client and are never believed.
 */
export function clientAddress(c: Context<AppEnv>, hops: number): string {
  // Node: the socket's address (@hono/node-server's env.incoming); Workers: env.clientAddress,
  // which worker.ts sets from CF-Connecting-IP (written by Cloudflare's edge, not the client).
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } }; clientAddress?: string } | undefined;
  const socket = env?.clientAddress ?? env?.incoming?.socket?.remoteAddress ?? "unknown";
  if (hops <= 0) return socket;
  const forwarded = (c.req.header("x-forwarded-for") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (forwarded.length === 0) return socket;
  return forwarded[Math.max(0, forwarded.length - hops)]!;
}

// Requests counted already: "/v1/verify" matches both "/v1/verify" and "/v1/verify/*" (Hono's
// wildcard matches the bare prefix too), and one request must count once.
const counted = new WeakSet<Request>();

/** Middleware for public endpoints: per client address, RATE_LIMITED with Retry-After past the limit. */
export const publicRateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!counted.has(c.req.raw)) {
    counted.add(c.req.raw);
    const limiter = c.get("services").rateLimiter;
    await limiter.hitPublic(clientAddress(c, limiter.settings.trustProxyHops));
  }
  await next();
};

/**
 * Public paths of api.md ("public": no credential), each limited by publicRateLimit in app.ts.
 * The probes and the scrape (/healthz, /readyz, /metrics) are never limited: behind a load
 * balancer every public client shares one address, and a probe answered 429 pulls the instance
 * out of rotation. /metrics is guarded by HOADON_METRICS_TOKEN instead.
 */
export const PUBLIC_PATHS = ["/", "/openapi.json", "/docs", "/docs/*", "/schemas/*", "/v1/authority/certificate", "/v1/authority/log-key", "/v1/verify", "/v1/verify/*", "/v1/log/*", "/tile/*"] as const;
