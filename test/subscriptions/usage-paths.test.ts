// `ledger import usage` has two paths: a whole file on SQLite is checked once, at the end
// (usage-staged.ts: in-memory duplicate fingerprints, set-based lookups, one sorted insert);
// several files, or PostgreSQL, are checked chunk by chunk (usage.ts). Random sequences of
// small files — duplicates (of good and of bad rows, three times over), unknown packs, bad
// days and months, re-imports with the same and changed values, a closed month, with and
// without --quarantine — must give the same results, refusals, stored rows and quarantine
// on both, and on the whole-file path with a fingerprint that collides for every family
// (so every later row of a month and pack is settled by the exact comparison).
import { createHmac } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { openLedger } from '../../src/ledger/db.js';
import { runImport } from '../../src/ledger/import/index.js';
import { usageImporter } from '../../src/ledger/import/usage.js';
import { multiRowInsert } from '../../src/ledger/import/writer.js';
import type { PackopsError } from '../../src/shared/errors.js';
import { PACK_SLUGS, seedLedger } from '../ledger/seed.js';

let tmp: ReturnType<typeof tempDir>;
let template: string;
beforeAll(async () => {
  tmp = tempDir();
  // Seeded once (migrations, creators, packs), copied for every run.
  template = join(tmp.dir, 'template.db');
  await (await seedLedger(template)).close();
});
afterAll(() => tmp.cleanup());

const FAMILIES = ['fam-a', 'fam-b', 'fam-c', 'fam-d', ''];
const PACKS = [...PACK_SLUGS.slice(0, 3), 'nope'];
const MONTHS = ['2026-09', '2026-10', '2026-13'];

interface Row {
  family: string;
  pack: string;
  month: string;
  days: number;
}
type Step = { close: string } | { rows: Row[]; quarantine: boolean };

interface Variant {
  name: string;
  chunk?: boolean;
  fingerprint?: (h: string) => number;
}
const VARIANTS: Variant[] = [
  { name: 'chunk by chunk', chunk: true },
  { name: 'whole file' },
  { name: 'whole file, every fingerprint colliding', fingerprint: () => 7 },
  { name: 'whole file, fingerprints colliding by first digit', fingerprint: (h) => h.charCodeAt(0) & 1 },
];

let run = 0;
async function outcome(variant: Variant, steps: Step[]): Promise<unknown> {
  const id = run++;
  const path = join(tmp.dir, `l${id}.db`);
  copyFileSync(template, path);
  const ledger = await openLedger(path);
  try {
    const secret = await ledger.familySecret();
    const family = new Map(FAMILIES.map((f) => [createHmac('sha256', secret).update(f).digest('hex'), f]));
    const results: unknown[] = [];
    for (const [i, step] of steps.entries()) {
      if ('close' in step) {
        await ledger.db.insertInto('closed_periods').values({ month: step.close, closed_at: '2026-12-01T00:00:00.000Z', totals: null }).execute();
        continue;
      }
      const file = join(tmp.dir, `u${id}-${i}.csv`);
      writeFileSync(file, 'family_ref,pack,month,active_days\n' + step.rows.map((r) => `${r.family},${r.pack},${r.month},${r.days}\n`).join(''));
      const importer = usageImporter(secret, variant.fingerprint ? { fingerprint: variant.fingerprint } : {});
      try {
        const r = await runImport(ledger, importer, [file], { quarantine: step.quarantine, ...(variant.chunk ? { writer: multiRowInsert } : {}) });
        results.push({ imported: r.imported, skipped: r.skipped, updated: r.updated, quarantined: r.quarantined, rows: r.rows });
      } catch (err) {
        const e = err as PackopsError;
        results.push({ code: e.code, rows: (e.details as { rows: unknown[] } | undefined)?.rows });
      }
    }
    const usage = (await ledger.db.selectFrom('usage').select(['month', 'family_hmac', 'pack_slug', 'active_days']).execute())
      .map((u) => `${u.month} ${family.get(u.family_hmac)} ${u.pack_slug} ${u.active_days}`)
      .sort();
    const quarantine = (await ledger.db.selectFrom('quarantine').select(['row_number', 'code', 'reasons', 'raw']).where('kind', '=', 'usage').execute())
      .map((q) => JSON.stringify(q))
      .sort();
    return { results, usage, quarantine };
  } finally {
    await ledger.close();
  }
}

const rowArb = fc.record({
  family: fc.constantFrom(...FAMILIES),
  pack: fc.constantFrom(...PACKS),
  month: fc.constantFrom(...MONTHS),
  days: fc.integer({ min: 0, max: 31 }),
});
// Duplicates on purpose: a few rows, then some of them again (same or other days).
const fileArb = fc
  .tuple(fc.array(rowArb, { minLength: 1, maxLength: 10 }), fc.array(fc.tuple(fc.nat(), fc.option(fc.integer({ min: 1, max: 31 }))), { maxLength: 6 }))
  .map(([rows, again]) => {
    const out = [...rows];
    for (const [i, days] of again) {
      const r = rows[i % rows.length]!;
      out.push({ ...r, days: days ?? r.days });
    }
    return out;
  });
const stepsArb = fc.tuple(
  fc.array(fc.record({ rows: fileArb, quarantine: fc.boolean() }), { minLength: 1, maxLength: 2 }),
  fc.boolean(),
  fc.array(fc.record({ rows: fileArb, quarantine: fc.boolean() }), { minLength: 1, maxLength: 2 }),
).map(([before, close, after]): Step[] => [...before, ...(close ? [{ close: '2026-09' }] : []), ...after]);

describe('ledger import usage: the whole-file path decides as the chunk path does', () => {
  it('a hand-made file: duplicates of good and bad rows, three times over, unknown pack, closed month', async () => {
    const good = (family: string, pack: string, month: string, days: number): Row => ({ family, pack, month, days });
    const p = PACK_SLUGS;
    const steps: Step[] = [
      { rows: [good('fam-a', p[0], '2026-09', 3), good('fam-b', p[1], '2026-09', 4)], quarantine: false },
      { close: '2026-09' },
      {
        rows: [
          good('fam-a', p[0], '2026-10', 5),
          good('fam-a', p[0], '2026-10', 6), // duplicate of a good row
          good('fam-b', p[0], '2026-10', 40), // bad days
          good('fam-b', p[0], '2026-10', 4), // duplicate of a bad row
          good('fam-a', p[0], '2026-10', 5), // third time
          good('fam-c', 'nope', '2026-10', 2),
          good('fam-a', p[0], '2026-09', 3), // closed month, same value: skipped
        ],
        quarantine: true,
      },
      { rows: [good('fam-b', p[1], '2026-09', 5), good('fam-c', p[1], '2026-10', 1)], quarantine: true }, // changed in a closed month
      { rows: [good('fam-a', p[0], '2026-10', 9), good('fam-d', p[2], '2026-10', 2)], quarantine: false }, // updated + new
    ];
    const [chunk, ...others] = await Promise.all(VARIANTS.map((v) => outcome(v, steps)));
    expect(chunk).toMatchObject({
      results: [
        { imported: 2 },
        { imported: 1, skipped: 1, quarantined: 5 },
        { code: 'PERIOD_CLOSED', rows: [{ row: 2, code: 'PERIOD_CLOSED' }] },
        { imported: 1, updated: 1 },
      ],
    });
    for (const o of others) expect(o).toEqual(chunk);
  });

  it('random files and sequences', async () => {
    await fc.assert(
      fc.asyncProperty(stepsArb, async (steps) => {
        const [chunk, ...others] = await Promise.all(VARIANTS.map((v) => outcome(v, steps)));
        for (const o of others) expect(o).toEqual(chunk);
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});
