/**
 * Closed months, as the import's own write transaction sees them. The pipeline loads them
 * after the write lock is taken (BEGIN IMMEDIATE), so a `payouts close` cannot slip in
 * between the check and the commit: either the rows are in the closed statement or the
 * import is refused with PERIOD_CLOSED.
 */
import type { RowProblem } from '../fields.js';
import type { Tx } from './types.js';

/**
 * Months close in order, so every month up to the latest closed one is closed too, even one
 * that was never closed itself (it had no activity then). A row in such a month would reach
 * no statement: August cannot be closed or reported once October is, so it is refused.
 */
export class ClosedPeriods {
  constructor(private readonly latest: string | undefined) {}
  has(month: string): boolean {
    return this.latest !== undefined && month <= this.latest;
  }
  describe(month: string): string {
    return month === this.latest
      ? `${month} is a closed period`
      : `${month} is not after ${this.latest ?? ''}, the latest closed period (months close in order)`;
  }
  /** The PERIOD_CLOSED problem of a row dated `month` in `column`. */
  problem(column: string, month: string): RowProblem {
    return { column, code: 'PERIOD_CLOSED', message: `${this.describe(month)}; it cannot take new rows.` };
  }
}

/** Reads the closed months; call it inside the write transaction. */
export async function closedMonths(trx: Tx): Promise<ClosedPeriods> {
  const rows = await trx.selectFrom('closed_periods').select('month').execute();
  const latest = rows.map((r) => r.month).sort().at(-1);
  return new ClosedPeriods(latest);
}
