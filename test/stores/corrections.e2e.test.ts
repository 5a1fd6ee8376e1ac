/**
 * Which report a store file is, and what a correction may do (§7, §15), through the built
 * CLI on the fixtures in fixtures/stores and byte-for-byte variants made here: a report is
 * known by its content whatever its name or container; a re-issued App Store file keeps
 * its report's key; a correction may not strand refunds of other batches nor, without
 * --replace, delete transactions its predecessor wrote (CORRECTION_CONFLICT, exit 4).
 * Runs on SQLite and, with PACKOPS_TEST_PG, on PostgreSQL.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runCli } from '../helpers/cli.js';
import { AS, NOV_GP, OCT_GP, OCT_GP_ZIP, PKG, query, S, storeLedgers } from './store-ledgers.js';

const EU_GZ = join(AS, '80012345_1026_EU.txt.gz');
const NOV_AS = join(AS, '80012345_1126_transactions.txt');
const OCT_LOG = join(S, 'purchases-2026-10.csv');
const NOV_LOG = join(S, 'purchases-2026-11.jsonl');
const LATE_LOG = join(S, 'purchases-late.jsonl');

const { freshLedger } = storeLedgers('packops-corrections-');

type Row = { transaction_id: string; kind: string; gross_minor: unknown; net_minor: unknown; refund_of: string | null; batch_id: string };
const sales = (db: string, store: 'googleplay' | 'appstore'): Promise<Row[]> =>
  query(db, (l) => l.db.selectFrom('sales').select(['transaction_id', 'kind', 'gross_minor', 'net_minor', 'refund_of', 'batch_id']).where('store', '=', store).orderBy('transaction_id').execute());
const held = (db: string) =>
  query(db, (l) => l.db.selectFrom('quarantine').select(['hold_key', 'report_key', 'amount_minor', 'released_batch']).where('code', '=', 'CONSENT_MISSING').orderBy('hold_key').execute());
const reportRows = (db: string) => query(db, (l) => l.db.selectFrom('store_reports').select(['report_key', 'file_sha256', 'file_name']).orderBy('created_at').execute());
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The October Google CSV's lines (CRLF, header first), for variants. */
const octLines = () => readFileSync(OCT_GP, 'utf8').split('\r\n');
const writeLines = (file: string, lines: string[]) => writeFileSync(file, lines.join('\r\n'));

describe('a store report is known by its content (findings 1, 7)', () => {
  it('a renamed, re-gzipped or unzipped copy of an App Store report is that report: nothing held twice, nothing released wrongly', async () => {
    const { db, dir, cli } = await freshLedger(OCT_LOG);
    const first = await cli('ledger', 'import', 'appstore', EU_GZ, '--quarantine');
    expect(first.code, first.stderr).toBe(0);
    const key = first.json().reports[0].report as string;
    expect(first.json()).toMatchObject({ imported: 3, held: { count: 1, amounts: { EUR: 245 } } });
    // The key is the report's content: no region from the file name.
    expect(key).toBe('appstore:region:2026-09-27..2026-10-31:EUR:DE,FR');
    const before = await sales(db, 'appstore');

    const text = gunzipSync(readFileSync(EU_GZ));
    const renamed = join(dir, 'eu-october.txt.gz');
    copyFileSync(EU_GZ, renamed);
    const regz = join(dir, '80012345_1026_EU (1).txt.gz');
    writeFileSync(regz, gzipSync(text, { level: 1 }));
    expect(sha(readFileSync(regz))).not.toBe(sha(readFileSync(EU_GZ)));
    const plain = join(dir, 'october.txt');
    writeFileSync(plain, text);
    for (const file of [renamed, regz, plain]) {
      for (const extra of [[], ['--quarantine']]) {
        const r = await cli('ledger', 'import', 'appstore', file, ...extra);
        expect(r.code, `${file} ${r.stdout}`).toBe(0);
        expect(r.json()).toMatchObject({ imported: 0, quarantined: 0, released: 0, held: { count: 1, amounts: { EUR: 245 } } });
        expect(r.json().reports[0]).toMatchObject({ status: 'again', report: key, replaced: 0 });
      }
    }
    expect(await sales(db, 'appstore')).toEqual(before);
    expect((await held(db)).map((h) => [h.report_key, h.amount_minor, h.released_batch])).toEqual([[key, 245, null]]);
    // The report's SHA-256 is its text's; the batch's (import_batches, --json sha256) the file's own.
    expect(new Set((await reportRows(db)).map((r) => r.file_sha256))).toEqual(new Set([sha(text)]));
    const batch = await runCli(['--db', db, '--json', 'ledger', 'import', 'appstore', regz]);
    expect(batch.json().files[0].sha256).toBe(sha(readFileSync(regz)));

    // A purchase record of another product turns up: a copy releases nothing that is not its own.
    const late = join(dir, 'late-de.csv');
    writeFileSync(late, 'store,transaction_id,kind,occurred_at,product,country,consent_ref,family_ref,refund_of\nappstore,2000000812349999,sale,2026-10-30T18:00:00Z,com.wondernest.pack.ocean,DE,vpc-x,fam-x,\n');
    expect((await cli('ledger', 'import', 'purchases', late)).code).toBe(0);
    expect((await cli('ledger', 'import', 'appstore', renamed, '--quarantine')).json()).toMatchObject({ imported: 0, released: 0, held: { count: 1 } });
    expect(await sales(db, 'appstore')).toEqual(before);
  });

  it('a re-issued App Store file with an earlier first line corrects its report (same key), holding only what is new', async () => {
    const { db, dir, cli } = await freshLedger(OCT_LOG, NOV_LOG, LATE_LOG);
    expect((await cli('ledger', 'import', 'appstore', join(AS, '80012345_1026_US.txt'))).code).toBe(0);
    const first = await cli('ledger', 'import', 'appstore', NOV_AS);
    expect(first.code, first.stdout).toBe(0);
    const key = first.json().reports[0].report as string;
    expect(key).toBe('appstore:transaction:2026-11-01..2026-11-28:EUR,USD:DE,US');
    const lines = readFileSync(NOV_AS, 'utf8').split('\n');
    lines.splice(5, 0, '11/02/2026\t12/03/2026\t6470012302\tcom.wondernest.pack.forest\tForest Scenes\tWonderNest Ltd\tIA1\tDE\t1\t2.45\t2.45\tEUR\t3.49\tEUR\tS\t \t \tEurope');
    const reissued = join(dir, '80012345_1126_transactions.txt');
    writeFileSync(reissued, lines.map((l) => (l.startsWith('DE\tEUR\t1\t') ? 'DE\tEUR\t2\t4.90' : l)).join('\n'));
    const r = await cli('ledger', 'import', 'appstore', reissued, '--quarantine');
    expect(r.code, r.stdout).toBe(0);
    expect(r.json().reports[0]).toMatchObject({ status: 'corrected', report: key, replaced: 3, imported: 3, held: { count: 1, newly: 1, amounts: { EUR: 245 } } });
    expect((await sales(db, 'appstore')).filter((s) => s.batch_id === first.json().files[0].batch)).toEqual([]);
    expect((await held(db)).map((h) => [h.report_key, h.amount_minor])).toEqual([[key, 245]]);
  });

  it('the .zip of an imported Google CSV is that report; the CSV again after the month closed changes nothing (exit 0)', async () => {
    const { db, dir, cli } = await freshLedger(OCT_LOG);
    expect((await cli('ledger', 'import', 'googleplay', OCT_GP, ...PKG, '--quarantine')).code).toBe(0);
    const before = await sales(db, 'googleplay');
    const zipped = await cli('ledger', 'import', 'googleplay', OCT_GP_ZIP, ...PKG, '--quarantine');
    expect(zipped.code).toBe(0);
    expect(zipped.json().reports[0]).toMatchObject({ status: 'again', replaced: 0, imported: 0 });
    expect(await sales(db, 'googleplay')).toEqual(before);
    expect((await cli('ledger', 'import', 'rates', join(FIXTURES, 'ledger', 'rates.csv'))).code).toBe(0);
    expect((await cli('payouts', 'close', '--period', '2026-10')).code).toBe(0);
    const renamed = join(dir, 'october.csv');
    copyFileSync(OCT_GP, renamed);
    for (const file of [OCT_GP, OCT_GP_ZIP, renamed]) {
      const r = await cli('ledger', 'import', 'googleplay', file, ...PKG, '--quarantine');
      expect(r.code, `${file} ${r.stdout}`).toBe(0);
      expect(r.json().reports[0]).toMatchObject({ status: 'again', replaced: 0, imported: 0 });
    }
    expect(await sales(db, 'googleplay')).toEqual(before);
  });
  it('the same Google account report read for another app (--package) is that app\'s own report, not the first one again', async () => {
    const { cli } = await freshLedger(OCT_LOG);
    expect((await cli('ledger', 'import', 'googleplay', OCT_GP, ...PKG, '--quarantine')).code).toBe(0);
    const other = await cli('ledger', 'import', 'googleplay', OCT_GP, '--package', 'com.wondernest.coloring', '--quarantine');
    expect(other.code, other.stdout).toBe(0);
    expect(other.json().reports[0]).toMatchObject({ status: 'new', report: 'googleplay:com.wondernest.coloring:2026-10..2026-10' });
    const again = await cli('ledger', 'import', 'googleplay', OCT_GP_ZIP, ...PKG, '--quarantine');
    expect(again.json().reports[0]).toMatchObject({ status: 'again', report: 'googleplay:com.wondernest.app:2026-10..2026-10' });
  });
});

describe('a correction and the refunds of other batches (finding 2)', () => {
  const prepared = async () => {
    const l = await freshLedger(OCT_LOG, NOV_LOG);
    expect((await l.cli('ledger', 'import', 'googleplay', OCT_GP, ...PKG, '--quarantine')).code).toBe(0);
    expect((await l.cli('ledger', 'import', 'googleplay', NOV_GP, ...PKG, '--quarantine')).code).toBe(0);
    return { ...l, before: await sales(l.db, 'googleplay') };
  };
  const REFUND = 'GPA.3301-1001-2001-30001/refund/2026-11-18T22:05:31Z';
  const SALE = 'GPA.3301-1001-2001-30001';

  it('a corrected sale smaller than its later refund is CORRECTION_CONFLICT (exit 4), the refund listed, nothing written', async () => {
    const { db, dir, cli, before } = await prepared();
    expect(before.find((s) => s.transaction_id === REFUND)).toMatchObject({ gross_minor: 200, refund_of: SALE });
    const file = join(dir, 'earnings_202610_corrected.csv');
    writeLines(file, octLines().map((l) => (l.startsWith(`${SALE},`) && l.includes(',Charge,') ? l.replace('USD,4.99,1.000000,USD,4.99,', 'USD,1.50,1.000000,USD,1.50,') : l.startsWith(`${SALE},`) && l.includes(',Google fee,') ? l.replace('USD,-0.75,1.000000,USD,-0.75,', 'USD,-0.22,1.000000,USD,-0.22,') : l)));
    expect(readFileSync(file, 'utf8')).not.toBe(readFileSync(OCT_GP, 'utf8'));
    for (const extra of [[], ['--replace']]) {
      const r = await cli('ledger', 'import', 'googleplay', file, ...PKG, '--quarantine', ...extra);
      expect(r.code, r.stdout).toBe(4);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
      const e = r.json().error;
      expect(e.code).toBe('CORRECTION_CONFLICT');
      expect(e.details.refunds).toEqual([
        expect.objectContaining({ transaction_id: REFUND, refund_of: SALE, refund: expect.objectContaining({ gross: 200, fee: 30 }), sale: expect.objectContaining({ gross: 150, fee: 22 }) }),
      ]);
      expect(await sales(db, 'googleplay')).toEqual(before);
    }
  });

  it('a corrected report without the refunded sale is CORRECTION_CONFLICT even with --replace (no orphan refund)', async () => {
    const { db, dir, cli, before } = await prepared();
    const file = join(dir, 'earnings_202610_corrected2.csv');
    writeLines(file, octLines().filter((l) => !l.startsWith(`${SALE},`)));
    const r = await cli('ledger', 'import', 'googleplay', file, ...PKG, '--quarantine', '--replace');
    expect(r.code, r.stdout).toBe(4);
    expect(r.json().error).toMatchObject({ code: 'CORRECTION_CONFLICT', details: { refunds: [expect.objectContaining({ transaction_id: REFUND, refund_of: SALE, sale: null })] } });
    expect(await sales(db, 'googleplay')).toEqual(before);
  });

  it('App Store: a corrected line whose units are worth less than their later returns is refused on the net', async () => {
    const { db, dir, cli } = await freshLedger(OCT_LOG, NOV_LOG);
    const us = join(AS, '80012345_1026_US.txt');
    expect((await cli('ledger', 'import', 'appstore', us)).code).toBe(0);
    expect((await cli('ledger', 'import', 'appstore', NOV_AS)).code).toBe(0);
    const before = await sales(db, 'appstore');
    const corrected = join(dir, '80012345_1026_US.txt');
    writeFileSync(corrected, readFileSync(us, 'utf8').replace('3\t3.49\t10.47', '3\t1.00\t3.00').replace('Total_Amount\t16.05', 'Total_Amount\t8.58'));
    const r = await cli('ledger', 'import', 'appstore', corrected);
    expect(r.code, r.stdout).toBe(4);
    expect(r.json().error).toMatchObject({
      code: 'CORRECTION_CONFLICT',
      details: { refunds: [expect.objectContaining({ refund_of: '2000000812340001', refund: expect.objectContaining({ net: 349 }), sale: expect.objectContaining({ net: 100 }) })] },
    });
    expect(await sales(db, 'appstore')).toEqual(before);
  });
});

describe('a same-key file that would delete rows (finding 5)', () => {
  const SPLIT = ['GPA.3301-1001-2001-30001', 'GPA.3301-1001-2001-30002'];
  const split = (dir: string) => {
    const [header, ...rows] = octLines().filter((l) => l !== '');
    const a = rows.filter((r) => SPLIT.includes(r.split(',')[0]!));
    const b = rows.filter((r) => !a.includes(r));
    const f0 = join(dir, 'earnings_202610_com.wondernest.app-0.csv');
    const f1 = join(dir, 'earnings_202610_com.wondernest.app-1.csv');
    writeLines(f0, [header!, ...a, '']);
    writeLines(f1, [header!, ...b, '']);
    return { f0, f1 };
  };

  it('is CORRECTION_CONFLICT (exit 4) naming what it lacks and the earlier file; --replace makes it a corrected report', async () => {
    const { db, dir, cli } = await freshLedger(OCT_LOG);
    const { f0, f1 } = split(dir);
    expect((await cli('ledger', 'import', 'googleplay', f0, ...PKG, '--quarantine')).json()).toMatchObject({ imported: 3 });
    const before = await sales(db, 'googleplay');
    const r = await cli('ledger', 'import', 'googleplay', f1, ...PKG, '--quarantine');
    expect(r.code, r.stdout).toBe(4);
    const e = r.json().error;
    expect(e).toMatchObject({
      code: 'CORRECTION_CONFLICT',
      details: { missing: 3, transactions: ['GPA.3301-1001-2001-30001', 'GPA.3301-1001-2001-30002', 'GPA.3301-1001-2001-30002/refund/2026-10-25T17:00:00Z'], earlier: [expect.objectContaining({ file: 'earnings_202610_com.wondernest.app-0.csv' })] },
    });
    expect(e.hint).toContain('--replace');
    expect(e.hint).toContain('combine the parts');
    expect(await sales(db, 'googleplay')).toEqual(before);
    expect(await held(db)).toEqual([]);

    // The operator says it is the corrected report: what it no longer lists goes.
    const replaced = await cli('ledger', 'import', 'googleplay', f1, ...PKG, '--quarantine', '--replace');
    expect(replaced.code, replaced.stdout).toBe(0);
    expect(replaced.json().reports[0]).toMatchObject({ status: 'corrected', replaced: 3 });
    const after = (await sales(db, 'googleplay')).map((s) => s.transaction_id);
    expect(after.filter((id) => SPLIT.some((o) => id.startsWith(o)))).toEqual([]);
    expect(after.length).toBeGreaterThan(0);
  });

  it('a correction that only changes or adds proceeds without --replace; --replace is refused for other kinds', async () => {
    const { db, dir, cli } = await freshLedger(OCT_LOG);
    const { f0 } = split(dir);
    expect((await cli('ledger', 'import', 'googleplay', f0, ...PKG, '--quarantine')).code).toBe(0);
    const r = await cli('ledger', 'import', 'googleplay', OCT_GP, ...PKG, '--quarantine');
    expect(r.code, r.stdout).toBe(0);
    expect(r.json().reports[0]).toMatchObject({ status: 'corrected', replaced: 3 });
    expect((await sales(db, 'googleplay')).length).toBe(7);
    const usage = await cli('ledger', 'import', 'sales', join(FIXTURES, 'ledger', 'sales-2026-10.csv'), '--replace');
    expect(usage.code).toBe(2);
  });

  it('a closed month stays PERIOD_CLOSED whatever the flag', async () => {
    const { db, dir, cli } = await freshLedger(OCT_LOG);
    const { f0, f1 } = split(dir);
    expect((await cli('ledger', 'import', 'googleplay', f0, ...PKG, '--quarantine')).code).toBe(0);
    expect((await cli('ledger', 'import', 'rates', join(FIXTURES, 'ledger', 'rates.csv'))).code).toBe(0);
    expect((await cli('payouts', 'close', '--period', '2026-10')).code).toBe(0);
    const before = await sales(db, 'googleplay');
    for (const extra of [[], ['--replace']]) {
      const r = await cli('ledger', 'import', 'googleplay', f1, ...PKG, '--quarantine', ...extra);
      expect(r.code).toBe(4);
      expect(r.json().error.code).toBe('PERIOD_CLOSED');
    }
    expect(await sales(db, 'googleplay')).toEqual(before);
  });
});
