/** Wires the services once: store, trust, secrets and the submission pipeline's dependencies. */
import type { Services } from "./context.js";
import { CodeIssuer } from "./domain/code.js";
import { DEFAULT_TIME_WINDOW } from "./domain/rules.js";
import { DEFAULT_HEAVY_WORK, HeavyWork, type HeavyWorkSettings } from "./heavy-work.js";
import type { TrustStore } from "./pki/trust.js";
import { type CounterStore, DEFAULT_RATE_LIMITS, MemoryCounterStore, RateLimiter, type RateLimitSettings } from "./rate-limit.js";
import type { Secrets } from "./secrets.js";
import { CredentialUseRecorder } from "./storage/credential-use.js";
import { PgStore } from "./storage/pg-store.js";
import { type SessionStore, SqlSessionStore } from "./storage/sessions.js";
import type { ReadStore, Store } from "./storage/store.js";
import type { TransparencyLog } from "./tlog/log.js";
import { DEFAULT_LIMITS, type ParseLimits } from "./xml/parse.js";
import type { AuthorityKey } from "./xml/stamp.js";

export interface ServiceOptions {
  store: Store;
  /** A read replica for reports and searches (default: `store`). */
  readStore?: ReadStore;
  trust: TrustStore;
  secrets: Pick<Secrets, "authority" | "codeSecret" | "adminTokenHash"> & { official?: AuthorityKey };
  issuerId: string;
  allowSha1: boolean;
  /** HOADON_MAX_SIGNING_LAG_HOURS, HOADON_MAX_ISSUE_DATE_LAG_DAYS (defaults: DEFAULT_TIME_WINDOW). */
  maxSigningLagHours?: number;
  maxIssueDateLagDays?: number;
  clock?: () => Date;
  limits?: ParseLimits;
  /** Rate limits (defaults: DEFAULT_RATE_LIMITS); `counters` replaces the in-process store with a shared one. */
  rateLimits?: Partial<RateLimitSettings>;
  counters?: CounterStore;
  /** Large documents: the per-client bound and the lane (defaults: DEFAULT_HEAVY_WORK). */
  heavyWork?: Partial<HeavyWorkSettings>;
  /** HOADON_COMMIT_LINGER_MS: how long a small group of submissions waits for company under sustained traffic (default 0: never). */
  commitLingerMs?: number;
  /** Officer sessions (default: the sessions table of `store`'s database). */
  sessions?: SessionStore;
  /** HOADON_PUBLIC_URL: the buyer's check as the public reaches it (the pages' QR codes); default: each request's origin. */
  publicUrl?: string;
  /** Last use of keys and tokens (default: a recorder of its own, flushed by whoever calls `flush`/`start`). */
  credentialUse?: CredentialUseRecorder;
  /** The transparency log over `store`'s database (default: none). */
  log?: TransparencyLog | null;
}

/** Sessions in the store's own database; a store of another kind (a test stub) has none to offer. */
function sessionsOf(store: Store): SessionStore {
  if (store instanceof PgStore) return new SqlSessionStore(store.db);
  const none = (): never => {
    throw new Error("no session store: pass ServiceOptions.sessions");
  };
  return { createSession: none, findSession: none, deleteSession: none };
}

/** Builds the services object handed to the app. */
export function createServices(o: ServiceOptions): Services {
  const clock = o.clock ?? (() => new Date());
  const heavyWork = new HeavyWork({ ...DEFAULT_HEAVY_WORK, ...o.heavyWork });
  const codes = new CodeIssuer(o.issuerId, o.secrets.codeSecret, (n) => o.store.reserveTransactionNumbers(n));
  return {
    store: o.store,
    readStore: o.readStore ?? o.store,
    trust: o.trust,
    authority: o.secrets.authority,
    ...(o.secrets.official ? { official: o.secrets.official } : {}),
    codeSecret: o.secrets.codeSecret,
    adminTokenHash: o.secrets.adminTokenHash,
    clock,
    heavyWork,
    rateLimiter: new RateLimiter({ ...DEFAULT_RATE_LIMITS, ...o.rateLimits }, o.counters ?? new MemoryCounterStore(), clock),
    sessions: o.sessions ?? sessionsOf(o.store),
    ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}),
    log: o.log ?? null,
    credentialUse: o.credentialUse ?? new CredentialUseRecorder(),
    submit: {
      store: o.store,
      trust: o.trust,
      authority: o.secrets.authority,
      codes,
      clock,
      allowSha1: o.allowSha1,
      limits: o.limits ?? DEFAULT_LIMITS,
      lane: heavyWork,
      maxClockSkewMs: DEFAULT_TIME_WINDOW.maxClockSkewMs,
      maxSigningLagMs: o.maxSigningLagHours !== undefined ? o.maxSigningLagHours * 3600_000 : DEFAULT_TIME_WINDOW.maxSigningLagMs,
      maxIssueDateLagDays: o.maxIssueDateLagDays ?? DEFAULT_TIME_WINDOW.maxIssueDateLagDays,
      ...(o.commitLingerMs ? { commitLingerMs: o.commitLingerMs } : {}),
    },
  };
}
