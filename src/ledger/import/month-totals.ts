/**
 * The bound on a month's amounts (PRODUCT §9, review finding "month totals past 2^53"):
 * every amount packops prints or stores as a JSON number must be exact, so the sales and
 * refunds of one month in one currency may add up to at most MONTH_CURRENCY_LIMIT_MINOR
 * minor units of gross (fees and tax are parts of the gross; a refund reverses at most its
 * sale). 10^12 minor units (ten billion dollars in cents, a trillion yen) in one month and
 * currency leaves a factor of 9,000 below 2^53 for what the report adds up from them: the
 * USD conversion (a rate above 1 USD per unit grows the figure), several currencies summed
 * into one USD total, carried balances. An import that would pass it is refused whole.
 */
import { sql } from 'kysely';
import { inputError } from '../../shared/errors.js';
import type { Tx } from './types.js';

export const MONTH_CURRENCY_LIMIT_MINOR = 1_000_000_000_000;

/**
 * Refuses (MONTH_TOTAL_TOO_LARGE, exit 3) when the ledger, with this import's rows written,
 * holds more than the bound for any of the given months and currencies. Only a yes/no comes
 * back from the database (never the sum, which could itself be past 2^53), and each term is
 * capped at the bound + 1, so the sum cannot overflow SQLite's 64-bit integers either.
 */
export async function checkMonthTotals(trx: Tx, touched: ReadonlyMap<string, { month: string; currency: string }>): Promise<void> {
  const limit = sql.lit(MONTH_CURRENCY_LIMIT_MINOR);
  const capped = sql.lit(MONTH_CURRENCY_LIMIT_MINOR + 1);
  for (const { month, currency } of [...touched.values()].sort((a, b) => (a.month + a.currency < b.month + b.currency ? -1 : 1))) {
    const over = await sql<{ over: number }>`SELECT CASE WHEN sum(CASE WHEN gross_minor > ${limit} THEN ${capped} ELSE gross_minor END) > ${limit} THEN 1 ELSE 0 END AS over
      FROM sales WHERE month = ${month} AND currency = ${currency}`.execute(trx);
    if (Number(over.rows[0]?.over) === 1) {
      throw inputError(
        'MONTH_TOTAL_TOO_LARGE',
        `The sales and refunds of ${month} in ${currency} would add up to more than ${MONTH_CURRENCY_LIMIT_MINOR} minor units of gross_minor, the most one month holds per currency (so every total packops reports stays exact); nothing was imported.`,
        {
          hint: 'Check the file for amounts in the wrong unit (major instead of minor, or a corrupted column); a real month this large needs a packops with a wider bound.',
          details: { month, currency, limitMinor: MONTH_CURRENCY_LIMIT_MINOR },
        },
      );
    }
  }
}
