/**
 * A thin timing layer around a Db: statement and transaction latency into the metrics, and how
 * many connections are in use. No query is edited for it; the store runs on the wrapped Db.
 */
import type { Metrics } from "../metrics.js";
import type { Db, SqlQuery } from "./db.js";

/**
 * Wraps `db` so that every top-level statement and transaction is timed. With `poolMax` (a
 * pool that lives as long as the process) the pool gauges are registered too; Workers open a
 * client per request and pass none.
 */
export function instrumentDb(db: Db, metrics: Metrics, poolMax?: number): Db {
  let active = 0;
  if (poolMax !== undefined) metrics.observePool(() => ({ max: db.engine === "pglite" ? 1 : poolMax, active }));

  const timed = async <T>(op: "query" | "exec" | "transaction", topLevel: boolean, work: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    // A top-level statement or transaction holds one pooled connection for its duration;
    // statements inside a transaction run on the transaction's connection.
    if (topLevel) active++;
    let outcome = "error";
    try {
      const result = await work();
      outcome = "ok";
      return result;
    } finally {
      if (topLevel) active--;
      metrics.dbQueryDuration.observe({ op, outcome }, (performance.now() - start) / 1000);
    }
  };

  const wrap = (inner: Db, topLevel: boolean): Db => ({
    engine: inner.engine,
    query<T>(textOrQuery: string | SqlQuery, params?: readonly unknown[]): Promise<T[]> {
      return timed("query", topLevel, () => (typeof textOrQuery === "string" ? inner.query<T>(textOrQuery, params) : inner.query<T>(textOrQuery)));
    },
    exec: (script) => timed("exec", topLevel, () => inner.exec(script)),
    transaction: <T>(fn: (tx: Db) => Promise<T>) => timed("transaction", topLevel, () => inner.transaction((tx) => fn(wrap(tx, false)))),
    close: () => inner.close(),
    ...(inner.listen ? { listen: inner.listen.bind(inner) } : {}),
  });
  return wrap(db, true);
}
