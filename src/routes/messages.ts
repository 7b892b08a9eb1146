/** The T-VAN channel: one TDiep in, the authority's reply TDiep out (invoice-format.md §7). */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../context.js";
import { receiveMessage } from "../domain/messages.js";
import { ApiError } from "../errors.js";
import { auth, bearer, errorResponses, readLimited } from "./common.js";

const XML_TYPES = new Set(["application/xml", "text/xml"]);

const message = createRoute({
  method: "post",
  path: "/v1/messages",
  tags: ["T-VAN"],
  summary:
    "Send a T-VAN message (TDiep): 100 (registration or change, 01/ĐKTĐ-HĐĐT), 200 (an invoice for a code), 203 (invoices without a code), " +
    "206 (cash-register invoices), 300 (error notice 04/SS-HĐĐT) or 400 (summary tables 01/TH-HĐĐT).",
  description:
    "Answers 200 with the authority's reply TDiep (application/xml): 102 with notice 01/TB-TNĐT (the registration received, THop 1/3, " +
    "or not, THop 2/4 with production's MLoi; the 103 of an acceptance follows at once or after an officer's decision, see GET /v1/messages/{MTDiep}), " +
    "202 with the stamped HDon, 204 with notice 01/TB-KTDL (the reasons as MLoi/MTLoi/HDXLy; " +
    "to a 200: LTBao 1; to a 203: LTBao 2 all stored, 3 listing the invalid invoices in LHDKMa while the others are stored as invoices " +
    "without a code, 9 nothing stored — the seller not registered for them, NOT_REGISTERED_FOR_KIND; to a 206: LTBao 2, 7 listing the invalid " +
    "cash-register invoices in LHDMTTien, 9; to a 400: LTBao 2, 4 or for fuel 5 listing the tables refused by their header and the rows refused alone, 9), " +
    "−1 (unsigned, as production) to a 206 whose package signature CKSNNT fails, " +
    "301 with notice 01/TB-HĐSS (each invoice of the error notice: TTTNCCQT 1 accepted, 2 not; cancellations applied), or 999 with TTTNhan 1 for a malformed " +
    "envelope. 204, 301 and 999 are signed by the authority. A repeated MTDiep gets the same reply, byte for byte. Messages ≤ 2 MB.",
  security: bearer,
  middleware: [auth("seller")] as const,
  request: { body: { required: true, content: { "application/xml": { schema: z.string().openapi({ example: "<TDiep><TTChung>…<MLTDiep>200</MLTDiep>…</TTChung><DLieu><HDon>…</HDon></DLieu></TDiep>" }) } } } },
  responses: {
    200: { description: "The reply TDiep (102, 202, 204, 301 or 999).", content: { "application/xml": { schema: z.string() } } },
    ...errorResponses("UNAUTHENTICATED", "FORBIDDEN", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "RATE_LIMITED"),
  },
});

export function registerMessages(app: OpenAPIHono<AppEnv>): void {
  app.openapi(message, async (c) => {
    const principal = c.get("principal");
    if (principal.role !== "seller") throw new ApiError("FORBIDDEN");
    const [type, ...params] = (c.req.header("content-type") ?? "").split(";").map((s) => s.trim().toLowerCase());
    if (!XML_TYPES.has(type ?? "") || params.some((p) => p.startsWith("charset=") && !/^charset="?utf-8"?$/.test(p))) {
      throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "Send the TDiep as application/xml (UTF-8).");
    }
    const s = c.get("services");
    const body = await readLimited(c, s.submit.limits.maxBytes);
    const reply = await receiveMessage({ ...s.submit, official: s.official }, body, { keyId: principal.id, sellerTaxCode: principal.sellerTaxCode });
    c.header("Content-Type", "application/xml; charset=utf-8");
    return c.body(reply, 200) as never;
  });
}
