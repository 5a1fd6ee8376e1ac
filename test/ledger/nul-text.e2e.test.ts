// U+0000 (NUL) in text the ledger stores: PostgreSQL's TEXT cannot hold it, so both backends
// refuse it alike before anything is written — a review id (the identifier check of ids.ts),
// a creator's or collaboration's name, a payoutRef (an identifier: no controls either) —
// with ROW_INVALID / CREATORS_INVALID, exit 3, never exit 70. A SQLite ledger that already
// holds such text copies into PostgreSQL as a clear refusal (LEDGER_TEXT_INVALID, exit 3),
// nothing kept.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt, ON_POSTGRES, rawQuery } from '../helpers/ledgers.js';
import { seedLedger } from './seed.js';

let tmp: ReturnType<typeof tempDir>;
let db: string;

beforeAll(async () => {
  tmp = tempDir('packops-nul-');
  db = await ledgerAt(tmp.dir, 'ledger.db');
  await (await seedLedger(db)).close();
}, 120_000);
afterAll(() => tmp.cleanup());

const cli = (args: string[]) => runCli([...args, '--db', db, '--json'], { cwd: tmp.dir });

describe('NUL and control characters in stored text', () => {
  it('a review id holding NUL is ROW_INVALID (exit 3); with --quarantine the row is set aside, nothing stored', async () => {
    writeFileSync(join(tmp.dir, 'reviews.csv'), 'review_id,pack,rating,reviewed_at\nrv\u00001,ocean-creatures,5,2026-10-03T10:00:00Z\nrv-2,ocean-creatures,4,2026-10-03T11:00:00Z\n');
    const r = await cli(['ledger', 'import', 'reviews', 'reviews.csv']);
    expect(r.code, r.stderr).toBe(3);
    const error = r.json().error;
    expect(error.code).toBe('ROWS_INVALID');
    expect(error.details.rows).toEqual([expect.objectContaining({ row: 2, column: 'review_id', code: 'ROW_INVALID', message: expect.stringContaining('U+0000') })]);
    expect(await rawQuery(db, 'SELECT review_id FROM reviews')).toEqual([]);

    const q = await cli(['ledger', 'import', 'reviews', 'reviews.csv', '--quarantine']);
    expect(q.code, q.stderr).toBe(0);
    expect(q.json()).toMatchObject({ imported: 1, quarantined: 1 });
    expect(await rawQuery(db, 'SELECT review_id FROM reviews')).toEqual([{ review_id: 'rv-2' }]);
  });

  it('a pack cell holding NUL is ROW_INVALID too (every required text cell)', async () => {
    writeFileSync(join(tmp.dir, 'reviews-pack.csv'), 'review_id,pack,rating,reviewed_at\nrv-3,ocean\u0000-creatures,5,2026-10-03T10:00:00Z\n');
    const r = await cli(['ledger', 'import', 'reviews', 'reviews-pack.csv']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.json().error.details.rows).toEqual([expect.objectContaining({ column: 'pack', code: 'ROW_INVALID', message: expect.stringContaining('U+0000') })]);
  });

  it('a creator or collaboration name holding NUL, a payoutRef holding NUL or another control: CREATORS_INVALID (exit 3), TEXT_INVALID at each pointer', async () => {
    const before = await rawQuery(db, 'SELECT id, name, payout_ref FROM creators ORDER BY id');
    writeFileSync(
      join(tmp.dir, 'creators.json'),
      JSON.stringify({
        creators: [
          { id: 'nul-name', name: 'A\u0000B', payoutRef: 'acct\u0000-1' },
          { id: 'bell-ref', name: 'Bell', payoutRef: 'acct\u0007-2' },
          { id: 'zwsp-ref', name: 'Zed', payoutRef: 'acct\u200b-3' },
          { id: 'fine-one', name: 'Fine\tName', payoutRef: 'acct 004' },
        ],
        collaborations: [{ id: 'nul-collab', name: 'Duo\u0000', lead: 'fine-one', members: [{ creator: 'fine-one', sharePercent: '100' }] }],
      }),
    );
    const r = await cli(['creators', 'import', 'creators.json']);
    expect(r.code, r.stderr).toBe(3);
    const error = r.json().error;
    expect(error.code).toBe('CREATORS_INVALID');
    expect(error.details.problems.map((p: { code: string; pointer: string }) => [p.code, p.pointer])).toEqual([
      ['TEXT_INVALID', '/creators/0/name'],
      ['TEXT_INVALID', '/creators/0/payoutRef'],
      ['TEXT_INVALID', '/creators/1/payoutRef'],
      ['TEXT_INVALID', '/creators/2/payoutRef'],
      ['TEXT_INVALID', '/collaborations/0/name'],
    ]);
    expect(r.stdout).not.toContain('\\u0000');
    expect(await rawQuery(db, 'SELECT id, name, payout_ref FROM creators ORDER BY id')).toEqual(before);
  });

  it('ledger copy of a SQLite ledger holding NUL text: into PostgreSQL a clear refusal (exit 3, nothing kept), into SQLite a faithful copy', async () => {
    const src = join(tmp.dir, 'nul-source.db');
    await (await seedLedger(src)).close();
    await rawQuery(src, "UPDATE creators SET name = 'Ana' || char(0) || 'Lima' WHERE id = 'ana-lima'");
    const target = await ledgerAt(tmp.dir, 'nul-target.db');
    const r = await runCli(['ledger', 'copy', src, target, '--json'], { cwd: tmp.dir });
    if (ON_POSTGRES) {
      expect(r.code, r.stderr).toBe(3);
      expect(r.json().error).toMatchObject({ code: 'LEDGER_TEXT_INVALID', details: { sqlstate: '22021' } });
      expect(await rawQuery(target, 'SELECT count(*) AS n FROM creators')).toEqual([{ n: 0 }]);
    } else {
      expect(r.code, r.stderr).toBe(0);
      expect(await rawQuery(target, "SELECT hex(name) AS h FROM creators WHERE id = 'ana-lima'")).toEqual([{ h: '416E61004C696D61' }]);
    }
  });
});
