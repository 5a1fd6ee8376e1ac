/**
 * A sales file that mixes every case a whole-file (staged) sales import decides, across the
 * pipeline's 1,000-row chunks, and a ledger prepared for it: the same file must give the
 * same answer through every path (SQLite's chunk path and staged path, PostgreSQL's staged
 * path). Used by test/ledger/staged-sales.test.ts and test/pg/staged-import.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Ledger } from '../../src/ledger/db.js';
import { importFile, type RunOptions } from '../../src/ledger/import/index.js';
import { seedLedger } from './seed.js';
import { SALES_HEADER, salesRow } from './generate.js';

export const sale = (id: string, o: { at?: string; product?: string; currency?: string; gross?: number; store?: string } = {}) =>
  [id, o.at ?? '2026-10-05T10:00:00Z', o.store ?? 'appstore', 'sale', o.product ?? 'com.wondernest.pack.ocean', 'US', o.currency ?? 'USD', o.gross ?? 499, 150, 0, `vpc-${id}`, `fam-${id}`, ''].join(',');
export const refund = (id: string, of: string, gross: number, o: { at?: string; currency?: string; fee?: number } = {}) =>
  [id, o.at ?? '2026-10-20T10:00:00Z', 'appstore', 'refund', 'com.wondernest.pack.ocean', 'US', o.currency ?? 'USD', gross, o.fee ?? 0, 0, '', '', of].join(',');

export function salesFile(dir: string, name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${SALES_HEADER}\n${lines.join('\n')}\n`);
  return path;
}

/** The ledger before the import: a closed September with a stored sale, stored October sales and refunds. */
export async function prepared(location: string, dir: string): Promise<Ledger> {
  const ledger = await seedLedger(location);
  await importFile(ledger, 'sales', salesFile(dir, 'before.csv', [
    sale('sep-1', { at: '2026-09-10T10:00:00Z' }),
    sale('l-1'),
    refund('l-1-r1', 'l-1', 100),
    sale('p-1'),
  ]));
  await ledger.db.insertInto('closed_periods').values({ month: '2026-09', closed_at: '2026-10-01T00:00:00Z', totals: '{}' }).execute();
  return ledger;
}

/** The file: tricky rows around 1,200 plain ones, so copies and refunds cross chunk boundaries. */
export function tricky(dir: string): string {
  const filler = Array.from({ length: 1200 }, (_, i) => salesRow(i, 'f'));
  return salesFile(dir, 'tricky.csv', [
    sale('a-1'),
    sale('a-1'), // a later copy in the same chunk
    sale('b-1', { currency: 'ZZZ' }), // bad
    sale('b-1'), // a copy of a bad row
    refund('b-1-r', 'b-1', 100), // refund of a bad sale
    refund('a-1-r1', 'a-1', 200),
    refund('a-1-r2', 'a-1', 300), // 200 + 300 > 499
    refund('a-1-r3', 'a-1', 299), // 200 + 299 = 499
    refund('late-r', 'late-1', 10), // its sale comes later
    sale('late-1'),
    sale('sep-1', { at: '2026-09-10T10:00:00Z' }), // stored before the close: skipped
    sale('sep-1', { at: '2026-09-10T10:00:00Z' }), // and its copy
    sale('p-1', { product: 'no-such-pack' }), // stored: skipped whatever its product now
    sale('u-1', { product: 'no-such-pack' }), // unknown product
    sale('u-1', { product: 'no-such-pack' }),
    refund('u-1-r', 'u-1', 5),
    refund('l-1-r2', 'l-1', 400), // 100 stored + 400 > 499
    refund('l-1-r3', 'l-1', 399), // 100 + 399 = 499
    refund('l-1-r1', 'l-1', 100), // stored refund: skipped
    refund('a-1-cur', 'a-1', 1, { currency: 'GBP' }),
    ',2026-10-05T10:00:00Z,appstore,sale,com.wondernest.pack.ocean,US,USD,499,150,0,vpc,fam,', // no id
    ...filler.slice(0, 600),
    refund('f7-r', 'f7', 600, { at: '2026-11-01T00:00:00Z' }), // more than the sale
    ...filler.slice(600),
    sale('f10'), // a copy of a filler row
    sale('a-1'), // a later copy in another chunk
    // A refund of a refund. (In the refund's own chunk SQLite says "No earlier sale …" for it,
    // PostgreSQL "… is a refund, not a sale" wherever it is: the same code, ROW_REFUND_UNKNOWN.)
    refund('a-1-r1-r', 'a-1-r1', 1),
    refund('a-1-r4', 'a-1', 1, { fee: 1 }), // the gross is used up already
  ]);
}

export type Refusal = { code: string; exitCode: number; details: { badRows: number; rows: Array<{ row: number; column: string; code: string; message: string }> } };

export async function attempt(location: string, dir: string, path: string, quarantine: boolean, options: RunOptions = {}) {
  const ledger = await prepared(location, dir);
  try {
    const result = await importFile(ledger, 'sales', path, { ...options, quarantine }).then(
      (s) => ({ ok: true as const, s: { rows: s.rows, imported: s.imported, skipped: s.skipped, quarantined: s.quarantined } }),
      (e: unknown) => ({ ok: false as const, e: e as Refusal }),
    );
    const stored = (await ledger.db.selectFrom('sales').select(['store', 'transaction_id', 'gross_minor', 'batch_id']).orderBy('store').orderBy('transaction_id').execute()).map(
      (r) => `${r.store}/${r.transaction_id}/${r.gross_minor}`,
    );
    // (row_key is an HMAC with each ledger's own secret)
    const quarantined = (await ledger.db.selectFrom('quarantine').select(['row_number', 'code', 'reasons', 'raw']).orderBy('row_number').execute()).map((q) => ({
      ...q,
      reasons: normalise(q.reasons),
    }));
    return { result, stored, quarantined };
  } finally {
    await ledger.close();
  }
}

/** SQLite names the first copy's row when it is in the same chunk and says "earlier in this file" otherwise. */
export const normalise = (message: string) => message.replace(/already appears (in row \d+|earlier in this file)/g, 'already appears (earlier)');


export type Attempt = Awaited<ReturnType<typeof attempt>>;

/**
 * The tricky file refused through `path` (a whole-file path) as through `reference`: the same
 * bad rows with the same codes and (normalised) messages, every kind of problem among them,
 * the first copy of a transaction named by its row wherever it is, and nothing written.
 */
export function expectSameRefusal(path: Attempt, reference: Attempt): void {
  expect(path.result.ok).toBe(false);
  expect(reference.result.ok).toBe(false);
  if (path.result.ok || reference.result.ok) return;
  expect(path.result.e.code).toBe('ROWS_INVALID');
  const shown = (e: Refusal) => e.details.rows.map((r) => ({ ...r, message: normalise(r.message) }));
  expect(shown(path.result.e)).toEqual(shown(reference.result.e));
  expect(path.result.e.details.badRows).toBe(reference.result.e.details.badRows);
  const codes = new Set(path.result.e.details.rows.map((r) => r.code));
  for (const code of ['ROW_DUPLICATE_IN_FILE', 'ROW_REFUND_UNKNOWN', 'ROW_REFUND_EXCEEDS', 'ROW_PRODUCT_UNKNOWN', 'ROW_INVALID']) expect(codes).toContain(code);
  // A whole-file check names the first copy's row wherever it is (SQLite's chunk path says
  // "earlier in this file" across chunks).
  const later = path.result.e.details.rows.find((r) => r.code === 'ROW_DUPLICATE_IN_FILE' && r.row > 1001 && r.message.includes('a-1 '))!;
  expect(later.message).toMatch(/a-1 \(appstore\) already appears in row 2;/);
  expect(path.stored).toEqual(reference.stored);
  expect(path.stored).toHaveLength(4);
}

/** The tricky file imported with --quarantine through `path` as through `reference`: the same rows stored, skipped and quarantined. */
export function expectSameQuarantine(path: Attempt, reference: Attempt): void {
  expect(path.result).toEqual(reference.result);
  expect(path.result).toMatchObject({ ok: true, s: { rows: 1226 } });
  expect(path.stored).toEqual(reference.stored);
  expect(path.quarantined).toEqual(reference.quarantined);
  expect(path.quarantined.length).toBeGreaterThan(10);
}
