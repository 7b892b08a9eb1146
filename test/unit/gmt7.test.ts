/** Vietnam's time (domain/gmt7.ts): the one place that knows the offset, checked against times written with +07:00. */
import { describe, expect, it } from "vitest";
import { gmt7, gmt7Date, gmt7DayStart, gmt7Minutes, gmt7NextWorkingDayEnd } from "../../src/domain/gmt7.js";
import { isOverdue } from "../../src/routes/registrations.js";

const at = (s: string) => new Date(s);

describe("GMT+7", () => {
  it("writes an instant as Vietnam's local time, crossing midnight and the new year", () => {
    expect(gmt7(at("2026-12-31T16:59:59Z"))).toBe("2026-12-31T23:59:59");
    expect(gmt7(at("2026-12-31T17:00:00Z"))).toBe("2027-01-01T00:00:00");
    expect(gmt7Date(at("2026-12-31T17:00:00Z"))).toBe("2027-01-01");
    expect(gmt7Minutes(at("2026-12-04T03:05:59Z"))).toBe("2026-12-04 10:05");
  });

  it("starts a day at 00:00 GMT+7, and refuses what is not a date", () => {
    expect(gmt7DayStart("2026-12-04")).toBe(Date.parse("2026-12-03T17:00:00Z"));
    expect(gmt7DayStart("2026-13-04")).toBeNaN();
  });

  it("ends the first working day after the day of receipt, skipping Saturday and Sunday in GMT+7", () => {
    // Thursday 2026-12-03 → Friday ends at Saturday 00:00.
    expect(gmt7NextWorkingDayEnd(at("2026-12-03T10:00:00+07:00"))).toBe(Date.parse("2026-12-05T00:00:00+07:00"));
    // Friday, even at 23:59 GMT+7 (16:59Z, still Friday) → Monday ends at Tuesday 00:00.
    expect(gmt7NextWorkingDayEnd(at("2026-12-04T23:59:00+07:00"))).toBe(Date.parse("2026-12-08T00:00:00+07:00"));
    // Saturday 00:30 GMT+7 is Friday 17:30Z: the day is Saturday's → Monday as well.
    expect(gmt7NextWorkingDayEnd(at("2026-12-04T17:30:00Z"))).toBe(Date.parse("2026-12-08T00:00:00+07:00"));
    // Sunday → Monday.
    expect(gmt7NextWorkingDayEnd(at("2026-12-06T12:00:00+07:00"))).toBe(Date.parse("2026-12-08T00:00:00+07:00"));
  });

  it("calls a registration overdue from the end of that working day on, not a millisecond before", () => {
    const friday = at("2026-12-04T09:00:00+07:00");
    expect(isOverdue(friday, at("2026-12-07T23:59:59.999+07:00"))).toBe(false);
    expect(isOverdue(friday, at("2026-12-08T00:00:00+07:00"))).toBe(true);
  });
});
