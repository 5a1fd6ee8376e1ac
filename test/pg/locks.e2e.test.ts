// What the PostgreSQL locks guarantee, shown with real processes and a test connection
// holding the locks an import or a close would hold (no timing: the test watches pg_locks
// for the process that waits, then lets it go):
// - sales imports share the ledger's write lock: one runs to the end while another holds it;
// - a close takes the write lock exclusively: it waits until no import holds it;
// - every sales import takes the sales lock before its checks: shared when its file has no
//   refund (it runs beside another such import), exclusive when it has one (it waits until
//   no other sales import is between its checks and its commit).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, tempDir } from '../helpers/cli.js';
import { freshPgDatabase, rawQuery } from '../helpers/ledgers.js';
import { importFile } from '../../src/ledger/import/index.js';
import { LOCK_CLASS, SALES_LOCK, WRITE_LOCK } from '../../src/ledger/pg.js';
import { LEDGER_FIXTURES, seedLedger } from '../ledger/seed.js';
import { SALES_HEADER } from '../ledger/generate.js';

const require = createRequire(import.meta.url);

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => (tmp = tempDir('packops-pg-locks-')));
afterAll(() => tmp.cleanup());

const sale = (id: string, at: string) => `${id},${at},web,sale,ocean-creatures,US,USD,499,150,0,vpc-${id},fam-${id},`;
const refund = (id: string, of: string, at: string) => `${id},${at},web,refund,ocean-creatures,US,USD,499,150,0,,,${of}`;

function csv(name: string, lines: string[]): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, `${SALES_HEADER}\n${lines.join('\n')}\n`);
  return path;
}

/** A ledger with rates and one October sale. */
async function ledger(tag: string): Promise<string> {
  const db = await freshPgDatabase(tag);
  const l = await seedLedger(db);
  await importFile(l, 'rates', join(LEDGER_FIXTURES, 'rates.csv'));
  await importFile(l, 'sales', csv(`${tag}-oct.csv`, [sale('oct-1', '2026-10-03T10:00:00Z')]));
  await l.close();
  return db;
}

/** A connection holding advisory locks in an open transaction, as another import or close would. */
async function holder(db: string, locks: Array<{ shared: boolean; classid: number; objid: number }>): Promise<{ client: Client; release(): Promise<void> }> {
  const { Client: PgClient } = require('pg') as typeof import('pg');
  const client = new PgClient({ connectionString: db });
  await client.connect();
  await client.query('BEGIN');
  for (const l of locks) await client.query(`SELECT ${l.shared ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock'}($1, $2)`, [l.classid, l.objid]);
  return {
    client,
    release: async () => {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

/** Runs packops; resolves with its exit code and output when it ends. */
function start(args: string[]): { done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return { done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))) };
}

/** Waits until a packops connection waits for the advisory lock (classid, objid). */
async function waitsFor(watch: Client, database: string, classid: number, objid: number, ended: () => boolean): Promise<void> {
  for (;;) {
    // pg_stat_activity is read once per transaction (stats_fetch_consistency = cache) and
    // `watch` is inside one: without this, a command that connected after the first look
    // would never be seen.
    await watch.query('SELECT pg_stat_clear_snapshot()');
    const r = await watch.query(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND NOT l.granted AND l.classid = $1 AND l.objid = $2 AND a.datname = $3 AND a.application_name = 'packops'`,
      [classid, objid, database],
    );
    if (r.rows[0].n > 0) return;
    if (ended()) throw new Error('the command ended without waiting for the lock');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const count = async (db: string) => (await rawQuery<{ n: number }>(db, 'SELECT count(*) AS n FROM sales'))[0]!.n;

describe('PostgreSQL locks', () => {
  it('an import runs while another import holds the write lock; a close waits for it', async () => {
    const db = await ledger('share');
    const database = new URL(db).pathname.slice(1);
    const other = await holder(db, [{ shared: true, classid: LOCK_CLASS, objid: WRITE_LOCK }]);
    const watch = other.client;
    let released = false;
    try {
      // The import needs no lock the other import holds exclusively: it runs to the end.
      const imp = start(['ledger', 'import', 'sales', csv('share-nov.csv', [sale('nov-1', '2026-11-03T10:00:00Z')]), '--db', db, '--json']);
      const done = await imp.done;
      expect(done.code, done.stderr).toBe(0);
      expect(JSON.parse(done.stdout)).toMatchObject({ imported: 1 });

      // The close waits for every import holding the write lock, whatever its month.
      let ended = false;
      const close = start(['payouts', 'close', '--period', '2026-10', '--db', db, '--json']);
      void close.done.then(() => (ended = true));
      await waitsFor(watch, database, LOCK_CLASS, WRITE_LOCK, () => ended);
      expect(ended).toBe(false);
      released = true;
      await other.release();
      const closed = await close.done;
      expect(closed.code, closed.stderr).toBe(0);
    } finally {
      if (!released) await other.release();
    }
    expect(await count(db)).toBe(2);
  }, 300_000);

  it('an import without refunds runs beside another sales import; one with refunds waits for it, of any month', async () => {
    const db = await ledger('sales');
    const database = new URL(db).pathname.slice(1);
    // Another sales import without refunds is at its checks: write lock and sales lock, both shared.
    const other = await holder(db, [
      { shared: true, classid: LOCK_CLASS, objid: WRITE_LOCK },
      { shared: true, classid: LOCK_CLASS, objid: SALES_LOCK },
    ]);
    let released = false;
    try {
      const dec = start(['ledger', 'import', 'sales', csv('sales-dec.csv', [sale('dec-1', '2026-12-01T10:00:00Z')]), '--db', db, '--json']);
      const decDone = await dec.done;
      expect(decDone.code, decDone.stderr).toBe(0);
      expect(JSON.parse(decDone.stdout)).toMatchObject({ imported: 1 });

      // A refund of a December sale: no month in common with October, and still it waits.
      let ended = false;
      const ref = start(['ledger', 'import', 'sales', csv('sales-ref.csv', [refund('dec-1-r', 'dec-1', '2026-12-05T10:00:00Z')]), '--db', db, '--json']);
      void ref.done.then(() => (ended = true));
      await waitsFor(other.client, database, LOCK_CLASS, SALES_LOCK, () => ended);
      expect(ended).toBe(false);
      released = true;
      await other.release();
      const refDone = await ref.done;
      expect(refDone.code, refDone.stderr).toBe(0);
      expect(JSON.parse(refDone.stdout)).toMatchObject({ imported: 1 });
    } finally {
      if (!released) await other.release();
    }
    expect(await count(db)).toBe(3);
  }, 300_000);

  it('an import without refunds waits while an import with refunds is at its checks', async () => {
    const db = await ledger('salesx');
    const database = new URL(db).pathname.slice(1);
    const other = await holder(db, [
      { shared: true, classid: LOCK_CLASS, objid: WRITE_LOCK },
      { shared: false, classid: LOCK_CLASS, objid: SALES_LOCK },
    ]);
    let released = false;
    try {
      let ended = false;
      const nov = start(['ledger', 'import', 'sales', csv('salesx-nov.csv', [sale('nov-1', '2026-11-03T10:00:00Z')]), '--db', db, '--json']);
      void nov.done.then(() => (ended = true));
      await waitsFor(other.client, database, LOCK_CLASS, SALES_LOCK, () => ended);
      expect(ended).toBe(false);
      released = true;
      await other.release();
      const novDone = await nov.done;
      expect(novDone.code, novDone.stderr).toBe(0);
      expect(JSON.parse(novDone.stdout)).toMatchObject({ imported: 1 });
    } finally {
      if (!released) await other.release();
    }
    expect(await count(db)).toBe(2);
  }, 300_000);
});
