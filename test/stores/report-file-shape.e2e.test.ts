// A Google Play earnings file that holds no report, or more than one, is a bad input file
// (exit 3, REPORT_FORMAT_UNKNOWN naming what was expected), not a usage error: the command
// line was right, the file was not. A file cut inside its last cell is REPORT_TRUNCATED.
// Nothing is written in any of these cases.
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from '../../src/archive/zip-writer.js';
import { runCli } from '../helpers/cli.js';
import { OCT_GP, PKG, S } from './store-ledgers.js';
import { seedLedger } from '../ledger/seed.js';

const PURCHASES = join(S, 'purchases-2026-10.csv');

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

/** The October fixture in the older 19-column layout (it ends with the merchant amount), two orders, CRLF. */
function nineteenColumns(): string {
  const rows = parse(readFileSync(OCT_GP), { bom: true }) as string[][];
  const keep = rows.filter((r) => ['Description', 'GPA.3301-1001-2001-30001', 'GPA.3301-1001-2001-30002'].includes(r[0]!));
  const cell = (c: string) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
  return keep.map((r) => r.slice(0, 19).map(cell).join(',')).join('\r\n') + '\r\n';
}

describe('a Google Play file cut inside its last cell (19-column layout: the cell count cannot tell)', () => {
  it('a last line with no line break whose merchant amount is not buyer amount × rate is REPORT_TRUNCATED', async () => {
    const whole = nineteenColumns();
    expect(whole.endsWith(',-0.75\r\n')).toBe(true); // the last cell, a fee of 0.75
    const file = join(root, 'cut.csv');
    writeFileSync(file, whole.slice(0, -3)); // …,-0.7
    const err = await refused(file);
    expect(err).toMatchObject({ code: 'REPORT_TRUNCATED', message: expect.stringContaining(`line ${whole.trimEnd().split('\r\n').length}`) });
  });

  it('the same file whole, or whole but without its final line break, imports', async () => {
    const whole = nineteenColumns();
    const dir = mkdtempSync(join(root, 'whole-'));
    for (const [name, text] of [['with-break.csv', whole], ['no-final-break.csv', whole.slice(0, -2)]] as const) {
      const ledger = join(dir, `${name}.db`);
      await (await seedLedger(ledger)).close();
      expect((await runCli(['--db', ledger, '--json', 'ledger', 'import', 'purchases', PURCHASES])).code).toBe(0);
      const file = join(dir, name);
      writeFileSync(file, text);
      const r = await runCli(['--db', ledger, '--json', 'ledger', 'import', 'googleplay', file, ...PKG]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json().imported).toBe(3); // two orders' sales and a refund
    }
  });
});
