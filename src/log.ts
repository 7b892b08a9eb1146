/**
 * Structured logs: one JSON object per line. The interface is pino's (`logger.info(fields, msg)`),
 * so Node hands in pino (log-node.ts) and Workers a console writer (`consoleLogger`).
 *
 * What may appear in a line is decided here and in app.ts, never by a caller passing a request:
 * the request line carries method, route pattern, status, duration, request id and the
 * principal's role and id. Never a token, key, secret, header, body or invoice XML.
 */
export interface Logger {
  info(fields: object, msg?: string): void;
  warn(fields: object, msg?: string): void;
  error(fields: object, msg?: string): void;
}

/** Lines on console (Workers: the platform collects them as structured logs). */
export function consoleLogger(base: Record<string, unknown> = {}): Logger {
  const line = (level: string, fields: object, msg?: string) => JSON.stringify({ level, time: new Date().toISOString(), ...base, ...fields, ...(msg === undefined ? {} : { msg }) });
  // The console method carries the level too (Workers Logs filter on it).
  return {
    info: (f, m) => console.log(line("info", f, m)),
    warn: (f, m) => console.warn(line("warn", f, m)),
    error: (f, m) => console.error(line("error", f, m)),
  };
}

/** Discards everything (tests that do not look at logs). */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/** An error as loggable fields: class, message and stack; never the request that caused it. */
export function errorFields(err: unknown): { err: { type: string; message: string; stack?: string } } {
  if (err instanceof Error) return { err: { type: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}) } };
  return { err: { type: typeof err, message: String(err) } };
}
