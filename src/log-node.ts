/** The Node logger: pino, JSON lines on stdout. Kept apart from log.ts so that Workers never bundle pino. */
import { pino } from "pino";
import type { Logger } from "./log.js";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** pino on stdout with ISO times; `authorization` and `cookie` are redacted should a header ever be logged. */
export function nodeLogger(level: LogLevel = "info", destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { service: "hoadon", pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: ["req.headers.authorization", "req.headers.cookie", "headers.authorization", "authorization", "token", "key"], censor: "[redacted]" },
  };
  return destination ? pino(options, destination) : pino(options);
}
