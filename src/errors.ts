/**
 * The one error table (api.md "Errors"): every stable code names its HTTP status and a default
 * message once. The error handler, the OpenAPI responses and the README read it from here.
 */
export const ERRORS = {
  XML_MALFORMED: { status: 400, message: "The body is not well-formed UTF-8 XML with one HDon root." },
  XML_FORBIDDEN_CONSTRUCT: {
    status: 400,
    message: "The XML carries a forbidden construct (DOCTYPE, entity, comment, processing instruction) or exceeds the depth or node limits.",
  },
  BAD_REQUEST: { status: 400, message: "The request is malformed." },
  UNAUTHENTICATED: { status: 401, message: "Missing or unknown token or API key." },
  FORBIDDEN: { status: 403, message: "This credential may not do that." },
  NOT_FOUND: { status: 404, message: "Not found." },
  CONFLICT: { status: 409, message: "The resource already exists." },
  DUPLICATE_INVOICE: {
    status: 409,
    message: "Another invoice was already issued under this seller, form, symbol and number.",
  },
  RELATED_INVOICE_STATE: { status: 409, message: "The related invoice is already replaced or cancelled." },
  PAYLOAD_TOO_LARGE: { status: 413, message: "The body is too large." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "Unsupported Content-Type." },
  SCHEMA_INVALID: { status: 422, message: "A required field is missing or malformed." },
  TAX_CODE_INVALID: { status: 422, message: "A tax code (MST) fails its check digit or form." },
  SYMBOL_YEAR_MISMATCH: { status: 422, message: "The year in the symbol (KHHDon) is not the year of the issue date (NLap)." },
  ISSUE_DATE_IN_FUTURE: { status: 422, message: "The issue date (NLap) is after today (GMT+7)." },
  ISSUE_DATE_TOO_OLD: { status: 422, message: "The issue date (NLap) lies further before the receipt than HOADON_MAX_ISSUE_DATE_LAG_DAYS allows." },
  SIGNING_TIME_OUT_OF_RANGE: {
    status: 422,
    message: "The SigningTime is before the issue date's day, ahead of the receipt beyond the clock skew, or further before the receipt than HOADON_MAX_SIGNING_LAG_HOURS allows.",
  },
  TOTALS_MISMATCH: { status: 422, message: "The invoice totals do not add up." },
  CODE_ALREADY_PRESENT: { status: 422, message: "The submission already carries an MCCQT or a tax authority signature." },
  SIGNATURE_MISSING: { status: 422, message: "The invoice carries no seller signature." },
  SIGNATURE_PROFILE: { status: 422, message: "The seller signature does not follow the accepted profile." },
  ALGORITHM_NOT_ALLOWED: { status: 422, message: "The signature uses an algorithm outside the allow-list." },
  SIGNATURE_INVALID: { status: 422, message: "A digest or the signature value does not verify." },
  CERT_UNTRUSTED: { status: 422, message: "The signing certificate does not chain to a trusted root or may not sign." },
  CERT_EXPIRED: { status: 422, message: "The signing certificate was not valid at the signing time." },
  CERT_REVOKED: { status: 422, message: "The signing certificate is revoked." },
  CERT_TAX_CODE_MISMATCH: { status: 422, message: "The certificate's UID=MST: does not match the seller's tax code." },
  CERT_NOT_REGISTERED: { status: 422, message: "The certificate is not registered to this seller, or was stopped." },
  SELLER_NOT_REGISTERED: { status: 422, message: "The seller is not registered." },
  SELLER_SUSPENDED: { status: 422, message: "The seller is suspended or has ceased." },
  RELATED_INVOICE_NOT_FOUND: { status: 422, message: "The related invoice (TTHDLQuan) names no invoice of this seller." },
  NOT_REGISTERED_FOR_KIND: { status: 422, message: "The seller has not registered this kind of invoice or this way of sending data (01/ĐKTĐ-HĐĐT)." },
  CASH_REGISTER_CODE_INVALID: {
    status: 422,
    message: "The cash-register invoice code is malformed or does not match the invoice type, the year of issue or the seller's assigned range.",
  },
  SUMMARY_SEQUENCE: { status: 422, message: "The summary table's number, first-table flag or supplement number is out of sequence in its period." },
  RATE_LIMITED: { status: 429, message: "Too many requests; retry later." },
  INTERNAL: { status: 500, message: "Internal error." },
  UNAVAILABLE: { status: 503, message: "The service is temporarily unavailable; retry later." },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** One fault found by a check; a refusal carries all the faults of its stage. */
export interface Fault {
  code: ErrorCode;
  message: string;
  path?: string;
}

/** A tagged result: domain functions return this rather than throw. */
export type Result<T> = { ok: true; value: T } | { ok: false; faults: Fault[] };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(code: ErrorCode, message: string, path?: string): Result<T> => ({
  ok: false,
  faults: [path === undefined ? { code, message } : { code, message, path }],
});

/** An error that maps to the API's error envelope. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    readonly details: Fault[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  get status(): number {
    return ERRORS[this.code].status;
  }

  /** The refusal of a stage: the first fault names the code, all faults go to details. */
  static fromFaults(faults: Fault[]): ApiError {
    const first = faults[0];
    if (!first) return new ApiError("INTERNAL");
    return new ApiError(first.code, first.message, faults);
  }
}
