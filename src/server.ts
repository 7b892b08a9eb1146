/** Node entry point: configuration, store, secrets, trust; then serve until SIGTERM/SIGINT. */
import { serve } from "@hono/node-server";
import { buildApp } from "./app.js";
import { ConfigError, intermediatesPath, loadConfig } from "./config.js";
import { loadTrust, TrustStore } from "./pki/trust.js";
import { loadSecrets } from "./secrets.js";
import { createServices } from "./services.js";
import { openStore } from "./storage/index.js";

async function main(): Promise<void> {
  const config = loadConfig();
  let trust: TrustStore;
  try {
    const intermediates = intermediatesPath(config);
    trust = new TrustStore(
      loadTrust({ anchorsPath: config.HOADON_TRUST_ANCHORS, ...(intermediates ? { intermediatesPath: intermediates } : {}), crlPaths: config.HOADON_CRLS }),
    );
  } catch (e) {
    throw new ConfigError(`invalid configuration: HOADON_TRUST_ANCHORS/HOADON_INTERMEDIATES/HOADON_CRLS: ${(e as Error).message}`);
  }
  let secrets;
  try {
    secrets = await loadSecrets({
      dataDir: config.HOADON_DATA_DIR,
      signingKey: config.HOADON_SIGNING_KEY,
      signingCert: config.HOADON_SIGNING_CERT,
      codeSecret: config.HOADON_CODE_SECRET,
      adminToken: config.HOADON_ADMIN_TOKEN,
    });
  } catch (e) {
    throw new ConfigError(`invalid configuration: HOADON_SIGNING_KEY/HOADON_SIGNING_CERT: ${(e as Error).message}`);
  }
  const store = await openStore(
    config.DATABASE_URL ? { databaseUrl: config.DATABASE_URL, poolSize: config.HOADON_DB_POOL } : { dataDir: config.HOADON_DATA_DIR },
  );
  const services = createServices({ store, trust, secrets, issuerId: config.HOADON_ISSUER_ID, allowSha1: config.HOADON_ALLOW_SHA1 });
  const app = buildApp(services);

  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    const where = config.DATABASE_URL ? "PostgreSQL" : `embedded PostgreSQL (PGlite) in ${config.HOADON_DATA_DIR}`;
    console.log(`hoadon: listening on http://${config.HOST}:${info.port} (${where})`);
    if (secrets.newAdminToken) {
      console.log(`hoadon: admin token (shown once; only its hash is kept in ${config.HOADON_DATA_DIR}): ${secrets.newAdminToken}`);
    }
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`hoadon: ${signal}: finishing requests in flight`);
    server.close(async () => {
      await store.close();
      process.exit(0);
    });
    setTimeout(() => process.exit(1), 25_000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError) console.error(`hoadon: ${e.message}`);
  else console.error(`hoadon: failed to start: ${(e as Error)?.message ?? e}`);
  process.exit(1);
});
