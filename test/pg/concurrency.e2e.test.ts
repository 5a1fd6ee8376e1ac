// PostgreSQL: many processes at once. Overlapping imports store each transaction once;
// a close racing imports of its month never freezes the month without rows that then land
// in it; reports run while imports hold the write lock.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli, tempDir, type RunResult } from '../helpers/cli.js';
import { ledgerAt, rawQuery } from '../helpers/ledgers.js';
import { seedWithRates } from '../ledger/seed.js';
import { writeSalesFile } from '../ledger/generate.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir('packops-pg-race-')));
afterAll(() => tmp.cleanup());

async function seeded(name: string): Promise<string> {
  return seedWithRates(await ledgerAt(tmp.dir, name));
}

const count = async (db: string, where = '1 = 1') => (await rawQuery<{ n: number }>(db, `SELECT count(*) AS n FROM sales WHERE ${where}`))[0]!.n;

describe('PostgreSQL ledger under concurrent processes', () => {
  it('six overlapping imports started together store every transaction exactly once', async () => {
    const db = await seeded('many.db');
    const files: string[] = [];
    for (let k = 0; k < 6; k++) {
      const file = join(tmp.dir, `part-${k}.csv`);
      await writeSalesFile(file, 1500, { start: k * 1000 }); // each overlaps the next by 500 rows
      files.push(file);
    }
    const runs = await Promise.all(files.map((f) => runCli(['ledger', 'import', 'sales', f, '--db', db, '--json', '--quiet'], { timeoutMs: 300_000 })));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const docs = runs.map((r) => r.json());
    const distinct = 5 * 1000 + 1500;
    expect(docs.reduce((n, d) => n + d.imported, 0)).toBe(distinct);
    expect(docs.reduce((n, d) => n + d.skipped, 0)).toBe(6 * 1500 - distinct);
    expect(await count(db)).toBe(distinct);
    expect((await rawQuery<{ n: number }>(db, 'SELECT count(*) AS n FROM import_batches'))[0]!.n).toBe(6 + 1);
  }, 300_000);

  it('a close racing four imports of its month: every stored row of the month is in the closed statement', async () => {
    const db = await seeded('close.db');
    const files: string[] = [];
    for (let k = 0; k < 4; k++) {
      const file = join(tmp.dir, `close-${k}.csv`);
      await writeSalesFile(file, 2000, { prefix: `c${k}-` });
      files.push(file);
    }
    const imports = files.map((f) => runCli(['ledger', 'import', 'sales', f, '--db', db, '--json', '--quiet'], { timeoutMs: 300_000 }));
    // The close starts once the first import is writing (it queues behind the write lock).
    await new Promise((r) => setTimeout(r, 300));
    const close = await runCli(['payouts', 'close', '--period', '2026-10', '--db', db, '--json'], { timeoutMs: 300_000 });
    const done: RunResult[] = await Promise.all(imports);
    expect([0, 4], close.stderr).toContain(close.code);
    const stored = await count(db, "month = '2026-10'");
    let imported = 0;
    for (const r of done) {
      if (r.code === 0) imported += r.json().imported;
      else {
        expect(r.code, r.stderr).toBe(4);
        expect(r.json().error.code).toBe(close.code === 0 ? 'PERIOD_CLOSED' : 'LEDGER_BUSY');
      }
    }
    expect(stored).toBe(imported);
    if (close.code === 0) {
      const report = await runCli(['payouts', 'report', '--period', '2026-10', '--db', db, '--json']);
      expect(report.json()).toMatchObject({ status: 'closed' });
      expect(report.json().totals.transactions).toBe(stored);
    } else {
      expect(close.json().error.code).toBe('LEDGER_BUSY');
    }
  }, 300_000);

  it('reports read while an import holds the write lock', async () => {
    const db = await seeded('read.db');
    const big = join(tmp.dir, 'read-big.csv');
    await writeSalesFile(big, 20_000);
    const child = spawn(process.execPath, [BIN, 'ledger', 'import', 'sales', big, '--db', db], {
      env: { ...process.env, CI: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (/Importing sales: [\d,]+ rows/.test(d)) resolve();
      });
      child.on('exit', (code) => reject(new Error(`the import ended (${code}) before the report ran`)));
    });
    const report = await runCli(['payouts', 'report', '--period', '2026-10', '--db', db, '--json']);
    const stillRunning = child.exitCode === null;
    expect(report.code, report.stderr).toBe(0);
    // The import's rows are not visible until it commits.
    if (stillRunning) expect(report.json().totals.transactions).toBe(0);
    const code = await new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', r)));
    expect(code).toBe(0);
    expect(await count(db)).toBe(20_000);
  }, 300_000);
});
