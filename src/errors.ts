/**
 * Failure, one way in each layer:
 * - The one error table (api.md "Errors"): every stable code names its HTTP status and a default
 *   message once. The error handler, the OpenAPI responses, the batch's per-item statuses and the
 *   docs read it from here (httpStatus).
 * - Checks (the gate's stages, xml/, pki/, tvan/ readers) return a Result: a value, or the faults
 *   they found.
 * - Domain operations (domain/) return a tagged outcome, `{ ok: true, … } | { ok: false, error }`,
 *   whose error is a Refusal: an api.md code, a message and the faults behind it, and no HTTP
 *   status. The gate stops at its first failing stage by throwing its Refusal (GateRefusal, a
 *   Refused); the domain's entry points catch it and return it as their outcome.
 * - ApiError, which carries the HTTP status and headers, is the HTTP edge's only (routes/, app.ts,
 *   the rate limiters and the body limits): a route turns a Refusal into one (ApiError.of), and
 *   app.ts's error handler turns it into the response. test/unit/domain-imports.test.ts keeps
 *   ApiError out of domain/.
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

/** The HTTP status of a code: the one mapping, read at the edge (errors, batch items). */
export const httpStatus = (code: ErrorCode): number => ERRORS[code].status;

/** A check's tagged result: its value, or the faults it found (a stage refuses with all of them). */
export type Result<T> = { ok: true; value: T } | { ok: false; faults: Fault[] };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

/**
 * Why the domain refuses a request: a stable code of api.md, a message, and the faults behind it
 * (the response's `details`). No HTTP status: the edge maps the code (httpStatus).
 */
export interface Refusal {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details: readonly Fault[];
}

/** A domain operation's outcome: its fields with `ok: true`, or a refusal. */
export type Outcome<T extends object> = ({ ok: true } & T) | Refused;
export type Refused = { ok: false; error: Refusal };

/** A refusal with `code`, its message (default: the table's) and faults. */
export const refusal = (code: ErrorCode, message: string = ERRORS[code].message, details: readonly Fault[] = []): Refusal => ({ code, message, details });

/** The refusal of a stage: the first fault names the code and message, all faults are the details. */
export function refusalOf(faults: readonly Fault[]): Refusal {
  const first = faults[0];
  if (!first) throw new Error("refusalOf: a refusal without a fault");
  return { code: first.code, message: first.message, details: faults };
}

/** A refusal as a list of faults (a T-VAN answer lists them): its details, or its code and message when it has none. */
export const faultsOf = (r: Refusal): Fault[] => (r.details.length ? [...r.details] : [{ code: r.code, message: r.message }]);

/** `{ ok: false, error }` for a refusal. */
export const refused = (error: Refusal): Refused => ({ ok: false, error });

/**
 * A Refusal thrown: for code that stops at the first failure it finds (the gate's stages). The
 * domain catches it and returns it as an outcome; one that reaches the edge still answers as an
 * ApiError of its code would.
 */
export class RefusalError extends Error implements Refusal {
  override readonly name: string = "RefusalError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: readonly Fault[] = [],
  ) {
    super(message);
  }

  static of(r: Refusal): RefusalError {
    return new RefusalError(r.code, r.message, r.details);
  }
}

/** The refusal a RefusalError carries (its code, message and details only). */
export const refusalIn = (e: RefusalError): Refusal => ({ code: e.code, message: e.message, details: e.details });

/** An error of the HTTP edge: maps to the API's error envelope, its status and headers. */
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
    return httpStatus(this.code);
  }

  /** The answer to a domain refusal. */
  static of(r: Refusal, headers: Record<string, string> = {}): ApiError {
    return new ApiError(r.code, r.message, [...r.details], headers);
  }

  /** The refusal of a stage: the first fault names the code, all faults go to details. */
  static fromFaults(faults: Fault[]): ApiError {
    const first = faults[0];
    if (!first) return new ApiError("INTERNAL");
    return new ApiError(first.code, first.message, faults);
  }
}
