/**
 * Which months a report or a close has to look at: the closed ones, the open ones with
 * activity between two months (balances roll through them), the stranded ones (open, but
 * older than the latest closed month), and a closed month's stored carried-out balances.
 * Through Kysely only, dialect-neutral.
 */
import type { Kysely } from 'kysely';
import type { LedgerDB } from '../ledger/schema.js';
import { storedSignedMinor } from '../ledger/stored.js';
import { compareCodePoints } from '../shared/money.js';
import type { Period } from './types.js';
import { subscriptionMonthsBetween } from './subscriptions.js';

type Db = Kysely<LedgerDB>;

export async function closedMonths(db: Db): Promise<Map<Period, string>> {
  const rows = await db.selectFrom('closed_periods').select(['month', 'closed_at']).orderBy('month').execute();
  return new Map(rows.map((r) => [r.month, r.closed_at]));
}

/**
 * The months that hold sales or refunds, after `after` (exclusive) and before `before`
 * (exclusive): one MIN(month) per month found, each a seek in an index that starts with
 * the month (sales_payouts_idx), so the cost grows with the months, not with their rows.
 */
async function salesMonthsBetween(db: Db, after: Period | undefined, before: Period): Promise<Period[]> {
  const months: Period[] = [];
  let from = after;
  for (;;) {
    let q = db.selectFrom('sales').select((eb) => eb.fn.min('month').as('m')).where('month', '<', before);
    if (from !== undefined) q = q.where('month', '>', from);
    const row = await q.executeTakeFirst();
    const m = row?.m as Period | null | undefined;
    if (m === null || m === undefined) return months;
    months.push(m);
    from = m;
  }
}

/**
 * Months with any sale or refund, usage, or an annual subscription schedule reaching them
 * (§14), after `after` (exclusive) and before `before` (exclusive).
 */
export async function activeMonthsBetween(db: Db, after: Period | undefined, before: Period): Promise<Period[]> {
  const months = new Set(await salesMonthsBetween(db, after, before));
  for (const m of await subscriptionMonthsBetween(db, after, before)) months.add(m);
  return [...months].sort(compareCodePoints);
}

/** Sales and refunds in months that are still open but older than the latest closed month. */
export async function strandedMonths(db: Db, closed: Map<Period, string>): Promise<Array<{ month: Period; transactions: number }>> {
  const latest = [...closed.keys()].sort(compareCodePoints).pop();
  if (latest === undefined) return [];
  const stranded: Array<{ month: Period; transactions: number }> = [];
  // Only the open ones are counted: the closed months' rows are never read.
  for (const month of await salesMonthsBetween(db, undefined, latest)) {
    if (closed.has(month)) continue;
    const row = await db.selectFrom('sales').select((eb) => eb.fn.countAll<number>().as('n')).where('month', '=', month).executeTakeFirst();
    stranded.push({ month, transactions: Number(row?.n ?? 0) });
  }
  return stranded;
}

/** A closed month's carried-out balances, as stored (non-zero ones). */
export async function storedCarriedOut(db: Db, month: Period): Promise<Map<string, bigint>> {
  const rows = await db
    .selectFrom('statements')
    .select(['creator_id', 'carried_out_minor'])
    .where('month', '=', month)
    .execute();
  const carried = new Map<string, bigint>();
  for (const r of rows) {
    const at = { table: 'statements', row: `month=${month} creator_id=${r.creator_id}`, column: 'carried_out_minor' };
    const minor = storedSignedMinor(at, r.carried_out_minor);
    if (minor !== 0n) carried.set(r.creator_id, minor);
  }
  return carried;
}
