// Unit tests of the shared import pipeline with a minimal importer of its own: what every
// importer gets without asking (the closed-month gate inside the write transaction,
// several inputs in one transaction, a reader of its own, summary fields).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { tempDir } from '../helpers/cli.js';
import type { Ledger } from '../../src/ledger/db.js';
import { runImport, type Importer } from '../../src/ledger/import/index.js';
import { readRecords } from '../../src/ledger/records.js';
import { count, refusal, seedLedger } from './seed.js';

let tmp: ReturnType<typeof tempDir>;
let ledger: Ledger;
beforeEach(async () => {
  tmp = tempDir();
  ledger = await seedLedger(join(tmp.dir, 'l.db'));
});
afterEach(async () => {
  await ledger.close();
  tmp.cleanup();
});

interface Review {
  id: string;
  at: string;
}

/** Reviews with no rules at all: not even a closed-month check of its own. */
function carelessImporter(extra: Partial<Importer<Review>> = {}): Importer<Review> {
  let seen = 0;
  return {
    kind: 'reviews',
    columns: { required: ['review_id', 'reviewed_at'], optional: [] },
    table: 'reviews',
    insertColumns: ['review_id', 'pack_slug', 'rating', 'reviewed_at', 'month', 'batch_id'],
    async init() {},
    parse: (rec) => ({ parsed: { id: String(rec.cells[0]), at: String(rec.cells[1]) }, problems: [] }),
    async check(_ctx, items) {
      for (const it of items) it.action = 'insert';
      seen += items.length;
    },
    period: (p) => ({ column: 'reviewed_at', month: p.at.slice(0, 7) }),
    values: (p, batch) => [p.id, 'ocean-creatures', 5, p.at, p.at.slice(0, 7), batch],
    summary: () => ({ seen }),
    ...extra,
  };
}

function write(name: string, text: string): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, text);
  return path;
}

describe('runImport', () => {
  it('refuses a row dated in a closed month even when the importer never checks (PERIOD_CLOSED, nothing written)', async () => {
    await ledger.db.insertInto('closed_periods').values({ month: '2026-09', closed_at: '2026-10-01T00:00:00Z', totals: null }).execute();
    const file = write('r.csv', 'review_id,reviewed_at\nr1,2026-10-02T00:00:00Z\nr2,2026-08-30T00:00:00Z\n');
    const err = await refusal<{ code: string; exitCode: number; details: { rows: Array<{ row: number; column: string }> } }>(
      runImport(ledger, carelessImporter(), [file], { quarantine: true }),
    );
    expect(err).toMatchObject({ code: 'PERIOD_CLOSED', exitCode: 4 });
    expect(err.details.rows).toMatchObject([{ row: 3, column: 'reviewed_at' }]);
    expect(await count(ledger, 'reviews')).toBe(0);
    expect(await count(ledger, 'import_batches')).toBe(0);
  });

  it('imports several inputs in one transaction, one batch each, with the importer summary fields', async () => {
    const a = write('a.csv', 'review_id,reviewed_at\na1,2026-10-02T00:00:00Z\n');
    const b = write('b.jsonl', '{"review_id":"b1","reviewed_at":"2026-10-03T00:00:00Z"}\n{"review_id":"b2","reviewed_at":"2026-10-03T00:00:00Z"}\n');
    const r = await runImport(ledger, carelessImporter(), [a, b]);
    expect(r).toMatchObject({ ok: true, rows: 3, imported: 3, extra: { seen: 3 } });
    expect(r.files.map((f) => [f.format, f.rows])).toEqual([['csv', 1], ['jsonl', 2]]);
    expect(new Set(r.files.map((f) => f.batch)).size).toBe(2);
    expect(await count(ledger, 'import_batches')).toBe(2);
    // One bad input refuses them all.
    const bad = write('bad.csv', 'review_id,reviewed_at\nc1,2026-10-02T00:00:00Z\nc2\n');
    await expect(runImport(ledger, carelessImporter(), [write('c.csv', 'review_id,reviewed_at\nc0,2026-10-02T00:00:00Z\n'), bad])).rejects.toMatchObject({
      code: 'ROWS_INVALID',
      details: { files: [expect.stringContaining('c.csv'), bad], rows: [{ row: 3, file: bad }] },
    });
    expect(await count(ledger, 'reviews')).toBe(3);
  });

  it('takes a reader of the importer\'s own (a decoded container) and still records the file hash', async () => {
    const file = write('upper.txt', 'REVIEW_ID,REVIEWED_AT\nu1,2026-10-02T00:00:00Z\n');
    const importer = carelessImporter({
      async *read(input) {
        input.format = 'upper-csv';
        const text = await new Response(Readable.toWeb(input.open()) as ReadableStream).text();
        const lower = text.replace(/^[^\n]*/, (h) => h.toLowerCase());
        yield* readRecords(input.file, Readable.from([Buffer.from(lower)]), {
          format: 'csv',
          columns: { required: ['review_id', 'reviewed_at'], optional: [] },
          chunkSize: 10,
        });
      },
    });
    const r = await runImport(ledger, importer, [file]);
    expect(r.files[0]).toMatchObject({ format: 'upper-csv', imported: 1 });
    expect(r.files[0]!.sha256).toBe(createHash('sha256').update('REVIEW_ID,REVIEWED_AT\nu1,2026-10-02T00:00:00Z\n').digest('hex'));
  });
});
