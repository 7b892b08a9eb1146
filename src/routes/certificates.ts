/**
 * A seller's signing certificates: register one (only after its chain and its UID=MST: tax code
 * check out) or stop one from now on (invoices it signed earlier stay valid).
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../context.js";
import { ApiError } from "../errors.js";
import { pemOrDerToDer } from "../pki/certificate.js";
import { auth, bearer, errorResponses, readLimited, TaxCodeParam, text } from "./common.js";
import { CertificateSchema, certificateJson, loadSeller } from "./sellers.js";

const params = z.object({ taxCode: TaxCodeParam });
const MAX_PEM = 64 * 1024;
const PemBody = z.object({ pem: text(MAX_PEM, { multiline: true, trim: false }) }).openapi("CertificatePem");

const register = createRoute({
  method: "post",
  path: "/v1/sellers/{taxCode}/certificates",
  tags: ["Administration"],
  summary: "Register a signing certificate for a seller. Refused unless it chains to a trust anchor, may sign, is valid now and carries UID=MST:<taxCode>.",
  security: bearer,
  middleware: [auth("admin", "officer")] as const,
  request: {
    params,
    // Not "required": the validator would then parse every body as JSON, PEM included.
    body: {
      required: false,
      content: {
        "application/x-pem-file": { schema: z.string().openapi({ example: "-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----" }) },
        "application/json": { schema: PemBody },
      },
    },
  },
  responses: {
    201: {
      description: "Registered.",
      content: { "application/json": { schema: z.object({ serial: z.string(), subject: z.string(), notBefore: z.string(), notAfter: z.string(), fingerprint: z.string() }) } },
    },
    ...errorResponses("SCHEMA_INVALID", "CERT_UNTRUSTED", "CERT_EXPIRED", "CERT_REVOKED", "CERT_TAX_CODE_MISMATCH", "CONFLICT", "NOT_FOUND", "UNSUPPORTED_MEDIA_TYPE", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

const stop = createRoute({
  method: "delete",
  path: "/v1/sellers/{taxCode}/certificates/{serial}",
  tags: ["Administration"],
  summary: "Stop using a certificate from now on (serial: upper-case hex without separators, as `openssl x509 -serial` prints it).",
  security: bearer,
  middleware: [auth("admin", "officer")] as const,
  request: { params: z.object({ taxCode: TaxCodeParam, serial: z.string().regex(/^[0-9A-Fa-f]{1,64}$/).openapi({ param: { name: "serial", in: "path" } }) }) },
  responses: {
    200: { description: "The stopped certificate(s).", content: { "application/json": { schema: z.object({ stopped: z.array(CertificateSchema) }) } } },
    ...errorResponses("NOT_FOUND", "UNAUTHENTICATED", "FORBIDDEN"),
  },
});

export function registerCertificates(app: OpenAPIHono<AppEnv>): void {
  app.openapi(register, async (c) => {
    const { taxCode } = c.req.valid("param");
    const s = c.get("services");
    await loadSeller(c, taxCode);
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    let pem: string;
    if (type === "application/json") pem = (c.req.valid("json") as { pem: string }).pem;
    else if (type === "application/x-pem-file" || type === "application/pkix-cert" || type === "text/plain") pem = Buffer.from(await readLimited(c, MAX_PEM)).toString("utf8");
    else throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "Send the certificate as application/x-pem-file or as JSON {pem}.");
    let der: Uint8Array;
    try {
      der = pemOrDerToDer(pem);
    } catch {
      throw new ApiError("SCHEMA_INVALID", "The body is not a PEM certificate.", [{ code: "SCHEMA_INVALID", message: "not a PEM certificate", path: "pem" }]);
    }
    const checked = s.trust.checkForRegistration(der, taxCode, s.clock());
    if (!checked.ok) throw ApiError.fromFaults(checked.faults);
    const cert = checked.value;
    const rec = await s.store.addCertificate({
      sellerTaxCode: taxCode,
      fingerprint: cert.fingerprint,
      serial: cert.serial,
      issuer: cert.issuer,
      subject: cert.subject,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      der: cert.der,
    });
    if (!rec) throw new ApiError("CONFLICT", `Certificate ${cert.serial} is already registered to seller ${taxCode}.`);
    c.header("Location", `/v1/sellers/${taxCode}/certificates/${rec.serial}`);
    return c.json({ serial: rec.serial, subject: rec.subject, notBefore: rec.notBefore.toISOString(), notAfter: rec.notAfter.toISOString(), fingerprint: rec.fingerprint }, 201);
  });

  app.openapi(stop, async (c) => {
    const { taxCode, serial } = c.req.valid("param");
    const s = c.get("services");
    const stopped = await s.store.stopCertificate(taxCode, serial.toUpperCase(), s.clock());
    if (stopped.length === 0) throw new ApiError("NOT_FOUND", `No active certificate ${serial.toUpperCase()} for seller ${taxCode}.`);
    return c.json({ stopped: stopped.map(certificateJson) }, 200);
  });
}
