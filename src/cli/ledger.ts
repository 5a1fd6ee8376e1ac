/**
 * Ledger plumbing shared by the command files (ledger, catalog, payouts, pricing,
 * subscriptions): open the ledger of `--db`, retry, map driver errors, print refused rows.
 * No command file is imported by another; they all import this.
 */
import type { CliContext } from './context.js';
import type { Ledger } from '../ledger/db.js';

/** How many times a command whose transaction lost a serialization race or a deadlock is run again. */
const RETRIES = 3;

/**
 * Opens the ledger of `--db`, runs `fn`, closes it; driver errors (locked, not a ledger,
 * unreachable server) become ledger codes. Commands that only read a ledger pass
 * `mustExist` (the hint to show): a location without a ledger is then PATH_NOT_FOUND
 * (exit 3) instead of a new, empty ledger. On PostgreSQL a serialization failure or
 * deadlock rolls the transaction back and `fn` runs again (a few times, then LEDGER_BUSY).
 */
export async function withLedger<T>(
  ctx: CliContext,
  fn: (ledger: Ledger) => Promise<T>,
  options: { busyTimeoutMs?: number; mustExist?: string } = {},
): Promise<T> {
  const { openLedger } = await import('../ledger/db.js');
  const ledger = await openLedger(ctx.global.db, { busyTimeoutMs: options.busyTimeoutMs, mustExist: options.mustExist, cwd: ctx.cwd });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(ledger);
      } catch (err) {
        if (ledger.dialect === 'postgres' && attempt < RETRIES) {
          const { isRetryable } = await import('../ledger/pg.js');
          if (isRetryable(err) && !ledger.pg?.lostWith()) {
            await new Promise((r) => setTimeout(r, 50 * attempt + Math.floor(Math.random() * 50)));
            continue;
          }
        }
        throw err;
      }
    }
  } catch (err) {
    throw ledger.mapError(err);
  } finally {
    await ledger.close();
  }
}

/** The rows of a refused import, one line each, before the error line (pretty mode). */
export function printBadRows(ctx: CliContext, file: string, err: unknown): void {
  const rows = (err as { details?: { rows?: unknown } }).details?.rows;
  if (!Array.isArray(rows)) return;
  const c = ctx.out.color;
  for (const r of rows as Array<{ row: number; column: string; code: string; message: string; file?: string }>) {
    ctx.out.error(`${r.file ?? file}:${r.row} ${c.dim(r.column)} ${c.red(r.code)} ${r.message}`);
  }
}

