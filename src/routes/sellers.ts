/** Sellers: register (admin, officer), read (admin, officer, that seller), change status or details (admin, officer). */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { requireSellerAccess } from "../auth.js";
import type { AppEnv } from "../context.js";
import { checkTaxCode } from "../domain/taxcode.js";
import { ApiError } from "../errors.js";
import type { CertificateRecord, RegisteredSeller } from "../storage/store.js";
import { auth, bearer, errorResponses, TaxCodeParam, text } from "./common.js";

const SellerStatus = z.enum(["active", "suspended", "ceased"]);

export const CertificateSchema = z
  .object({
    serial: z.string().openapi({ example: "4F1A09C2" }),
    fingerprint: z.string(),
    subject: z.string(),
    issuer: z.string(),
    notBefore: z.string(),
    notAfter: z.string(),
    status: z.enum(["active", "stopped"]),
    registeredAt: z.string(),
    stoppedAt: z.string().nullable(),
  })
  .openapi("Certificate");

const SellerSchema = z
  .object({
    taxCode: z.string(),
    name: z.string(),
    address: z.string(),
    taxOffice: z.string().nullable(),
    province: z.string().nullable(),
    status: SellerStatus,
    createdAt: z.string(),
    updatedAt: z.string(),
    certificates: z.array(CertificateSchema).optional(),
  })
  .openapi("Seller");

const CreateSeller = z
  .object({ taxCode: text(20, { trim: false }).openapi({ example: "0100000010" }), name: text(400), address: text(400), taxOffice: text(200).optional(), province: text(100).optional() })
  .openapi("CreateSeller");

const PatchSeller = z
  .object({ status: SellerStatus.optional(), name: text(400).optional(), address: text(400).optional(), taxOffice: text(200).optional(), province: text(100).optional() })
  .refine((p) => Object.keys(p).length > 0, { message: "Nothing to change." })
  .openapi("PatchSeller");

export const certificateJson = (r: CertificateRecord) => ({
  serial: r.serial,
  fingerprint: r.fingerprint,
  subject: r.subject,
  issuer: r.issuer,
  notBefore: r.notBefore.toISOString(),
  notAfter: r.notAfter.toISOString(),
  status: r.status,
  registeredAt: r.registeredAt.toISOString(),
  stoppedAt: r.stoppedAt ? r.stoppedAt.toISOString() : null,
});

const sellerJson = (s: RegisteredSeller, certs?: CertificateRecord[]) => ({
  taxCode: s.taxCode,
  name: s.name,
  address: s.address,
  taxOffice: s.taxOffice,
  province: s.province,
  status: s.status,
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
  ...(certs ? { certificates: certs.map(certificateJson) } : {}),
});

const params = z.object({ taxCode: TaxCodeParam });

const create = createRoute({
  method: "post",
  path: "/v1/sellers",
  tags: ["Administration"],
  summary: "Register a seller (a business that issues invoices).",
  security: bearer,
  middleware: [auth("admin", "officer")] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateSeller } } } },
  responses: {
    201: { description: "The registered seller, active.", content: { "application/json": { schema: SellerSchema } } },
    ...errorResponses("SCHEMA_INVALID", "TAX_CODE_INVALID", "CONFLICT", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

const read = createRoute({
  method: "get",
  path: "/v1/sellers/{taxCode}",
  tags: ["Administration"],
  summary: "A seller with its status and certificates.",
  security: bearer,
  middleware: [auth("admin", "officer", "seller")] as const,
  request: { params },
  responses: {
    200: { description: "The seller.", content: { "application/json": { schema: SellerSchema } } },
    ...errorResponses("NOT_FOUND", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

const patch = createRoute({
  method: "patch",
  path: "/v1/sellers/{taxCode}",
  tags: ["Administration"],
  summary: "Suspend, reactivate or mark a seller ceased, or correct its details.",
  security: bearer,
  middleware: [auth("admin", "officer")] as const,
  request: { params, body: { required: true, content: { "application/json": { schema: PatchSeller } } } },
  responses: {
    200: { description: "The updated seller.", content: { "application/json": { schema: SellerSchema } } },
    ...errorResponses("SCHEMA_INVALID", "NOT_FOUND", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

export function registerSellers(app: OpenAPIHono<AppEnv>): void {
  app.openapi(create, async (c) => {
    const body = c.req.valid("json");
    const tc = checkTaxCode(body.taxCode);
    if (!tc.ok) throw new ApiError("TAX_CODE_INVALID", `Tax code ${body.taxCode}: ${tc.reason}`, [{ code: "TAX_CODE_INVALID", message: tc.reason, path: "taxCode" }]);
    const seller = await c.get("services").store.createSeller({
      taxCode: body.taxCode,
      name: body.name,
      address: body.address,
      taxOffice: body.taxOffice ?? null,
      province: body.province ?? null,
    });
    if (!seller) throw new ApiError("CONFLICT", `Seller ${body.taxCode} is already registered.`);
    c.header("Location", `/v1/sellers/${seller.taxCode}`);
    return c.json(sellerJson(seller), 201);
  });

  app.openapi(read, async (c) => {
    const { taxCode } = c.req.valid("param");
    requireSellerAccess(c.get("principal"), taxCode, true);
    const seller = await loadSeller(c, taxCode);
    return c.json(sellerJson(seller, await c.get("services").store.listCertificates(taxCode)), 200);
  });

  app.openapi(patch, async (c) => {
    const { taxCode } = c.req.valid("param");
    const seller = await c.get("services").store.updateSeller(taxCode, c.req.valid("json"));
    if (!seller) throw new ApiError("NOT_FOUND", `Seller ${taxCode} is not registered.`);
    return c.json(sellerJson(seller), 200);
  });
}

/** The seller, or NOT_FOUND. */
export async function loadSeller(c: Context<AppEnv>, taxCode: string): Promise<RegisteredSeller> {
  const seller = await c.get("services").store.getSeller(taxCode);
  if (!seller) throw new ApiError("NOT_FOUND", `Seller ${taxCode} is not registered.`);
  return seller;
}
