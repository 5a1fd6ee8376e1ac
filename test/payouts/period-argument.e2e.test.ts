// --period takes the months the period helpers handle (0001-01 to 9999-12) on every command
// that has it: anything else is a usage error (exit 2), never an internal error (exit 70).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt } from '../helpers/ledgers.js';
import { STORY, writeLedger } from './ledger-fixture.js';

let tmp: ReturnType<typeof tempDir>;
let db: string;

beforeAll(async () => {
  tmp = tempDir('packops-period-argument-');
  db = await ledgerAt(tmp.dir, 'ledger.db');
  await (await writeLedger(db, STORY)).close();
});
afterAll(() => tmp.cleanup());

const cli = (args: string[]) => runCli([...args, '--db', db], { cwd: tmp.dir, env: { SOURCE_DATE_EPOCH: String(Date.parse('2026-12-06T12:00:00Z') / 1000) } });

describe('--period outside 0001-01 … 9999-12', () => {
  const commands: Array<[string, string[]]> = [
    ['payouts report (pages)', ['payouts', 'report', '--format', 'html', '--out', 'pages']],
    ['payouts report', ['payouts', 'report']],
    ['payouts close', ['payouts', 'close']],
    ['creators tiers', ['creators', 'tiers']],
  ];
  for (const [name, args] of commands) {
    it(`${name}: year 0000 and malformed months are a usage error (exit 2) saying what to type; nothing is written`, async () => {
      for (const period of ['0000-01', '0000-12', '10000-01', '2026-00']) {
        const r = await cli(['--verbose', ...args, '--period', period, '--json']);
        expect(r.code, `${period}: ${r.stderr}`).toBe(2);
        expect(r.json().error.message).toMatch(/YYYY-MM, e\.g\. 2026-10 \(years 0001 to 9999\)/);
        expect(r.stderr).not.toMatch(/RangeError|\bat .*\.js:\d+/);
      }
      expect(readdirSync(tmp.dir).filter((f) => f === 'pages')).toEqual([]);
    });
  }
});

describe('the first and last months', () => {
  it('0001-01 renders its pages (a history reaching back into year 0000) and 9999-12 reports; 9999-12 cannot be closed yet', async () => {
    const first = await cli(['payouts', 'report', '--period', '0001-01', '--format', 'html', '--out', 'first', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json().history.map((h: { month: string }) => h.month)).toEqual(['0001-01']);
    expect(readdirSync(join(tmp.dir, 'first', '0001-01'))).toContain('summary.html');
    const last = await cli(['payouts', 'report', '--period', '9999-12', '--format', 'html', '--out', 'last', '--json']);
    expect(last.code, last.stderr).toBe(0);
    expect(last.json()).toMatchObject({ period: '9999-12', status: 'open' });
    const tiers = await cli(['creators', 'tiers', '--period', '9999-12', '--json']);
    expect(tiers.code, tiers.stderr).toBe(0);
    // Every pack was published by the end of 9999-12: ana-lima's two and the one her collaboration owns.
    expect(tiers.json().creators.find((c: { creator: string }) => c.creator === 'ana-lima').figures.packsPublished).toBe(3);
    const close = await cli(['payouts', 'close', '--period', '9999-12', '--json']);
    expect(close.code).toBe(4);
    expect(['PERIOD_ORDER', 'PERIOD_OPEN']).toContain(close.json().error.code);
  });
});
