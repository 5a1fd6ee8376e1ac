// A Google Play earnings file that holds no report, or more than one, is a bad input file
// (exit 3, REPORT_FORMAT_UNKNOWN naming what was expected), not a usage error: the command
// line was right, the file was not. Nothing is written either way.
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from '../../src/archive/zip-writer.js';
import { FIXTURES, runCli } from '../helpers/cli.js';
import { seedLedger } from '../ledger/seed.js';

const OCT_GP = join(FIXTURES, 'stores', 'googleplay', 'earnings_202610_com.wondernest.app.csv');
const PKG = ['--package', 'com.wondernest.app'];

let root: string;
let db: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'packops-report-shape-'));
  db = join(root, 'ledger.db');
  await (await seedLedger(db)).close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function salesCount(): number {
  const raw = new BetterSqlite3(db, { readonly: true });
  try {
    return (raw.prepare('SELECT count(*) AS n FROM sales').get() as { n: number }).n;
  } finally {
    raw.close();
  }
}

async function refused(file: string): Promise<{ code: string; message: string; hint?: string }> {
  const r = await runCli(['--db', db, '--json', 'ledger', 'import', 'googleplay', file, ...PKG]);
  expect(r.code, r.stderr).toBe(3);
  expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  expect(salesCount()).toBe(0);
  return r.json().error;
}

describe('a Google Play file without exactly one report', () => {
  it('an empty file is REPORT_FORMAT_UNKNOWN naming the expected headers', async () => {
    const file = join(root, 'empty.csv');
    writeFileSync(file, '');
    const err = await refused(file);
    expect(err).toMatchObject({ code: 'REPORT_FORMAT_UNKNOWN', message: expect.stringContaining('empty'), hint: expect.stringContaining('Transaction Type') });
  });

  it('a .zip holding two CSVs is REPORT_FORMAT_UNKNOWN, and neither is imported', async () => {
    const file = join(root, 'two.zip');
    const csv = readFileSync(OCT_GP);
    await writeZip(file, [
      { name: 'earnings_202610_a.csv', data: csv, method: 'deflate' },
      { name: 'earnings_202610_b.csv', data: csv, method: 'deflate' },
    ], { mtime: 1_800_000_000 });
    const err = await refused(file);
    expect(err).toMatchObject({ code: 'REPORT_FORMAT_UNKNOWN', message: expect.stringContaining('more than one CSV') });
  });
});
