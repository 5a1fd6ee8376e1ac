// A month's sales in one currency are bounded (10^12 minor units of gross) so that every
// figure of its report is exact: an import that would pass the bound is refused whole (exit 3,
// MONTH_TOTAL_TOO_LARGE, nothing stored), on SQLite and PostgreSQL alike; a ledger that
// already holds such a month (written before the bound) gets the same stable code from
// `payouts report` and `payouts close`, never an internal error.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt, rawQuery } from '../helpers/ledgers.js';
import { seedWithRates } from './seed.js';
import { SALES_HEADER } from './generate.js';

const LIMIT = 1_000_000_000_000;

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir('packops-month-totals-')));
afterAll(() => tmp.cleanup());

const row = (id: string, at: string, currency: string, gross: number | string, kind = 'sale', of = '') =>
  `${id},${at},web,${kind},ocean-creatures,US,${currency},${gross},0,0,${kind === 'sale' ? `vpc-${id}` : ''},fam-${id},${of}`;

function csv(name: string, lines: string[]): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, `${SALES_HEADER}\n${lines.join('\n')}\n`);
  return path;
}

async function seeded(name: string): Promise<string> {
  return seedWithRates(await ledgerAt(tmp.dir, name));
}

const stored = async (db: string) => (await rawQuery<{ n: number }>(db, 'SELECT count(*) AS n FROM sales'))[0]!.n;

describe('a month past the bound', () => {
  it('two rows of 2^52 in one month are refused at import, whole, with a stable code', async () => {
    const db = await seeded('big.db');
    const file = csv('big2.csv', [row('big-1', '2026-10-03T10:00:00Z', 'USD', 4503599627370496), row('big-2', '2026-10-04T10:00:00Z', 'USD', 4503599627370496)]);
    const r = await runCli(['ledger', 'import', 'sales', file, '--db', db, '--json']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.json().error).toMatchObject({ code: 'MONTH_TOTAL_TOO_LARGE', details: { month: '2026-10', currency: 'USD', limitMinor: LIMIT } });
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect(await stored(db)).toBe(0);
    // --quarantine does not split a month's total over rows: still refused, nothing stored.
    const q = await runCli(['ledger', 'import', 'sales', file, '--db', db, '--json', '--quarantine']);
    expect(q.code, q.stderr).toBe(3);
    expect(q.json().error.code).toBe('MONTH_TOTAL_TOO_LARGE');
    expect(await stored(db)).toBe(0);
  });

  it('the bound is per month and currency, counts what the ledger holds, and is inclusive', async () => {
    const db = await seeded('edge.db');
    const half = LIMIT / 2;
    const first = await runCli(['ledger', 'import', 'sales', csv('full.csv', [row('f-1', '2026-10-03T10:00:00Z', 'USD', half), row('f-2', '2026-10-04T10:00:00Z', 'USD', half)]), '--db', db, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json().imported).toBe(2);
    // One more minor unit of USD in October: over, even as a refund (refunds count by their gross too).
    for (const [name, line] of [
      ['one.csv', row('o-1', '2026-10-20T10:00:00Z', 'USD', 1)],
      ['refund.csv', row('o-r', '2026-10-21T10:00:00Z', 'USD', 1, 'refund', 'f-1')],
    ] as const) {
      const r = await runCli(['ledger', 'import', 'sales', csv(name, [line]), '--db', db, '--json']);
      expect(r.code, r.stderr).toBe(3);
      expect(r.json().error).toMatchObject({ code: 'MONTH_TOTAL_TOO_LARGE', details: { month: '2026-10', currency: 'USD' } });
    }
    // Another currency of October, and USD of November, have room of their own.
    const other = await runCli(['ledger', 'import', 'sales', csv('other.csv', [row('e-1', '2026-10-05T10:00:00Z', 'EUR', LIMIT), row('n-1', '2026-11-05T10:00:00Z', 'USD', LIMIT)]), '--db', db, '--json']);
    expect(other.code, other.stderr).toBe(0);
    expect(await stored(db)).toBe(4);
  });

  it('a ledger already holding such a month: report and close give the stable code, exit 3, not 70', async () => {
    const db = await seeded('held.db');
    const ok = await runCli(['ledger', 'import', 'sales', csv('small.csv', [row('h-1', '2026-10-03T10:00:00Z', 'USD', 500), row('h-2', '2026-10-04T10:00:00Z', 'USD', 500)]), '--db', db, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    // As an older packops could have stored them (no bound at import then).
    await rawQuery(db, `UPDATE sales SET gross_minor = 4503599627370496 WHERE transaction_id IN ('h-1', 'h-2')`);
    const close9 = await runCli(['payouts', 'close', '--period', '2026-09', '--db', db, '--json']);
    expect(close9.code, close9.stderr).toBe(0);
    for (const args of [
      ['payouts', 'report', '--period', '2026-10'],
      ['payouts', 'close', '--period', '2026-10'],
    ]) {
      const r = await runCli([...args, '--db', db, '--json']);
      expect(r.code, r.stderr).toBe(3);
      expect(r.json().error.code).toBe('MONTH_TOTAL_TOO_LARGE');
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    }
    expect((await rawQuery<{ n: number }>(db, `SELECT count(*) AS n FROM closed_periods WHERE month = '2026-10'`))[0]!.n).toBe(0);
  });
});
