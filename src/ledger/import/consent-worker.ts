/**
 * The thread that answers a Google Play import's purchase-log lookups (consent-prefetch.ts
 * says why the answers are the ones the import's own connection would give). It opens the
 * ledger file read-only on a connection of its own and answers each message
 * `{ seq, ids }` with `{ seq, rows }`: the purchase records of kind 'sale' among `ids`, as
 * one flat array `[transaction_id, consent_ref, family_hmac, …]` (one array per message,
 * not one object per row, so the copy to the main thread is cheap). The query is the one
 * the import's check runs on the main thread. Any error ends the thread: the main thread
 * then looks the ids up itself.
 */
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';

export interface ConsentWorkerData {
  file: string;
  store: string;
  /** SQLite page cache of this connection, KiB. */
  cacheKiB: number;
}

export interface ConsentRequest {
  seq: number;
  ids: string[];
}

export interface ConsentAnswer {
  seq: number;
  /** [transaction_id, consent_ref, family_hmac] of each record found, flattened. */
  rows: Array<string | null>;
}

const STATEMENTS = 16;

const port = parentPort;
if (!port) throw new Error('consent-worker runs as a worker thread');
const { file, store, cacheKiB } = workerData as ConsentWorkerData;
// Read-only, never creating the file, never waiting for a lock (a busy ledger is an error:
// the main thread then runs the lookups itself). Snapshots are per statement (autocommit).
const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true, timeout: 0 });
db.pragma(`cache_size = -${Math.max(64, Math.floor(cacheKiB))}`);
const statements = new Map<number, BetterSqlite3.Statement>();

/** The check's query (googleplay.ts) for `n` ids, as Kysely compiles it there; prepared once per size. */
function statement(n: number): BetterSqlite3.Statement {
  let stmt = statements.get(n);
  if (stmt) return stmt;
  stmt = db
    .prepare(
      `select "transaction_id", "consent_ref", "family_hmac" from "purchases" where "store" = ? and "kind" = ? and "transaction_id" in (${'?, '.repeat(n - 1)}?)`,
    )
    .raw(true);
  if (statements.size >= STATEMENTS) statements.delete(statements.keys().next().value!);
  statements.set(n, stmt);
  return stmt;
}

port.on('message', (m: ConsentRequest) => {
  const rows: Array<string | null> = [];
  if (m.ids.length > 0) {
    for (const r of statement(m.ids.length).all(store, 'sale', ...m.ids) as Array<[string, string | null, string]>) rows.push(r[0], r[1], r[2]);
  }
  port.postMessage({ seq: m.seq, rows } satisfies ConsentAnswer);
});
