import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { ledgerAt } from '../helpers/ledgers.js';
import type { Ledger } from '../../src/ledger/db.js';
import { importFile } from '../../src/ledger/import/index.js';
import { count, LEDGER_FIXTURES, refusal, seedLedger } from './seed.js';
import { SALES_HEADER } from './generate.js';

let tmp: ReturnType<typeof tempDir>;
let ledger: Ledger;
beforeEach(async () => {
  tmp = tempDir();
  ledger = await seedLedger(await ledgerAt(tmp.dir, 'l.db'));
});
afterEach(async () => {
  await ledger.close();
  tmp.cleanup();
});

const SALES = join(LEDGER_FIXTURES, 'sales-2026-10.csv');

function csv(name: string, lines: string[], header = SALES_HEADER): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, `${header}\n${lines.join('\n')}\n`);
  return path;
}

const sale = (id: string, extra: Partial<Record<'at' | 'store' | 'product' | 'country' | 'currency' | 'gross' | 'fee' | 'tax' | 'consent' | 'family', string>> = {}) =>
  [id, extra.at ?? '2026-10-05T10:00:00Z', extra.store ?? 'appstore', 'sale', extra.product ?? 'com.wondernest.pack.ocean', extra.country ?? 'US',
    extra.currency ?? 'USD', extra.gross ?? '499', extra.fee ?? '150', extra.tax ?? '0', extra.consent ?? 'vpc-1', extra.family ?? 'fam-1', ''].join(',');
const refund = (id: string, of: string, gross = '499', fee = '150', tax = '0', at = '2026-10-06T10:00:00Z', store = 'appstore') =>
  [id, at, store, 'refund', 'com.wondernest.pack.ocean', 'US', 'USD', gross, fee, tax, '', '', of].join(',');

async function rowsInvalid(path: string, options = {}) {
  const err = await importFile(ledger, 'sales', path, options).then(
    () => undefined,
    (e: unknown) => e as { code: string; exitCode: number; details: { rows: Array<{ row: number; column: string; code: string }> } },
  );
  expect(err, 'the import should have been refused').toBeDefined();
  return err!;
}

describe('ledger import sales', () => {
  it('imports the October fixture: sales, refunds, bundles, three currencies; store product ids and slugs resolve', async () => {
    const s = await importFile(ledger, 'sales', SALES);
    expect(s).toMatchObject({ ok: true, rows: 25, imported: 25, skipped: 0, quarantined: 0 });
    const rows = await ledger.db.selectFrom('sales').selectAll().orderBy('transaction_id').execute();
    expect(new Set(rows.map((r) => r.currency))).toEqual(new Set(['USD', 'GBP', 'JPY']));
    const bundle = rows.find((r) => r.transaction_id === 'wb-3001')!;
    expect(bundle).toMatchObject({ product_kind: 'bundle', bundle_slug: 'starter-bundle', pack_slug: null });
    const viaId = rows.find((r) => r.transaction_id === 'as-1001')!;
    expect(viaId).toMatchObject({ product_kind: 'pack', pack_slug: 'ocean-creatures', product: 'com.wondernest.pack.ocean' });
    // Offsets are normalised to UTC, and the month is the UTC month.
    const tokyo = rows.find((r) => r.transaction_id === 'as-1003')!;
    expect(tokyo.occurred_at).toBe('2026-10-02T02:05:00.000Z');
    expect(tokyo.month).toBe('2026-10');
    const batch = await ledger.db.selectFrom('import_batches').selectAll().where('id', '=', s.batch).executeTakeFirstOrThrow();
    expect(batch).toMatchObject({ kind: 'sales', rows: 25, imported: 25, skipped: 0, quarantined: 0, file_sha256: s.sha256 });
    expect(batch.file_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('stores family_ref only as an HMAC with the ledger secret, never raw', async () => {
    await importFile(ledger, 'sales', SALES);
    const { createHmac } = await import('node:crypto');
    const row = await ledger.db.selectFrom('sales').selectAll().where('transaction_id', '=', 'as-1001').executeTakeFirstOrThrow();
    expect(row.family_hmac).toBe(createHmac('sha256', await ledger.familySecret()).update('fam-001').digest('hex'));
    const all = JSON.stringify(await ledger.db.selectFrom('sales').selectAll().execute());
    expect(all).not.toContain('fam-0');
  });

  it('is idempotent: a re-import skips every row, an overlapping file adds only the new rows', async () => {
    await importFile(ledger, 'sales', SALES);
    const again = await importFile(ledger, 'sales', SALES);
    expect(again).toMatchObject({ imported: 0, skipped: 25, quarantined: 0 });
    const overlap = csv('overlap.csv', [sale('as-1001'), sale('new-1'), refund('new-1r', 'new-1', '100', '30', '0')]);
    expect(await importFile(ledger, 'sales', overlap)).toMatchObject({ imported: 2, skipped: 1 });
    expect(await count(ledger, 'sales')).toBe(27);
    expect(await count(ledger, 'import_batches')).toBe(3);
  });

  it('reports each bad-row kind with its code and column, and writes nothing', async () => {
    await importFile(ledger, 'sales', SALES);
    const path = csv('bad.csv', [
      refund('r-unknown', 'no-such-sale'), // row 2
      refund('r-too-big', 'as-1008', '999', '150', '0', '2026-10-21T00:00:00Z'), // row 3
      sale('s-no-consent', { consent: '' }), // row 4
      sale('s-no-zone', { at: '2026-10-05T10:00:00' }), // row 5
      sale('s-unknown-product', { product: 'dragons-deluxe' }), // row 6
      sale('s-negative', { gross: '-499' }), // row 7
      sale('s-jpy-decimals', { currency: 'JPY', country: 'JP', gross: '750.5' }), // row 8
      sale('s-dup'), // row 9
      sale('s-dup'), // row 10
      sale('s-good'), // row 11
    ]);
    const before = await count(ledger, 'sales');
    const err = await rowsInvalid(path);
    expect(err).toMatchObject({ code: 'ROWS_INVALID', exitCode: 3 });
    const got = err.details.rows.map((r) => [r.row, r.column, r.code]);
    expect(got).toEqual([
      [2, 'refund_of', 'ROW_REFUND_UNKNOWN'],
      [3, 'gross_minor', 'ROW_REFUND_EXCEEDS'],
      [4, 'consent_ref', 'ROW_CONSENT_MISSING'],
      [5, 'occurred_at', 'ROW_TIMEZONE_MISSING'],
      [6, 'product', 'ROW_PRODUCT_UNKNOWN'],
      [7, 'gross_minor', 'ROW_INVALID'],
      [8, 'gross_minor', 'ROW_INVALID'],
      [10, 'transaction_id', 'ROW_DUPLICATE_IN_FILE'],
    ]);
    expect(await count(ledger, 'sales')).toBe(before);
    expect(await count(ledger, 'import_batches')).toBe(1);
  });

  it('checks refunds cumulatively, per amount column, across files and within one', async () => {
    const first = csv('a.csv', [sale('s1', { gross: '1000', fee: '300', tax: '100' }), refund('s1-r1', 's1', '600', '100', '50')]);
    await importFile(ledger, 'sales', first);
    // 600 + 400 = 1000 gross is fine, but the fee would reach 100 + 250 > 300.
    const feeOver = csv('b.csv', [refund('s1-r2', 's1', '400', '250', '50')]);
    expect((await rowsInvalid(feeOver)).details.rows.map((r) => [r.column, r.code])).toEqual([['store_fee_minor', 'ROW_REFUND_EXCEEDS']]);
    // Two refunds in one file that together exceed the rest of the sale: the second is bad.
    const twice = csv('c.csv', [refund('s1-r3', 's1', '300', '100', '25'), refund('s1-r4', 's1', '300', '100', '25')]);
    expect((await rowsInvalid(twice)).details.rows.map((r) => [r.row, r.code])).toEqual([[3, 'ROW_REFUND_EXCEEDS']]);
    const exact = csv('d.csv', [refund('s1-r5', 's1', '400', '200', '50')]);
    expect(await importFile(ledger, 'sales', exact)).toMatchObject({ imported: 1 });
  });

  it('trims cells: a row with spaces around its values is stored as the clean row would be', async () => {
    const path = csv('spaces.csv', [' sp-1 , 2026-10-05T10:00:00Z ,appstore, sale ,com.wondernest.pack.ocean, US , USD , 499 , 150 , 0 , vpc-1 , fam-1 , ']);
    expect(await importFile(ledger, 'sales', path)).toMatchObject({ imported: 1 });
    const row = await ledger.db.selectFrom('sales').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ transaction_id: 'sp-1', kind: 'sale', country: 'US', gross_minor: 499, consent_ref: 'vpc-1', refund_of: null });
  });

  it('requires refund_of to name a sale of the same store', async () => {
    await importFile(ledger, 'sales', csv('a.csv', [sale('x1')]));
    const other = csv('b.csv', [refund('x1-r', 'x1', '499', '150', '0', '2026-10-06T10:00:00Z', 'googleplay')]);
    expect((await rowsInvalid(other)).details.rows.map((r) => r.code)).toContain('ROW_REFUND_UNKNOWN');
  });

  it('with quarantine writes the good rows and keeps the bad ones with their reasons (family_ref removed)', async () => {
    const path = csv('mixed.csv', [sale('q-good'), sale('q-bad', { consent: '' }), refund('q-good-r', 'q-good')]);
    const s = await importFile(ledger, 'sales', path, { quarantine: true });
    expect(s).toMatchObject({ imported: 2, skipped: 0, quarantined: 1 });
    const q = await ledger.db.selectFrom('quarantine').selectAll().execute();
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ batch_id: s.batch, row_number: 3, code: 'ROW_CONSENT_MISSING', kind: 'sales' });
    expect(JSON.parse(q[0]!.reasons)).toEqual([expect.objectContaining({ column: 'consent_ref', code: 'ROW_CONSENT_MISSING' })]);
    expect(JSON.parse(q[0]!.raw)).toMatchObject({ transaction_id: 'q-bad' });
    expect(q[0]!.raw).not.toContain('fam-1');
  });

  it('refuses rows dated in a closed month (PERIOD_CLOSED, exit 4), even with quarantine; a refund now of a closed-month sale is fine', async () => {
    await importFile(ledger, 'sales', csv('sep.csv', [sale('sep-1', { at: '2026-09-20T10:00:00Z' })]));
    await ledger.db.insertInto('closed_periods').values({ month: '2026-09', closed_at: '2026-10-01T00:00:00Z', totals: null }).execute();
    const late = csv('late.csv', [sale('sep-2', { at: '2026-10-01T01:00:00+02:00' }), sale('oct-1')]);
    for (const quarantine of [false, true]) {
      const err = await importFile(ledger, 'sales', late, { quarantine }).catch((e: unknown) => e as { code: string; exitCode: number });
      expect(err).toMatchObject({ code: 'PERIOD_CLOSED', exitCode: 4 });
    }
    expect(await count(ledger, 'sales')).toBe(1);
    const refundNow = csv('refund.csv', [refund('sep-1-r', 'sep-1', '499', '150', '0', '2026-10-02T00:00:00Z')]);
    expect(await importFile(ledger, 'sales', refundNow)).toMatchObject({ imported: 1 });
  });

  it('reads JSON Lines (numbers or strings) and refuses a CSV header that does not fit', async () => {
    const jsonl = join(tmp.dir, 'sales.jsonl');
    writeFileSync(
      jsonl,
      [
        JSON.stringify({ transaction_id: 'j1', occurred_at: '2026-10-03T10:00:00+02:00', store: 'web', kind: 'sale', product: 'forest-scenes', country: 'GB', currency: 'GBP', gross_minor: 349, store_fee_minor: 10, tax_minor: 58, consent_ref: 'vpc-9' }),
        '',
        JSON.stringify({ transaction_id: 'j2', occurred_at: '2026-10-03T10:00:00Z', store: 'web', kind: 'sale', product: 'forest-scenes', country: 'GB', currency: 'GBP', gross_minor: 3.49, store_fee_minor: 0, tax_minor: 0, consent_ref: 'vpc-9' }),
      ].join('\n'),
    );
    const err = await rowsInvalid(jsonl);
    expect(err.details.rows).toEqual([expect.objectContaining({ row: 3, column: 'gross_minor', code: 'ROW_INVALID' })]);
    const noConsentColumn = csv('h.csv', ['x'], 'transaction_id,occurred_at,store,kind,product,country,currency,gross,store_fee_minor,tax_minor');
    await expect(importFile(ledger, 'sales', noConsentColumn)).rejects.toMatchObject({ code: 'IMPORT_HEADER', exitCode: 3 });
  });
});

describe('ledger import reviews and rates', () => {
  it('imports reviews (rating 1–5, known packs) idempotently', async () => {
    expect(await importFile(ledger, 'reviews', join(LEDGER_FIXTURES, 'reviews.csv'))).toMatchObject({ imported: 10 });
    expect(await importFile(ledger, 'reviews', join(LEDGER_FIXTURES, 'reviews.csv'))).toMatchObject({ imported: 0, skipped: 10 });
    const bad = csv('r.csv', ['rv-x1,ocean-creatures,6,2026-10-01T00:00:00Z', 'rv-x2,no-pack,5,2026-10-01T00:00:00Z', 'rv-x3,ocean-creatures,4,2026-10-01'], 'review_id,pack,rating,reviewed_at');
    const err = await refusal<{ details: { rows: Array<{ code: string; column: string }> } }>(importFile(ledger, 'reviews', bad));
    expect(err.details.rows.map((r) => [r.column, r.code])).toEqual([
      ['rating', 'ROW_INVALID'],
      ['pack', 'ROW_PRODUCT_UNKNOWN'],
      ['reviewed_at', 'ROW_TIMEZONE_MISSING'],
    ]);
  });

  it('imports rates as exact decimals; same rate skipped, changed rate updated in an open month, refused in a closed one', async () => {
    expect(await importFile(ledger, 'rates', join(LEDGER_FIXTURES, 'rates.csv'))).toMatchObject({ imported: 9 });
    const stored = await ledger.db.selectFrom('fx_rates').select('usd_per_unit').where('currency', '=', 'JPY').where('month', '=', '2026-10').executeTakeFirstOrThrow();
    expect(stored.usd_per_unit).toBe('0.0067');
    const same = csv('same.csv', ['JPY,2026-10,0.00670'], 'currency,month,usd_per_unit');
    expect(await importFile(ledger, 'rates', same)).toMatchObject({ imported: 0, skipped: 1 });
    const changed = csv('changed.csv', ['JPY,2026-10,0.0068'], 'currency,month,usd_per_unit');
    expect(await importFile(ledger, 'rates', changed)).toMatchObject({ imported: 0, updated: 1 });
    await ledger.db.insertInto('closed_periods').values({ month: '2026-09', closed_at: '2026-10-01T00:00:00Z', totals: null }).execute();
    const closed = csv('closed.csv', ['GBP,2026-09,1.3000'], 'currency,month,usd_per_unit');
    await expect(importFile(ledger, 'rates', closed)).rejects.toMatchObject({ code: 'PERIOD_CLOSED', exitCode: 4 });
    const closedSame = csv('closed-same.csv', ['GBP,2026-09,1.271'], 'currency,month,usd_per_unit');
    expect(await importFile(ledger, 'rates', closedSame)).toMatchObject({ skipped: 1 });
    const bad = csv('bad.csv', ['ABC,2026-10,1.0', 'EUR,2026-13,1.0', 'EUR,2026-12,-1', 'EUR,2027-01,1e3', 'EUR,2027-01,1.1'], 'currency,month,usd_per_unit');
    const err = await refusal<{ details: { rows: Array<{ column: string }> } }>(importFile(ledger, 'rates', bad));
    expect(err.details.rows.map((r) => r.column)).toEqual(['currency', 'month', 'usd_per_unit', 'usd_per_unit', 'currency']);
  });
});
