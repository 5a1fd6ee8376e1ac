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
 * holds more than the bound for any of the given months and currencies. Only the currencies
 * over the bound come back (never a sum, which could itself be past 2^53), and each term is
 * capped at the bound + 1, so the sum cannot overflow SQLite's 64-bit integers either.
 */
export async function checkMonthTotals(trx: Tx, touched: ReadonlyMap<string, { month: string; currency: string }>): Promise<void> {
  const limit = sql.lit(MONTH_CURRENCY_LIMIT_MINOR);
  const capped = sql.lit(MONTH_CURRENCY_LIMIT_MINOR + 1);
  // One pass over each month's rows (the payouts index covers month, currency and gross).
  const byMonth = new Map<string, Set<string>>();
  for (const { month, currency } of touched.values()) {
    let set = byMonth.get(month);
    if (!set) byMonth.set(month, (set = new Set()));
    set.add(currency);
  }
  for (const month of [...byMonth.keys()].sort()) {
    const over = await sql<{ currency: string }>`SELECT currency FROM sales WHERE month = ${month} GROUP BY currency
      HAVING sum(CASE WHEN gross_minor > ${limit} THEN ${capped} ELSE gross_minor END) > ${limit} ORDER BY currency`.execute(trx);
    // Only a currency this import wrote to: an older ledger's oversized month does not block others.
    const currency = over.rows.map((r) => r.currency).find((c) => byMonth.get(month)!.has(c));
    if (currency !== undefined) {
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
