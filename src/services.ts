/** Wires the services once: store, trust, secrets and the submission pipeline's dependencies. */
import type { Services } from "./context.js";
import { CodeIssuer } from "./domain/code.js";
import type { TrustStore } from "./pki/trust.js";
import type { Secrets } from "./secrets.js";
import type { Store } from "./storage/store.js";
import { DEFAULT_LIMITS, type ParseLimits } from "./xml/parse.js";

export interface ServiceOptions {
  store: Store;
  /** A read replica for reports and searches (default: `store`). */
  readStore?: Store;
  trust: TrustStore;
  secrets: Pick<Secrets, "authority" | "codeSecret" | "adminTokenHash">;
  issuerId: string;
  allowSha1: boolean;
  clock?: () => Date;
  limits?: ParseLimits;
}

/** Builds the services object handed to the app. */
export function createServices(o: ServiceOptions): Services {
  const clock = o.clock ?? (() => new Date());
  const codes = new CodeIssuer(o.issuerId, o.secrets.codeSecret, (n) => o.store.reserveTransactionNumbers(n));
  return {
    store: o.store,
    readStore: o.readStore ?? o.store,
    trust: o.trust,
    authority: o.secrets.authority,
    codeSecret: o.secrets.codeSecret,
    adminTokenHash: o.secrets.adminTokenHash,
    clock,
    submit: {
      store: o.store,
      trust: o.trust,
      authority: o.secrets.authority,
      codes,
      clock,
      allowSha1: o.allowSha1,
      limits: o.limits ?? DEFAULT_LIMITS,
      maxClockSkewMs: 5 * 60_000,
    },
  };
}
