/**
 * The transparency log's read API (docs/transparency-log.md), public and cacheable: the signed
 * checkpoint, tiles and entry bundles in the C2SP tlog-tiles layout under /v1/log, inclusion and
 * consistency proofs, and the log's key vouched for by the authority. Rate limited per client
 * address like every public endpoint (rate-limit-middleware.ts PUBLIC_PATHS).
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../context.js";
import { REGISTER_CODE } from "../domain/packages.js";
import { ApiError } from "../errors.js";
import { parseTilePath } from "../tlog/entry.js";
import { LogNotReady, type TransparencyLog } from "../tlog/log.js";
import { auth, bearer, errorResponses } from "./common.js";

const IMMUTABLE = "public, max-age=31536000, immutable";

function logOf(c: Context<AppEnv>): TransparencyLog {
  const log = c.get("services").log;
  if (!log) throw new ApiError("UNAVAILABLE", "This deployment serves no transparency log; ask the authority's main service.");
  return log;
}

/** The log's own refusals in the API's codes. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof LogNotReady) throw new ApiError("UNAVAILABLE", e.message, [], { "Retry-After": "2" });
    if (e instanceof RangeError) throw new ApiError("SCHEMA_INVALID", e.message, [{ code: "SCHEMA_INVALID", message: e.message }]);
    throw e;
  }
}

const B64 = z.string().openapi({ example: "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=" });
const Size = z
  .string()
  .regex(/^[1-9]\d{0,15}$/)
  .transform(Number)
  .pipe(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER));
const Index = z
  .string()
  .regex(/^(0|[1-9]\d{0,15})$/)
  .transform(Number)
  .pipe(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER));

const InclusionSchema = z
  .object({
    leafIndex: z.number().int().openapi({ description: "The leaf's index in the log." }),
    leafIndexes: z.array(z.number().int()).optional().openapi({ description: "Asked by code: every leaf of the code under the tree head (its issue first, then each change of status)." }),
    treeSize: z.number().int(),
    rootHash: B64.openapi({ description: "The root of the tree of `treeSize` leaves (base64)." }),
    proof: z.array(B64).openapi({ description: "RFC 9162 §2.1.3 inclusion path, leaf upwards (base64 SHA-256 hashes)." }),
    entry: z.string().openapi({ description: "The leaf's entry (base64; format in docs/transparency-log.md). Its leaf hash is SHA-256(0x00 || entry)." }),
    checkpoint: z.string().optional().openapi({ description: "The signed checkpoint of `treeSize` (when the proof is against the latest)." }),
  })
  .openapi("InclusionProof");

const inclusion = createRoute({
  method: "get",
  path: "/v1/log/proof/inclusion",
  tags: ["Transparency log"],
  summary: "Inclusion proof of an invoice's leaf (by code) or of a leaf index, against the latest or a given signed tree size (public).",
  request: {
    query: z.object({
      code: z
        .string()
        .refine((s) => /^[0-9A-Za-z]{34}$/.test(s) || REGISTER_CODE.test(s), "not a code")
        .optional()
        .openapi({
          example: "0A00000000000003E8A1B2C3D4E5F6A7B8",
          description: "The invoice's code (MCCQT; a cash-register invoice's own code `M1-26-…`; an invoice without a code, its record id): the proof is of its first leaf (its receipt) unless `index` names another.",
        }),
      index: Index.optional().openapi({ example: "42", description: "A leaf index." }),
      size: Size.optional().openapi({ example: "1000", description: "The tree size to prove against (default: the latest signed checkpoint's)." }),
    }),
  },
  responses: {
    200: { description: "The proof.", content: { "application/json": { schema: InclusionSchema } } },
    ...errorResponses("SCHEMA_INVALID", "NOT_FOUND", "RATE_LIMITED"),
  },
});

const consistency = createRoute({
  method: "get",
  path: "/v1/log/proof/consistency",
  tags: ["Transparency log"],
  summary: "Consistency proof between two tree sizes: the smaller tree is a prefix of the larger (public).",
  request: {
    query: z.object({
      from: Size.openapi({ example: "1000" }),
      to: Size.optional().openapi({ example: "2000", description: "Default: the latest signed size." }),
    }),
  },
  responses: {
    200: {
      description: "The proof (RFC 9162 §2.1.4), empty when the sizes are equal.",
      content: {
        "application/json": {
          schema: z.object({ from: z.number().int(), to: z.number().int(), fromRoot: B64, toRoot: B64, proof: z.array(B64) }).openapi("ConsistencyProof"),
        },
      },
    },
    ...errorResponses("SCHEMA_INVALID", "RATE_LIMITED"),
  },
});

const checkpoint = createRoute({
  method: "get",
  path: "/v1/log/checkpoint",
  tags: ["Transparency log"],
  summary: "The latest signed tree head: a C2SP tlog-checkpoint in a C2SP signed note (Ed25519) (public).",
  description: "Verify it with the log's key from GET /v1/authority/log-key. Cached for 2 seconds at most.",
  responses: {
    200: {
      description: "The checkpoint.",
      content: { "text/plain": { schema: z.string().openapi({ example: "hoadon-dev.invalid/v1/log\n1000\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— hoadon-dev.invalid/v1/log Az3g…\n" }) } },
    },
    ...errorResponses("RATE_LIMITED"),
  },
});

const signNow = createRoute({
  method: "post",
  path: "/v1/log/checkpoint",
  tags: ["Transparency log"],
  summary: "Sequence what is pending and sign a tree head now (officers and admin).",
  security: bearer,
  middleware: [auth("admin", "officer")] as const,
  responses: {
    200: { description: "The new signed tree head.", content: { "application/json": { schema: z.object({ treeSize: z.number().int(), rootHash: B64, checkpoint: z.string() }).openapi("SignedTreeHead") } } },
    ...errorResponses("UNAUTHENTICATED", "FORBIDDEN"),
  },
});

const logKey = createRoute({
  method: "get",
  path: "/v1/authority/log-key",
  tags: ["Transparency log"],
  summary: "The log's note verifier key, signed by the tax authority's signing key (public).",
  description:
    "`authoritySignature` is the authority's signature (the key of GET /v1/authority/certificate) over the UTF-8 bytes of `verifierKey` followed by a newline. " +
    "Check it with the authority's certificate, then verify checkpoints with `verifierKey` (golang.org/x/mod/sumdb/note format).",
  responses: {
    200: {
      description: "The key statement.",
      content: {
        "application/json": {
          schema: z
            .object({
              origin: z.string(),
              verifierKey: z.string().openapi({ example: "hoadon-dev.invalid/v1/log+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW" }),
              authoritySignature: B64,
              signatureAlgorithm: z.enum(["rsa-sha256", "ecdsa-sha256"]),
              authorityCertificate: z.string(),
            })
            .openapi("LogKey"),
        },
      },
    },
    ...errorResponses("RATE_LIMITED"),
  },
});

export function registerLog(app: OpenAPIHono<AppEnv>): void {
  app.openapi(checkpoint, async (c) => {
    const head = await answer(() => logOf(c).latest());
    c.header("Content-Type", "text/plain; charset=utf-8");
    c.header("Cache-Control", "public, max-age=2");
    return c.body(head.checkpoint, 200) as never;
  });

  app.openapi(signNow, async (c) => {
    const head = await answer(() => logOf(c).sequence());
    return c.json({ treeSize: head.size, rootHash: head.root.toString("base64"), checkpoint: head.checkpoint }, 200);
  });

  app.openapi(logKey, (c) => {
    c.header("Cache-Control", "public, max-age=3600");
    return c.json(logOf(c).keyStatement() as never, 200);
  });

  app.openapi(inclusion, async (c) => {
    const q = c.req.valid("query");
    const log = logOf(c);
    if ((q.code === undefined) === (q.index === undefined) && q.code === undefined) throw new ApiError("SCHEMA_INVALID", "Give `code` or `index`.", [{ code: "SCHEMA_INVALID", message: "Give code or index." }]);
    return answer(async () => {
      const head = await log.latest();
      let index = q.index;
      let leafIndexes: number[] | undefined;
      if (q.code !== undefined) {
        const size = q.size ?? head.size;
        leafIndexes = (await log.leavesOf(q.code.toUpperCase())).filter((i) => i < size);
        if (leafIndexes.length === 0) throw new ApiError("NOT_FOUND", "No leaf of this code in that tree: unknown code, or not yet under a signed tree head (retry in a few seconds).");
        if (index === undefined) index = leafIndexes[0]!;
        else if (!leafIndexes.includes(index)) throw new ApiError("NOT_FOUND", "That leaf is not one of this code's.");
      }
      const proof = await log.inclusion(index!, q.size);
      c.header("Cache-Control", "public, max-age=2");
      return c.json({ ...proof, ...(leafIndexes ? { leafIndexes } : {}), ...(proof.treeSize === head.size ? { checkpoint: head.checkpoint } : {}) }, 200);
    });
  });

  app.openapi(consistency, async (c) => {
    const q = c.req.valid("query");
    const proof = await answer(() => logOf(c).consistency(q.from, q.to));
    // A proof between two given sizes never changes.
    c.header("Cache-Control", q.to !== undefined ? IMMUTABLE : "public, max-age=2");
    return c.json(proof, 200);
  });

  // Tiles and entry bundles: C2SP tlog-tiles paths, so plain routes with the path parsed here.
  // Served under the log's prefix (/v1/log, beside its checkpoint, as tlog-tiles clients look for
  // them) and at /tile/…, the path api.md gives: the same bytes.
  for (const prefix of TILE_PREFIXES) app.get(`${prefix}*`, async (c) => {
    const rest = c.req.path.slice(prefix.length);
    const t = parseTilePath(rest);
    if (!t) throw new ApiError("NOT_FOUND", "Not a tile path: tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>] (C2SP tlog-tiles).");
    const log = logOf(c);
    const bytes = await answer(() => (t.level === "entries" ? log.entryBundle(t.n, t.width) : log.tile(t.level, t.n, t.width)));
    if (!bytes) throw new ApiError("NOT_FOUND", "The log has no such tile under its signed tree head.");
    c.header("Content-Type", "application/octet-stream");
    // Full or partial, a tile's bytes never change.
    c.header("Cache-Control", IMMUTABLE);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200);
  });
  for (const prefix of TILE_PREFIXES) app.openAPIRegistry.registerPath({
    method: "get",
    path: `${prefix}{path}`,
    tags: ["Transparency log"],
    summary: "Tiles of the tree and entry bundles, C2SP tlog-tiles layout (public, immutable).",
    description:
      "`tile/<L>/<N>[.p/<W>]`: level L's N-th tile, 256 SHA-256 hashes (or the first W) concatenated. `tile/entries/<N>[.p/<W>]`: " +
      "the entries of leaves N·256 … as big-endian uint16 length-prefixed byte strings. N is written in 3-digit groups, all but the last prefixed with x " +
      "(1234067 → x001/x234/067). Only tiles under the signed tree head are served.",
    request: { params: z.object({ path: z.string().openapi({ example: "0/x001/x234/067.p/17" }) }) },
    responses: {
      200: { description: "The tile's bytes.", content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } } },
      ...errorResponses("NOT_FOUND", "RATE_LIMITED"),
    },
  });
}

/** Where the tiles are served: under the log's C2SP prefix, and at api.md's /tile/…. */
const TILE_PREFIXES = ["/v1/log/tile/", "/tile/"] as const;

/** What an invoice's answers say of its place in the log (null until its issue is under a signed tree head). */
export const TransparencySchema = z
  .object({
    leafIndex: z.number().int().openapi({ description: "The leaf of the invoice's issue." }),
    leafIndexes: z.array(z.number().int()).openapi({ description: "All its leaves under the tree head: the issue, then each change of status." }),
    treeSize: z.number().int(),
    rootHash: B64,
    inclusionProof: z.array(B64).openapi({ description: "RFC 9162 inclusion path of `leafIndex` in the tree of `treeSize` leaves." }),
    checkpoint: z.string().openapi({ description: "The signed checkpoint of that tree (C2SP signed note)." }),
  })
  .nullable()
  .openapi("Transparency", {
    description: "The invoice in the transparency log; null until its issue is under a signed tree head (a few seconds).",
    example: {
      leafIndex: 41,
      leafIndexes: [41, 97],
      treeSize: 120,
      rootHash: "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
      inclusionProof: ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="],
      checkpoint: "hoadon-dev.invalid/v1/log\n120\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— hoadon-dev.invalid/v1/log Az3g…\n",
    },
  });

export async function transparencyOf(c: Context<AppEnv>, code: string): Promise<z.infer<typeof TransparencySchema>> {
  const log = c.get("services").log;
  return log ? log.proofForCode(code) : null;
}
