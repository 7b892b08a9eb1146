/**
 * Prometheus metrics in the text exposition format (0.0.4), written by hand: a few counters and
 * histograms with the labels the operators need, no dependency, no timers, nothing that runs
 * between scrapes. The hot path costs one Map lookup and one bucket search per observation.
 * Runs the same on Node and on Workers (where each isolate has its own numbers).
 *
 * Labels come from closed sets only (route patterns, methods, status codes, error codes, query
 * kinds), never from a raw path or a value a client chose, so the number of series is bounded.
 */

/** Latency buckets in seconds: 1 ms … 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** Batch sizes (api.md: ≤ 1000 invoices per batch). */
export const BATCH_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000] as const;

type Labels = Readonly<Record<string, string>>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function num(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return Number.isNaN(v) ? "NaN" : String(v);
}

/** Anything that writes its lines of the exposition text. */
export interface Metric {
  render(out: string[]): void;
}

/** A monotonically increasing count per label set. */
export class Counter<L extends string = never> implements Metric {
  readonly #series = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    /** Without labels the series is shown at 0 before its first increment, so alerts see it from the first scrape. */
    private readonly labelled = false,
  ) {}

  inc(labels: Record<L, string> = {} as Record<L, string>, by = 1): void {
    const key = seriesKey(labels);
    const s = this.#series.get(key);
    if (s) s.value += by;
    else this.#series.set(key, { labels: { ...labels }, value: by });
  }

  /** The current value (tests). */
  get(labels: Record<L, string> = {} as Record<L, string>): number {
    return this.#series.get(seriesKey(labels))?.value ?? 0;
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`);
    if (this.#series.size === 0 && !this.labelled) out.push(`${this.name} 0`);
    for (const s of this.#series.values()) out.push(`${this.name}${labelText(s.labels)} ${num(s.value)}`);
  }
}

/** A value read at scrape time. */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number | undefined,
  ) {}

  render(out: string[]): void {
    const v = this.read();
    if (v === undefined) return;
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${num(v)}`);
  }
}

/** Values per label set, read at scrape time (e.g. one per CRL). */
export class GaugeSet implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => readonly { labels: Labels; value: number }[],
  ) {}

  render(out: string[]): void {
    const series = this.read();
    if (series.length === 0) return;
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`);
    for (const s of series) out.push(`${this.name}${labelText(s.labels)} ${num(s.value)}`);
  }
}

/** Cumulative buckets, sum and count per label set. */
export class Histogram<L extends string = never> implements Metric {
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(labels: Record<L, string>, value: number): void {
    const key = seriesKey(labels);
    let s = this.#series.get(key);
    if (!s) {
      s = { labels: { ...labels }, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    // Non-cumulative here (one increment); cumulated when rendered.
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    if (i < this.buckets.length) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** Observations so far (tests). */
  count(labels: Record<L, string>): number {
    return this.#series.get(seriesKey(labels))?.count ?? 0;
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`);
    for (const s of this.#series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i]!;
        out.push(`${this.name}_bucket${labelText(s.labels, ["le", num(le)])} ${cumulative}`);
      });
      out.push(`${this.name}_bucket${labelText(s.labels, ["le", "+Inf"])} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`, `${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
  }
}

function seriesKey(labels: Record<string, string>): string {
  // Label names are fixed per metric, so the values in insertion order identify the series.
  let key = "";
  for (const k in labels) key += labels[k] + "\u0000";
  return key;
}

/** Database pool figures (the timing layer in storage/instrument.ts keeps them). */
export interface PoolStats {
  /** Connections the pool may open. */
  max: number;
  /** Top-level queries and transactions running now: each holds one connection. */
  active: number;
}

/** What the expiry gauges read: the authority's certificate and the CRLs in force. */
export interface ExpirySources {
  authorityCertificate: { notAfter: Date; subject: string };
  crls: () => readonly { issuer: string; thisUpdate: Date; nextUpdate: Date | undefined }[];
}

/**
 * Expiry as gauges (Unix seconds), for alerts well before the day: the authority's signing
 * certificate (notAfter) and every CRL in force (nextUpdate: past it, a CRL is stale and invoices
 * signed under its issuer are refused). Read at scrape time, so a SIGHUP reload shows at once.
 */
export function registerExpiryMetrics(metrics: Metrics, src: ExpirySources): void {
  const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
  // One series per issuer: its newest CRL (by thisUpdate) is the one that matters.
  const newest = () => {
    const byIssuer = new Map<string, { issuer: string; thisUpdate: Date; nextUpdate: Date | undefined }>();
    for (const c of src.crls()) {
      const seen = byIssuer.get(c.issuer);
      if (!seen || c.thisUpdate > seen.thisUpdate) byIssuer.set(c.issuer, c);
    }
    return [...byIssuer.values()];
  };
  metrics.register(
    new GaugeSet("hoadon_authority_certificate_not_after_seconds", "notAfter of the authority's signing certificate, Unix seconds.", () => [
      { labels: { subject: src.authorityCertificate.subject }, value: seconds(src.authorityCertificate.notAfter) },
    ]),
  );
  metrics.register(
    new GaugeSet("hoadon_crl_next_update_seconds", "nextUpdate of the newest CRL in force of each issuer, Unix seconds (a CRL without nextUpdate is not listed).", () =>
      newest().flatMap((c) => (c.nextUpdate ? [{ labels: { issuer: c.issuer }, value: seconds(c.nextUpdate) }] : [])),
    ),
  );
  metrics.register(
    new GaugeSet("hoadon_crl_this_update_seconds", "thisUpdate of the newest CRL in force of each issuer, Unix seconds.", () =>
      newest().map((c) => ({ labels: { issuer: c.issuer }, value: seconds(c.thisUpdate) })),
    ),
  );
}

/** What the transparency log tells /metrics (tlog/log.ts TransparencyLog: observed after each tick). */
export interface TransparencyLogSource {
  readonly observed: { size: number; signedAt: Date | null; pending: number; oldestPendingAt: Date | null } | null;
  readonly stats: { readonly leaves: number; readonly failures: number };
}

/**
 * The transparency log's gauges (docs/operations.md): figures of the last sequencing tick (every
 * HOADON_LOG_INTERVAL_MS); the two ages are taken against the clock at scrape time, so they keep
 * growing when ticks fail or stop. Nothing before the first tick.
 */
export function registerTransparencyLogMetrics(metrics: Metrics, log: TransparencyLogSource, now: () => number = Date.now): void {
  const seen = () => log.observed ?? undefined;
  metrics.register(new Gauge("hoadon_tlog_tree_size", "Leaves in the transparency log's latest signed tree.", () => seen()?.size));
  metrics.register(new Gauge("hoadon_tlog_pending_entries", "Committed log entries without a leaf yet (waiting for the sequencer).", () => seen()?.pending));
  metrics.register(
    new Gauge("hoadon_tlog_checkpoint_age_seconds", "Seconds since the latest checkpoint was signed (a head is signed again only when the tree grows).", () => {
      const at = seen()?.signedAt;
      return at ? Math.max(0, (now() - at.getTime()) / 1000) : undefined;
    }),
  );
  metrics.register(
    new Gauge("hoadon_tlog_sequencing_lag_seconds", "Age of the oldest committed entry without a leaf (its event time to now); 0 when none is pending.", () => {
      const o = seen();
      if (!o) return undefined;
      return o.oldestPendingAt ? Math.max(0, (now() - o.oldestPendingAt.getTime()) / 1000) : 0;
    }),
  );
  metrics.register({
    render: (out) =>
      out.push(
        "# HELP hoadon_tlog_leaves_sequenced_total Leaves this process sequenced.",
        "# TYPE hoadon_tlog_leaves_sequenced_total counter",
        `hoadon_tlog_leaves_sequenced_total ${log.stats.leaves}`,
        "# HELP hoadon_tlog_sequencing_failures_total Sequencing ticks of this process that failed (retried at the next tick).",
        "# TYPE hoadon_tlog_sequencing_failures_total counter",
        `hoadon_tlog_sequencing_failures_total ${log.stats.failures}`,
      ),
  });
}

/** Hoadon's metrics. One per process (Node) or isolate (Workers); routes reach it as `c.get("metrics")`. */
export class Metrics {
  readonly requests = new Counter<"method" | "route" | "status">("hoadon_http_requests_total", "HTTP requests answered, by method, route pattern and status.", true);
  readonly requestDuration = new Histogram<"method" | "route" | "status">(
    "hoadon_http_request_duration_seconds",
    "Time from receiving a request to its answer, by method, route pattern and status.",
    LATENCY_BUCKETS,
  );
  readonly invoicesIssued = new Counter("hoadon_invoices_issued_total", "Invoices issued (answered 201 with a new code); replays are not counted.");
  readonly refusals = new Counter<"code">("hoadon_refusals_total", "Error answers, by the error code of api.md.", true);
  readonly batchSize = new Histogram<never>("hoadon_batch_size", "Invoices per batch submission.", BATCH_BUCKETS);
  readonly dbQueryDuration = new Histogram<"op" | "outcome">(
    "hoadon_db_query_duration_seconds",
    "Database statement and transaction latency, by kind (query, exec, transaction) and outcome (ok, error).",
    LATENCY_BUCKETS,
  );
  readonly #metrics: Metric[] = [this.requests, this.requestDuration, this.invoicesIssued, this.refusals, this.batchSize, this.dbQueryDuration];

  /** Adds a metric read at scrape time (pool use, event-loop lag, process figures). */
  register(metric: Metric): void {
    this.#metrics.push(metric);
  }

  /** Counts one answered request. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.requestDuration.observe(labels, seconds);
  }

  /** Reports the pool of the store in use (called once when the store is opened). */
  observePool(stats: () => PoolStats | undefined): void {
    this.register(new Gauge("hoadon_db_pool_max", "Database connections the pool may open.", () => stats()?.max));
    this.register(
      new Gauge("hoadon_db_pool_active", "Database connections in use (statements and transactions running).", () => {
        const s = stats();
        return s === undefined ? undefined : Math.min(s.active, s.max);
      }),
    );
    this.register(
      new Gauge("hoadon_db_pool_waiting", "Statements and transactions waiting for a free connection.", () => {
        const s = stats();
        return s === undefined ? undefined : Math.max(0, s.active - s.max);
      }),
    );
  }

  /** The exposition text. */
  render(): string {
    const out: string[] = [];
    for (const m of this.#metrics) m.render(out);
    return out.join("\n") + "\n";
  }
}

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
