/**
 * Bearer credentials: the bootstrap admin token, officer tokens and seller API keys. Secrets are
 * random 256-bit strings shown once; only their SHA-256 is kept (a slow KDF buys nothing for
 * secrets with that much entropy, and the lookup sits on every request).
 */
import { hash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { ApiError } from "./errors.js";
import type { Store } from "./storage/store.js";

export type Role = "admin" | "officer" | "seller";

export type Principal =
  | { role: "admin"; id: "admin" }
  | { role: "officer"; id: string; name: string }
  | { role: "seller"; id: string; sellerTaxCode: string };

/** A new secret: a readable prefix and 32 random bytes in base64url. */
export function newSecret(prefix: "hda" | "hdo" | "hdk"): string {
  return `${prefix}_${randomBytes(32).toString("base64url")}`;
}

/** The stored form of a secret. */
export function hashSecret(secret: string): string {
  return hash("sha256", secret, "hex");
}

export const newId = (): string => randomUUID();

/** Resolves `Authorization: Bearer …` to a principal; throws UNAUTHENTICATED when missing or unknown. */
export async function authenticate(header: string | undefined, adminTokenHash: string, store: Store): Promise<Principal> {
  const m = header ? /^Bearer[ ]+([\x21-\x7e]{1,512})$/i.exec(header) : null;
  if (!m) throw new ApiError("UNAUTHENTICATED", "Send Authorization: Bearer <token or API key>.");
  const hash = hashSecret(m[1]!);
  const a = Buffer.from(hash, "hex");
  const b = Buffer.from(adminTokenHash, "hex");
  if (a.length === b.length && timingSafeEqual(a, b)) return { role: "admin", id: "admin" };
  const p = await store.findPrincipal(hash);
  if (!p) throw new ApiError("UNAUTHENTICATED", "Unknown token or API key.");
  return p;
}

/** Throws FORBIDDEN unless the principal has one of the roles. */
export function requireRole(p: Principal, ...roles: Role[]): void {
  if (!roles.includes(p.role)) throw new ApiError("FORBIDDEN", `This operation is for: ${roles.join(", ")}.`);
}

/** Admins and officers may act on any seller; a seller key only on its own tax code. */
export function requireSellerAccess(p: Principal, sellerTaxCode: string, allowSeller: boolean): void {
  if (p.role === "admin" || p.role === "officer") return;
  if (allowSeller && p.role === "seller" && p.sellerTaxCode === sellerTaxCode) return;
  throw new ApiError("FORBIDDEN", "This credential may not act for this seller.");
}
