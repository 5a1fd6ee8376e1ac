/**
 * One consistent picture of the ledger for a report that reads it in many queries.
 *
 * A report (an open month's payouts, the tiers) reads sales, refunds, rates, reviews and
 * closed months one query after another; an import committing in between would make its
 * figures belong to no state the ledger was ever in (a refund without its sale, a carried
 * balance from rows the month itself does not show). Inside this transaction every query
 * sees the ledger as of the first one, and writers are never blocked:
 * - SQLite: a deferred BEGIN (not the driver's BEGIN IMMEDIATE, which takes the write lock);
 *   in WAL mode the read snapshot starts at the first SELECT and holds until the end.
 * - PostgreSQL: START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY, without the
 *   ledger's advisory write lock (pg.ts), so a report never waits for an import.
 */
import type { Kysely, Transaction } from 'kysely';
import type { LedgerDB } from './schema.js';

/** Runs `fn` in one read-only transaction (or in the caller's transaction, when `db` is one already). */
export function inReadTransaction<T>(db: Kysely<LedgerDB>, fn: (trx: Transaction<LedgerDB>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db as Transaction<LedgerDB>);
  return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(fn);
}
