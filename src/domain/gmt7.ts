/**
 * Vietnam's time, GMT+7 all year (no daylight saving). Invoice dates (NLap), SigningTime as
 * production writes it (no offset), the day of receipt and report days are all in it; this is
 * the one place that knows the offset.
 */
const GMT7_OFFSET_MS = 7 * 3600_000;
const DAY_MS = 86_400_000;

/** The offset as ISO 8601 writes it, for a local time written without one. */
export const GMT7_ISO_OFFSET = "+07:00";

/** `YYYY-MM-DDTHH:mm:ss.sssZ` shifted to GMT+7 (the `Z` is then wrong: slice it off). */
const shifted = (at: Date): string => new Date(at.getTime() + GMT7_OFFSET_MS).toISOString();

/** `YYYY-MM-DDTHH:mm:ss` in GMT+7, without offset, as production writes SigningTime and notice times. */
export function gmt7(at: Date): string {
  return shifted(at).slice(0, 19);
}

/** `YYYY-MM-DD`: the day of `at` in GMT+7 (invoice-format.md §3.2: NLap is judged against the day of receipt there). */
export function gmt7Date(at: Date): string {
  return shifted(at).slice(0, 10);
}

/** `YYYY-MM-DD HH:mm`, for people. */
export function gmt7Minutes(at: Date): string {
  return shifted(at).slice(0, 16).replace("T", " ");
}

/** The first instant (ms since the epoch) of a `YYYY-MM-DD` day in GMT+7; NaN if it is not a date. */
export function gmt7DayStart(date: string): number {
  return Date.parse(`${date}T00:00:00${GMT7_ISO_OFFSET}`);
}

/**
 * The end (ms since the epoch) of the first working day (Monday to Friday, GMT+7) after the day
 * of `at`. Public holidays are not known here.
 */
export function gmt7NextWorkingDayEnd(at: Date): number {
  let day = Math.floor((at.getTime() + GMT7_OFFSET_MS) / DAY_MS) + 1; // days since the epoch, GMT+7
  while ([0, 6].includes(new Date(day * DAY_MS).getUTCDay())) day++;
  return (day + 1) * DAY_MS - GMT7_OFFSET_MS;
}
