/**
 * Node entry point: configuration, store, secrets, trust; then serve until SIGTERM/SIGINT (SIGHUP
 * reloads the CRLs). With HOADON_WORKERS > 1 (PostgreSQL only), this process makes the secrets
 * and migrates once, then runs that many workers (node:cluster) on the same port, each a whole
 * service with its own pool, and passes the signals on to them.
 */
import cluster, { type Worker } from "node:cluster";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { buildApp } from "./app.js";
import { readPublicAsset } from "./assets-node.js";
import { hashSecret } from "./auth.js";
import { type Config, ConfigError, intermediatesPath, loadConfig } from "./config.js";
import { errorFields } from "./log.js";
import { exitAfterLogs, nodeLogger, stdoutLog } from "./log-node.js";
import { type Metric, Metrics, registerExpiryMetrics, registerTransparencyLogMetrics } from "./metrics.js";
import { serveClusterMetrics, workerMetrics } from "./metrics-cluster.js";
import { registerNodeMetrics } from "./metrics-node.js";
import { parseCertificate } from "./pki/certificate.js";
import { TrustStore } from "./pki/trust.js";
import { loadTrust, readCrls } from "./pki/trust-files.js";
import { loadSecrets } from "./secrets.js";
import { createServices } from "./services.js";
import { openDb, openStore, PgStore } from "./storage/index.js";
import { instrumentDb } from "./storage/instrument.js";
import { TransparencyLog } from "./tlog/log.js";

async function main(): Promise<void> {
  const config = loadConfig();
  if (cluster.isPrimary && config.HOADON_WORKERS > 1) return supervise(config);
  let trust: TrustStore;
  try {
    const intermediates = intermediatesPath(config);
    trust = new TrustStore(
      loadTrust({ anchorsPath: config.HOADON_TRUST_ANCHORS, ...(intermediates ? { intermediatesPath: intermediates } : {}), crlPaths: config.HOADON_CRLS }),
      { allowRsa1024: config.HOADON_ALLOW_RSA1024 },
    );
  } catch (e) {
    throw new ConfigError(`invalid configuration: HOADON_TRUST_ANCHORS/HOADON_INTERMEDIATES/HOADON_CRLS: ${(e as Error).message}`);
  }
  const secrets = await secretsOf(config);
  const logger = nodeLogger(config.HOADON_LOG_LEVEL);
  const metrics = new Metrics();
  const instrument = (db: Parameters<typeof instrumentDb>[0]) => instrumentDb(db, metrics, config.HOADON_DB_POOL);
  const store = await openStore(
    config.DATABASE_URL
      ? { databaseUrl: config.DATABASE_URL, poolSize: config.HOADON_DB_POOL, connectTimeoutSeconds: 2, instrument }
      : { dataDir: config.HOADON_DATA_DIR, instrument },
  ).catch((e: unknown) => {
    // Name the setting to look at: a wrong URL and a server that is down read the same here.
    throw new Error(`${config.DATABASE_URL ? "DATABASE_URL" : "HOADON_DATA_DIR"}: ${(e as Error)?.message ?? e}`);
  });
  // Keys, sellers and certificates in memory, dropped on the database's announcement of a change.
  if (store instanceof PgStore) await store.cacheRegistry();
  // A read replica is never migrated (it follows the primary) and has no pool gauges of its own.
  const readStore = config.HOADON_READ_DATABASE_URL
    ? new PgStore(
        instrumentDb(
          await openDb({ databaseUrl: config.HOADON_READ_DATABASE_URL, poolSize: config.HOADON_DB_POOL, connectTimeoutSeconds: 2 }).catch((e: unknown) => {
            throw new Error(`HOADON_READ_DATABASE_URL: ${(e as Error)?.message ?? e}`);
          }),
          metrics,
        ),
      )
    : store;
  const nodeMetrics = registerNodeMetrics(metrics);
  // The transparency log over the primary: every instance sequences and signs (one at a time,
  // tlog_state's row lock decides) every HOADON_LOG_INTERVAL_MS.
  const log = store instanceof PgStore ? new TransparencyLog(store.db, secrets.logSigner, secrets.authority) : null;
  log?.start(config.HOADON_LOG_INTERVAL_MS, (e) => logger.warn({ ...errorFields(e) }, "transparency log: sequencing failed, will retry"));
  if (log) registerTransparencyLogMetrics(metrics, log);
  registerExpiryMetrics(metrics, { authorityCertificate: parseCertificate(secrets.authority.certDer), crls: () => trust.crls() });
  metrics.register({
    render: (out) =>
      out.push(
        "# HELP hoadon_log_lines_dropped_total Log lines dropped because the reader of stdout was too slow or gone.",
        "# TYPE hoadon_log_lines_dropped_total counter",
        `hoadon_log_lines_dropped_total ${stdoutLog.dropped}`,
      ),
  });
  const services = createServices({
    log,
    store,
    readStore,
    trust,
    secrets,
    issuerId: config.HOADON_ISSUER_ID,
    allowSha1: config.HOADON_ALLOW_SHA1,
    maxSigningLagHours: config.HOADON_MAX_SIGNING_LAG_HOURS,
    maxIssueDateLagDays: config.HOADON_MAX_ISSUE_DATE_LAG_DAYS,
    rateLimits: { publicPerMinute: config.HOADON_RATE_LIMIT_PUBLIC, refusalLimit: config.HOADON_RATE_LIMIT_REFUSALS, trustProxyHops: config.HOADON_TRUST_PROXY },
    heavyWork: { perClient: config.HOADON_LARGE_PER_CLIENT },
    commitLingerMs: config.HOADON_COMMIT_LINGER_MS,
    ...(config.HOADON_PUBLIC_URL ? { publicUrl: config.HOADON_PUBLIC_URL } : {}),
  });
  // Last use of keys and tokens: written every 30 s off the request path, and once more at shutdown.
  const stopCredentialUse = services.credentialUse.start(store, (e) => logger.warn({ ...errorFields(e) }, "last use of keys and tokens: writing failed, will retry"));
  let stopping = false;
  const app = buildApp(services, {
    logger,
    metrics,
    asset: readPublicAsset,
    ...(config.HOADON_METRICS_TOKEN ? { metricsTokenHash: hashSecret(config.HOADON_METRICS_TOKEN) } : {}),
    // A worker of several: GET /metrics shows the whole process group, gathered by the primary.
    ...(cluster.isWorker ? { renderMetrics: workerMetrics(metrics) } : {}),
  });

  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    const where = config.DATABASE_URL ? "PostgreSQL" : `embedded PostgreSQL (PGlite) in ${config.HOADON_DATA_DIR}`;
    logger.info({ host: config.HOST, port: info.port, database: config.DATABASE_URL ? "postgres" : "pglite", issuer: config.HOADON_ISSUER_ID }, `listening on http://${config.HOST}:${info.port} (${where})`);
    if (secrets.newAdminToken) printAdminToken(config, secrets.newAdminToken);
  });

  // Drain: stop accepting, let the requests in flight finish (their connections close once
  // answered), then close the pool and exit 0. Idle keep-alive connections would hold the
  // server open, so they are closed now and again as requests finish.
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping: finishing requests in flight");
    const idle = setInterval(() => (server as Server).closeIdleConnections(), 100);
    server.close(async () => {
      clearInterval(idle);
      nodeMetrics.stop();
      try {
        await log?.stop();
        await stopCredentialUse();
        await store.close();
        if (readStore !== store) await readStore.close();
        logger.info({ signal }, "stopped");
        exitAfterLogs(0);
      } catch (e) {
        logger.error({ signal, ...errorFields(e) }, "closing the database pool failed");
        exitAfterLogs(1);
      }
    });
    (server as Server).closeIdleConnections();
    setTimeout(() => {
      logger.error({ signal }, "requests still in flight after 25 s: exiting");
      exitAfterLogs(1);
    }, 25_000).unref();
  };
  // Monthly partitions of invoices ahead of need, daily (storage/partitions.ts; start-up did it once already).
  const partitions = setInterval(() => {
    store.ensurePartitions(new Date()).then(
      (r) => (r.created.length || r.skipped.length) && logger.info({ created: r.created, skipped: r.skipped }, "invoice partitions"),
      (e: unknown) => logger.warn({ ...errorFields(e) }, "invoice partitions: will retry tomorrow"),
    );
  }, 24 * 3600_000);
  partitions.unref();
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // SIGHUP re-reads the HOADON_CRLS files without a restart; a file that cannot be read or used
  // keeps the CRLs in force (fail closed: a revocation already loaded is never dropped by accident).
  process.on("SIGHUP", () => {
    try {
      const crls = config.HOADON_CRLS.flatMap(readCrls);
      trust.reloadCrls(crls);
      logger.info({ files: config.HOADON_CRLS.length, crls: crls.length }, "SIGHUP: CRLs reloaded");
    } catch (e) {
      logger.error({ error: e instanceof Error ? e.message : String(e) }, "SIGHUP: CRL reload failed, the CRLs in force are kept");
    }
  });
}

async function secretsOf(config: Config) {
  try {
    return await loadSecrets({
      dataDir: config.HOADON_DATA_DIR,
      signingKey: config.HOADON_SIGNING_KEY,
      signingCert: config.HOADON_SIGNING_CERT,
      codeSecret: config.HOADON_CODE_SECRET,
      adminToken: config.HOADON_ADMIN_TOKEN,
      logKey: config.HOADON_LOG_KEY,
      logOrigin: config.HOADON_LOG_ORIGIN,
      officialKey: config.HOADON_OFFICIAL_KEY,
      officialCert: config.HOADON_OFFICIAL_CERT,
    });
  } catch (e) {
    throw new ConfigError(`invalid configuration: HOADON_SIGNING_KEY/HOADON_SIGNING_CERT: ${(e as Error).message}`);
  }
}

function printAdminToken(config: Config, token: string): void {
  console.log(`hoadon: admin token (shown once; only its hash is kept in ${config.HOADON_DATA_DIR}): ${token}`);
}

/**
 * The primary of HOADON_WORKERS processes. What must happen once happens here, before any worker
 * starts: the development secrets are made (the workers read them from the data directory) and
 * the migrations run. A worker that dies is replaced; SIGTERM/SIGINT drain every worker (each
 * finishes its requests in flight, as a single process does) and exit 0 when all did; SIGHUP
 * reaches every worker (CRL reload).
 */
async function supervise(config: Config): Promise<void> {
  const logger = nodeLogger(config.HOADON_LOG_LEVEL);
  const secrets = await secretsOf(config);
  const store = await openStore({ databaseUrl: config.DATABASE_URL!, poolSize: 1, connectTimeoutSeconds: 2 }).catch((e: unknown) => {
    throw new Error(`DATABASE_URL: ${(e as Error)?.message ?? e}`);
  });
  await store.close();

  let stopping = false;
  let failed = false;
  let announced = false;
  // Counted here: cluster.workers may still list a worker when its 'exit' arrives.
  const running = new Map<number, Worker>();
  const fork = () => {
    const w = cluster.fork();
    running.set(w.id, w);
  };
  const alive = () => [...running.values()];
  cluster.on("listening", (_worker, address) => {
    if (announced) return;
    announced = true;
    logger.info(
      { host: config.HOST, port: address.port, workers: config.HOADON_WORKERS, database: "postgres", issuer: config.HOADON_ISSUER_ID },
      `listening on http://${config.HOST}:${address.port} (PostgreSQL, ${config.HOADON_WORKERS} workers)`,
    );
    if (secrets.newAdminToken) printAdminToken(config, secrets.newAdminToken);
  });
  cluster.on("exit", (worker, code, signal) => {
    const gone = () => {
      running.delete(worker.id);
      if (stopping) {
        if (code !== 0) failed = true;
        if (alive().length === 0) {
          logger.info({ failed }, "stopped: every worker has finished");
          exitAfterLogs(failed ? 1 : 0);
        }
        return;
      }
      logger.error({ worker: worker.process.pid, code, signal }, "a worker exited: starting another in 1 s");
      setTimeout(() => !stopping && fork(), 1000);
    };
    // node:cluster hands new connections to a worker until it has seen the worker's IPC channel
    // close, which may come after its exit: only then is the worker out of the rotation, and only
    // then is it reported gone.
    if (worker.isConnected()) worker.once("disconnect", gone);
    else gone();
  });
  for (let i = 0; i < config.HOADON_WORKERS; i++) fork();
  // GET /metrics on any worker: every worker's series, and the primary's own process figures.
  const own: Metric[] = [];
  registerNodeMetrics({ register: (m) => own.push(m) });
  serveClusterMetrics(() => {
    const out: string[] = [];
    for (const m of own) m.render(out);
    return out.join("\n") + "\n";
  }, alive);

  const stop = (signal: "SIGTERM" | "SIGINT") => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: alive().length }, "stopping: every worker finishes its requests in flight");
    if (alive().length === 0) process.exit(0);
    for (const w of alive()) w.process.kill("SIGTERM");
    setTimeout(() => {
      logger.error({ signal }, "workers still running after 30 s: exiting");
      exitAfterLogs(1);
    }, 30_000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGHUP", () => {
    for (const w of alive()) w.process.kill("SIGHUP");
  });
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError) console.error(`hoadon: ${e.message}`);
  else console.error(`hoadon: failed to start: ${(e as Error)?.message ?? e}`);
  process.exit(1);
});
