// `payouts close` racing a sales import of the same month, as two real processes. Whatever
// the order the two reach the ledger in, either every row the import stored is in the
// closed statement, or the import was refused with PERIOD_CLOSED and stored nothing.
// Never both: a month frozen without rows that then land in it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { BIN, runCli, tempDir } from '../helpers/cli.js';
import { importFile } from '../../src/ledger/import/index.js';
import { LEDGER_FIXTURES, seedLedger } from '../ledger/seed.js';
import { writeSalesFile } from '../ledger/generate.js';

const ROWS = 40_000;
let tmp: ReturnType<typeof tempDir>;
let template: string;
let sales: string;

beforeAll(async () => {
  tmp = tempDir('packops-close-race-');
  template = join(tmp.dir, 'template.db');
  const ledger = await seedLedger(template);
  await importFile(ledger, 'rates', join(LEDGER_FIXTURES, 'rates.csv'));
  await ledger.close();
  sales = join(tmp.dir, 'sales.csv');
  await writeSalesFile(sales, ROWS); // every row in 2026-10
}, 120_000);
afterAll(() => tmp.cleanup());

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function start(args: string[]): { child: ChildProcess; done: Promise<Ran>; stderrLines: (fn: (text: string) => void) => void } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers: Array<(text: string) => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of watchers) w(stderr);
  });
  const done = new Promise<Ran>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  return { child, done, stderrLines: (fn) => watchers.push(fn) };
}

/** Resolves once the import has reported `rows` rows written inside its transaction (or has ended). */
function afterImportedRows(run: ReturnType<typeof start>, rows: number): Promise<void> {
  return new Promise((resolve) => {
    run.stderrLines((text) => {
      const counts = [...text.matchAll(/Importing sales: ([\d,]+) rows/g)].map((m) => Number(m[1]!.replace(/,/g, '')));
      if (counts.some((n) => n >= rows)) resolve();
    });
    void run.done.then(() => resolve());
  });
}

function ledgerState(db: string) {
  const raw = new BetterSqlite3(db, { readonly: true });
  try {
    const stored = (raw.prepare(`SELECT count(*) AS n FROM sales WHERE month = '2026-10'`).get() as { n: number }).n;
    const closed = raw.prepare(`SELECT totals FROM closed_periods WHERE month = '2026-10'`).get() as { totals: string } | undefined;
    const batches = (raw.prepare(`SELECT count(*) AS n FROM import_batches WHERE kind = 'sales'`).get() as { n: number }).n;
    return { stored, closed: closed !== undefined, batches };
  } finally {
    raw.close();
  }
}

type Schedule = 'together' | 'close mid-import (first progress line)' | 'close mid-import (half the rows)' | 'import 100 ms after close' | 'import after close ended';

async function race(schedule: Schedule): Promise<{ imp: Ran; close: Ran; db: string }> {
  const db = join(tmp.dir, `${schedule.replace(/\W+/g, '-')}.db`);
  copyFileSync(template, db);
  const importArgs = ['ledger', 'import', 'sales', sales, '--db', db, '--json'];
  const closeArgs = ['payouts', 'close', '--period', '2026-10', '--db', db, '--json'];
  let imp: ReturnType<typeof start>;
  let close: ReturnType<typeof start>;
  switch (schedule) {
    case 'together':
      imp = start(importArgs);
      close = start(closeArgs);
      break;
    case 'close mid-import (first progress line)':
      imp = start(importArgs);
      await afterImportedRows(imp, 1);
      close = start(closeArgs);
      break;
    case 'close mid-import (half the rows)':
      imp = start(importArgs);
      await afterImportedRows(imp, ROWS / 2);
      close = start(closeArgs);
      break;
    case 'import 100 ms after close':
      close = start(closeArgs);
      await new Promise((r) => setTimeout(r, 100));
      imp = start(importArgs);
      break;
    case 'import after close ended':
      close = start(closeArgs);
      await close.done;
      imp = start(importArgs);
      break;
  }
  const [i, c] = await Promise.all([imp.done, close.done]);
  return { imp: i, close: c, db };
}

/** The closed statement's transaction count, read back through the CLI. */
async function closedTransactions(db: string): Promise<number> {
  const r = await runCli(['payouts', 'report', '--period', '2026-10', '--db', db, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const report = r.json();
  expect(report.status).toBe('closed');
  return report.totals.transactions as number;
}

describe('payouts close racing a sales import of the same month', () => {
  const schedules: Schedule[] = [
    'together',
    'close mid-import (first progress line)',
    'close mid-import (half the rows)',
    'import 100 ms after close',
    'import after close ended',
  ];
  for (const schedule of schedules) {
    it(`${schedule}: the rows are in the closed statement, or the import was refused and stored nothing`, async () => {
      const { imp, close, db } = await race(schedule);
      const state = ledgerState(db);
      // Both commands end with a code of their own; neither crashes.
      expect([0, 4], `import: ${imp.stderr}`).toContain(imp.code);
      expect([0, 4], `close: ${close.stderr}`).toContain(close.code);
      if (close.code === 4) {
        // The close waited for the import's write lock longer than its busy timeout and gave
        // up: nothing was closed, and the import's rows are all stored in the open month.
        expect(JSON.parse(close.stdout)).toMatchObject({ ok: false, error: { code: 'LEDGER_BUSY' } });
        expect(state.closed).toBe(false);
        expect(imp.code, imp.stderr).toBe(0);
        expect(state.stored).toBe(ROWS);
        return;
      }
      expect(state.closed).toBe(true);
      if (imp.code === 0) {
        // The import committed first: its rows are all in the month, and all in the statement.
        expect(JSON.parse(imp.stdout)).toMatchObject({ ok: true, imported: ROWS });
        expect(state.stored).toBe(ROWS);
        expect(await closedTransactions(db)).toBe(ROWS);
      } else {
        // The close committed first: the import saw the month closed and wrote nothing.
        expect(JSON.parse(imp.stdout)).toMatchObject({ ok: false, error: { code: 'PERIOD_CLOSED' } });
        expect(state.stored).toBe(0);
        expect(state.batches).toBe(0);
        expect(await closedTransactions(db)).toBe(0);
      }
      // A close that started while the import was writing waited for it (its lock comes first).
      if (schedule.startsWith('close mid-import')) expect(imp.code).toBe(0);
      if (schedule === 'import after close ended') expect(imp.code).toBe(4);
    }, 180_000);
  }
});
