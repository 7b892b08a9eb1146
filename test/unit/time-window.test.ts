/** checkTimeWindow: NLap and SigningTime against the receipt (api.md; issue 14, item 2), at and around each bound. */
import { describe, expect, it } from "vitest";
import { checkTimeWindow, DEFAULT_TIME_WINDOW, type Receipt } from "../../src/domain/rules.js";

const HOUR = 3600_000;
/** Received 2026-12-04 10:00 in GMT+7 (03:00Z). */
const AT = new Date("2026-12-04T10:00:00+07:00");
const receipt = (signingTime: string | null, window = DEFAULT_TIME_WINDOW, at = AT): Receipt => ({ at, signingTime: signingTime === null ? null : new Date(signingTime), window });
const codes = (issueDate: string, r: Receipt) => checkTimeWindow(issueDate, r).map((f) => f.code);

describe("the time window", () => {
  it("has the defaults of api.md: 72 hours of signing lag, 7 days of issue-date lag, 5 minutes of skew", () => {
    expect(DEFAULT_TIME_WINDOW).toEqual({ maxClockSkewMs: 5 * 60_000, maxSigningLagMs: 72 * HOUR, maxIssueDateLagDays: 7 });
  });

  it("accepts an invoice signed on its issue day and sent at once", () => {
    expect(checkTimeWindow("2026-12-04", receipt("2026-12-04T09:59:07+07:00"))).toEqual([]);
    expect(checkTimeWindow("2026-12-04", receipt(null))).toEqual([]);
  });

  it("takes NLap up to 7 days before the day of receipt in GMT+7, not 8 (ISSUE_DATE_TOO_OLD)", () => {
    expect(codes("2026-11-27", receipt(null))).toEqual([]);
    expect(codes("2026-11-26", receipt(null))).toEqual(["ISSUE_DATE_TOO_OLD"]);
    expect(codes("1970-01-01", receipt(null))).toEqual(["ISSUE_DATE_TOO_OLD"]);
    // The day of receipt is Vietnam's: 2026-12-04 23:30 in GMT+7 is still 2026-12-04 UTC+7, while 2026-12-05 00:30 is the next day.
    expect(codes("2026-11-27", receipt(null, DEFAULT_TIME_WINDOW, new Date("2026-12-04T23:30:00+07:00")))).toEqual([]);
    expect(codes("2026-11-27", receipt(null, DEFAULT_TIME_WINDOW, new Date("2026-12-05T00:30:00+07:00")))).toEqual(["ISSUE_DATE_TOO_OLD"]);
    // 0 days: only today.
    expect(codes("2026-12-03", receipt(null, { ...DEFAULT_TIME_WINDOW, maxIssueDateLagDays: 0 }))).toEqual(["ISSUE_DATE_TOO_OLD"]);
    expect(codes("2026-12-04", receipt(null, { ...DEFAULT_TIME_WINDOW, maxIssueDateLagDays: 0 }))).toEqual([]);
  });

  it("refuses a SigningTime before the first instant of NLap's day in GMT+7 (SIGNING_TIME_OUT_OF_RANGE)", () => {
    expect(codes("2026-12-03", receipt("2026-12-03T00:00:00+07:00"))).toEqual([]);
    expect(codes("2026-12-03", receipt("2026-12-02T23:59:59+07:00"))).toEqual(["SIGNING_TIME_OUT_OF_RANGE"]);
    const [f] = checkTimeWindow("2026-12-03", receipt("2026-12-02T23:59:59+07:00"));
    expect(f!.path).toBe("DSCKS/NBan/Signature/Object/SignatureProperties/SignatureProperty/SigningTime");
  });

  it("refuses a SigningTime more than 72 hours before the receipt, not one exactly 72 hours before", () => {
    expect(codes("2026-12-01", receipt(new Date(AT.getTime() - 72 * HOUR).toISOString()))).toEqual([]);
    expect(codes("2026-12-01", receipt(new Date(AT.getTime() - 72 * HOUR - 1000).toISOString()))).toEqual(["SIGNING_TIME_OUT_OF_RANGE"]);
    const day = { ...DEFAULT_TIME_WINDOW, maxSigningLagMs: 24 * HOUR };
    expect(codes("2026-12-02", receipt("2026-12-03T09:59:59+07:00", day))).toEqual(["SIGNING_TIME_OUT_OF_RANGE"]);
    expect(codes("2026-12-02", receipt("2026-12-03T10:00:00+07:00", day))).toEqual([]);
  });

  it("refuses a SigningTime ahead of the receipt by more than the clock skew", () => {
    expect(codes("2026-12-04", receipt(new Date(AT.getTime() + 5 * 60_000).toISOString()))).toEqual([]);
    expect(codes("2026-12-04", receipt(new Date(AT.getTime() + 5 * 60_000 + 1000).toISOString()))).toEqual(["SIGNING_TIME_OUT_OF_RANGE"]);
  });

  it("reports ISSUE_DATE_TOO_OLD before SIGNING_TIME_OUT_OF_RANGE when both fail", () => {
    expect(codes("2026-11-01", receipt("2026-10-31T08:00:00+07:00"))).toEqual(["ISSUE_DATE_TOO_OLD", "SIGNING_TIME_OUT_OF_RANGE"]);
  });
});
