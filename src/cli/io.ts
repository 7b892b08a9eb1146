/** What a subcommand talks to: the user's terminal and the network, replaceable in tests. */
export interface CliIo {
  /** Lines for the user (stdout). */
  out: (line: string) => void;
  /** Diagnostics (stderr). */
  err: (line: string) => void;
  /** HTTP, replaceable in tests. */
  fetch: typeof fetch;
}
