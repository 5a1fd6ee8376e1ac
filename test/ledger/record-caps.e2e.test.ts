// Every read has a size cap before it reads (PRODUCT.md §3, issue 17): one JSON Lines line or
// CSV record of an import file is at most 1 MiB (src/shared/lines.ts). A 1 GiB line — a sparse
// file, never written, never held in memory — is INPUT_TOO_LARGE naming its line, exit 3, no
// stack trace, nothing imported, and the process stays small (peak RSS measured by the child).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';
import { rssProbe } from '../helpers/rss.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir('packops-record-caps-')));
afterAll(() => tmp.cleanup());

/** Peak memory allowed for a refused 1 GiB line: the cap (1 MiB) plus a read buffer, far below the line. */
const MAX_PEAK_MIB = 300;

/** The header each importer requires (CSV), and a first JSON Lines line. */
const HEADERS: Record<string, string> = {
  sales: 'transaction_id,occurred_at,store,kind,product,country,currency,gross_minor,store_fee_minor,tax_minor',
  reviews: 'review_id,pack,rating,reviewed_at',
  rates: 'currency,month,usd_per_unit',
  usage: 'family_ref,pack,month,active_days',
  purchases: 'store,transaction_id,kind,occurred_at,product,country,family_ref',
};

/** A file whose first line is `head` and whose second line runs to `size` bytes (zeros: a hole). */
function sparse(name: string, head: string, size: string): string {
  const file = join(tmp.dir, name);
  writeFileSync(file, `${head}\n`);
  execFileSync('truncate', ['-s', size, file]);
  return file;
}

async function importRefused(kind: string, file: string, name: string) {
  const db = join(tmp.dir, `${name}.db`);
  const probe = rssProbe(tmp.dir, name);
  const r = await runCli(['ledger', 'import', kind, file, '--db', db, '--json'], { cwd: tmp.dir, env: probe.env, timeoutMs: 120_000 });
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(3);
  expect(r.stderr).not.toMatch(/internal error|\bat .*\.js:\d+/);
  const error = r.json().error;
  expect(error.code).toBe('INPUT_TOO_LARGE');
  expect(error.details.line).toBe(2);
  expect(error.message).toContain('line 2');
  expect(probe.peakMiB()).toBeLessThan(MAX_PEAK_MIB);
  // Nothing imported: the ledger holds no batch.
  const raw = new BetterSqlite3(db, { readonly: true });
  try {
    expect((raw.prepare('SELECT count(*) AS n FROM import_batches').get() as { n: number }).n).toBe(0);
  } finally {
    raw.close();
  }
}

describe('a 1 GiB line or record in an import file is refused with its line number, in bounded memory', () => {
  for (const kind of Object.keys(HEADERS)) {
    it(`${kind}: CSV record`, async () => {
      await importRefused(kind, sparse(`${kind}.csv`, HEADERS[kind]!, '1G'), `${kind}-csv`);
    }, 130_000);
    it(`${kind}: JSON Lines line`, async () => {
      await importRefused(kind, sparse(`${kind}.jsonl`, '{"note":"the next line is 1 GiB of zero bytes"}', '1G'), `${kind}-jsonl`);
    }, 130_000);
  }

  it('a CSV record that opens a quote and never closes it within the cap (the csv-parse path)', async () => {
    const quoted = `${HEADERS.sales}\n"quoted, then 1 GiB of zero bytes`;
    const file = sparse('quoted.csv', quoted, '1G');
    const db = join(tmp.dir, 'quoted.db');
    const r = await runCli(['ledger', 'import', 'sales', file, '--db', db, '--json'], { cwd: tmp.dir, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(3);
    expect(r.json().error.code).toBe('INPUT_TOO_LARGE');
    // The record begins on line 2; csv-parse passes the cap on line 3 (the zeros after the quoted line).
    expect(r.json().error.details.line).toBe(3);
    expect(r.json().error.message).toContain('the record that runs on to line 3');
  }, 130_000);

  it('a file with no line break at all is refused at line 1', async () => {
    const file = join(tmp.dir, 'one-line.jsonl');
    writeFileSync(file, '');
    execFileSync('truncate', ['-s', '64M', file]);
    const r = await runCli(['ledger', 'import', 'usage', file, '--db', join(tmp.dir, 'one-line.db'), '--json'], { cwd: tmp.dir, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(3);
    expect(r.json().error).toMatchObject({ code: 'INPUT_TOO_LARGE', details: { line: 1 } });
  }, 130_000);
});

describe('store reports use the same cap, and a refused record never hangs the reader', () => {
  // Before: csv-parse stopped at its 1 MiB record cap, but the feed waited on a 'drain' that a
  // failed parser never sends, so the process ran out of work and exited 13 with no answer.
  it('googleplay: a long record is INPUT_TOO_LARGE, exit 3', async () => {
    const head = execFileSync('head', ['-1', join(FIXTURES, 'stores', 'googleplay', 'earnings_202610_com.wondernest.app.csv')], { encoding: 'utf8' }).trimEnd();
    const file = sparse('earnings_202610_com.wondernest.app.csv', head, '16M');
    const r = await runCli(['ledger', 'import', 'googleplay', file, '--db', join(tmp.dir, 'gp.db'), '--json'], { cwd: tmp.dir, timeoutMs: 120_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(3);
    expect(r.json().error).toMatchObject({ code: 'INPUT_TOO_LARGE', details: { line: 2 } });
    expect(r.stderr).not.toMatch(/internal error|\bat .*\.js:\d+/);
  }, 130_000);

  it('appstore: a long record is INPUT_TOO_LARGE, exit 3', async () => {
    const head = execFileSync('head', ['-1', join(FIXTURES, 'stores', 'appstore', '80012345_1026_US.txt')], { encoding: 'utf8' }).trimEnd();
    const file = sparse('80012345_1026_US.txt', head, '16M');
    const r = await runCli(['ledger', 'import', 'appstore', file, '--db', join(tmp.dir, 'as.db'), '--json'], { cwd: tmp.dir, timeoutMs: 120_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(3);
    expect(r.json().error).toMatchObject({ code: 'INPUT_TOO_LARGE', details: { line: 2 } });
  }, 130_000);
});
