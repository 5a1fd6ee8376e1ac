/**
 * The close's lock: what keeps `payouts close` and imports of the same month apart.
 *
 * A close computes a month's statements and stores them; an import checks closed months
 * and writes rows. Both must happen under one lock, so that a row either lands before the
 * close (and is in the closed statement) or is refused with PERIOD_CLOSED. On SQLite the
 * lock is the write transaction itself: the ledger driver opens every transaction with
 * BEGIN IMMEDIATE, which takes the database's single write lock before the first read, so
 * a close and an import (each one transaction) run one after the other, never interleaved.
 *
 * On PostgreSQL the driver (pg.ts) opens every write transaction with BEGIN and then
 * pg_advisory_xact_lock on the ledger's write key, so the same holds there: a close and any
 * other writer run one after the other, each in one transaction, and reports read without
 * waiting. A sales import staged through COPY (pg-sales.ts) takes that key SHARED: such
 * imports run side by side, but a close (exclusive) waits until none holds it and new ones
 * wait for the close, so a close never interleaves with an import of any month (months close
 * in order, so closing one month freezes the earlier ones too). The close's lock is that
 * lock; callers never need to know which database they are on.
 */
import type { Kysely, Transaction } from 'kysely';
import type { LedgerDB } from './schema.js';

/** Takes the close's lock for `month` inside the write transaction `trx` (held until it ends). */
export async function withCloseLock(_trx: Transaction<LedgerDB>, _month: string): Promise<void> {
  // SQLite: the write transaction (BEGIN IMMEDIATE) already excludes every other writer;
  // PostgreSQL: so does the advisory write lock the driver takes when the transaction begins.
}

/**
 * Runs `fn` in one write transaction holding the close's lock for `month`: everything it
 * reads and writes is one consistent picture that no import can change until it commits.
 */
export function inCloseTransaction<T>(db: Kysely<LedgerDB>, month: string, fn: (trx: Transaction<LedgerDB>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await withCloseLock(trx, month);
    return fn(trx);
  });
}

/**
 * The latest closed month, or undefined. Months close in order, so every month up to and
 * including it is closed (a month with no activity then is never closed on its own).
 */
export async function latestClosedMonth(db: Kysely<LedgerDB>): Promise<string | undefined> {
  const row = await db
    .selectFrom('closed_periods')
    .select('month')
    .orderBy('month', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.month;
}
