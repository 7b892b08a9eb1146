/**
 * Prints /openapi.json as the service serves it (built from the route definitions; no database,
 * no secrets): `npm run --silent openapi > openapi.json`. `npm run lint:openapi` lints it with Redocly.
 */
import { buildApp } from "../src/app.js";
import { silentLogger } from "../src/log.js";
import { createServices, type ServiceOptions } from "../src/services.js";

const services = createServices({ store: {}, trust: {}, secrets: {}, issuerId: "0A", allowSha1: false } as unknown as ServiceOptions);
const res = await buildApp(services, { logger: silentLogger }).request("/openapi.json");
if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}`);
process.stdout.write(JSON.stringify(await res.json(), null, 2) + "\n");
