/** The Node logger: pino, JSON lines on stdout. Kept apart from log.ts so that Workers never bundle pino. */
import { write as fsWrite } from "node:fs";
import { pino } from "pino";
import type { Logger } from "./log.js";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/** Bytes of log lines held while the reader is slow; past it, new lines are dropped (and counted). */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/**
 * pino's destination: a file descriptor (stdout) written asynchronously and in order, so a slow
 * log reader never blocks the event loop. When the reader is gone (EPIPE, or any other write
 * error) logging stops for good, and `flush()` waits for what is queued only up to a deadline.
 *
 * Not pino's default (sonic-boom 4): at exit that one flushes synchronously and retries every
 * failed write every 100 ms, EPIPE included, forever, so a service whose stdout pipe had been
 * closed never exited after SIGTERM. Nothing here runs at 'exit'.
 */
export class LogDestination {
  #queue: Buffer[] = [];
  #queued = 0;
  #writing = false;
  #inFlight = 0;
  #closed = false;
  #waiters: (() => void)[] = [];
  /** Lines dropped because the reader was too slow (past 16 MiB queued) or gone. */
  dropped = 0;

  constructor(private readonly fd = 1) {}

  /** pino's stream interface: one serialized line. */
  write(line: string): boolean {
    if (this.#closed || this.#queued > MAX_QUEUED_BYTES) {
      this.dropped++;
      return true;
    }
    const buf = Buffer.from(line, "utf8");
    this.#queue.push(buf);
    this.#queued += buf.length;
    if (!this.#writing) this.#next();
    return true;
  }

  /** Resolves when everything logged so far is written (or dropped), or after `timeoutMs`, whichever comes first. */
  flush(timeoutMs = 2000): Promise<void> {
    if (!this.#writing) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #next(): void {
    if (this.#closed || this.#queue.length === 0) {
      this.#writing = false;
      for (const w of this.#waiters.splice(0)) w();
      return;
    }
    this.#writing = true;
    const buf = this.#queue.length === 1 ? this.#queue[0]! : Buffer.concat(this.#queue);
    this.#inFlight = this.#queue.length;
    this.#queue = [];
    this.#queued = 0;
    this.#write(buf);
  }

  #write(buf: Buffer): void {
    fsWrite(this.fd, buf, 0, buf.length, null, (err, n) => {
      if (err) {
        // A non-blocking pipe that is full: try again shortly (the reader is slow, not gone).
        if (err.code === "EAGAIN") {
          setTimeout(() => this.#write(buf), 50).unref();
          return;
        }
        // EPIPE (the reader closed its end) or anything else: there is nowhere left to log to.
        this.#closed = true;
        this.dropped += this.#inFlight + this.#queue.length;
        this.#queue = [];
        this.#queued = 0;
        this.#next();
        return;
      }
      if (n < buf.length) this.#write(buf.subarray(n));
      else this.#next();
    });
  }
}

/** Where nodeLogger writes unless told otherwise: the process's stdout. */
export const stdoutLog = new LogDestination(1);

/** pino on stdout with ISO times; `authorization` and `cookie` are redacted should a header ever be logged. */
export function nodeLogger(level: LogLevel = "info", destination: { write(line: string): unknown } = stdoutLog): Logger {
  const options = {
    level,
    base: { service: "hoadon", pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: ["req.headers.authorization", "req.headers.cookie", "headers.authorization", "authorization", "token", "key"], censor: "[redacted]" },
  };
  return pino(options, destination as NodeJS.WritableStream);
}

/** Exits once the log lines written so far are out (waiting at most 2 s: a reader that stopped reading does not hold the exit). */
export function exitAfterLogs(code: number): void {
  void stdoutLog.flush(2000).then(() => process.exit(code));
}
