/** The first row of a result, or null (shared by the aggregates' SQL). */
export const first = <T>(rows: T[]): T | null => rows[0] ?? null;
