/** What every request handler can reach: the services built once at start, and per-request values. */
import type { Principal } from "./auth.js";
import type { SubmitDeps } from "./domain/submit.js";
import type { ErrorCode } from "./errors.js";
import type { HeavyWork } from "./heavy-work.js";
import type { Metrics } from "./metrics.js";
import type { TrustStore } from "./pki/trust.js";
import type { RateLimiter } from "./rate-limit.js";
import type { CredentialUseRecorder } from "./storage/credential-use.js";
import type { SessionStore } from "./storage/sessions.js";
import type { ReadStore, Store } from "./storage/store.js";
import type { TransparencyLog } from "./tlog/log.js";
import type { AuthorityKey } from "./xml/stamp.js";

export interface Services {
  store: Store;
  /**
   * Reads that tolerate replication lag (reports, searches): a read replica when
   * HOADON_READ_DATABASE_URL is set, else `store`. Never the submission path or replay checks:
   * typed so that nothing can write through it.
   */
  readStore: ReadStore;
  trust: TrustStore;
  authority: AuthorityKey;
  /** The head of office's key that co-signs registration decisions (103, TTCQT); HOADON_OFFICIAL_KEY. */
  official?: AuthorityKey;
  codeSecret: Uint8Array;
  adminTokenHash: string;
  clock: () => Date;
  submit: SubmitDeps;
  /** Public endpoints per client address; repeated refusals per key (src/rate-limit.ts). */
  rateLimiter: RateLimiter;
  /** Large documents: at most a few in flight per client, and one at a time per turn of the event loop (src/heavy-work.ts). */
  heavyWork: HeavyWork;
  /** Sign-in sessions of the officer pages. */
  sessions: SessionStore;
  /** HOADON_PUBLIC_URL (ends in "/"): where the pages' QR codes point; unset: the request's origin. */
  publicUrl?: string;
  /** Last use of keys and tokens, noted per request and written off the request path (storage/credential-use.ts). */
  credentialUse: CredentialUseRecorder;
  /** The transparency log (tlog/log.ts); null where there is none (Workers). */
  log: TransparencyLog | null;
}

export interface AppEnv {
  Variables: {
    services: Services;
    requestId: string;
    principal: Principal;
    /** Counters and histograms of /metrics (e.g. `c.get("metrics").invoicesIssued.inc()`). */
    metrics: Metrics;
    /** The error code of api.md this request was answered with (set by the error handler; the request's log line carries it). */
    errorCode: ErrorCode;
  };
}
