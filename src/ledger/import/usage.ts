/**
 * `ledger import usage` (PRODUCT.md §14): family_ref,pack,month,active_days — the days of a
 * month on which a family opened a pack. One row per family, pack and month: a second in
 * one file is ROW_DUPLICATE_IN_FILE; the same value again is skipped; a new value for an
 * open month replaces the stored one (`updated`); for a closed month it is PERIOD_CLOSED
 * (the pipeline's gate). family_ref is stored only as the same HMAC as sales.
 */
import { sql, type Kysely } from 'kysely';
import { daysInMonth } from '../../shared/period.js';
import { cellText, integerInRange, month, requiredText } from '../fields.js';
import { int, text } from '../migrations/types.js';
import type { LedgerDB, UsageTable } from '../schema.js';
import { collect, type Importer } from './pipeline.js';
import { familyHasher } from './sales.js';
import type { Tx } from './types.js';
import { stagedUsage, type UsageRow } from './usage-staged.js';

interface UsageParsed extends UsageRow {
  /** The row's (month, family, pack) as one string: set by the chunk path's check. */
  key?: string;
  /** The first 52 bits of the family's HMAC: the staging table's lookup key (chunk path). */
  familyKey?: number;
  /** Set when the stored row to replace is one staged by an earlier file of this import. */
  staged?: boolean;
}

/**
 * One file on SQLite goes through the whole-file path (usage-staged.ts). Otherwise (several
 * files, or PostgreSQL) rows are checked chunk by chunk here:
 * accepted rows are staged in a TEMP table in file order (appends only) and moved into
 * `usage` once, sorted by its primary key, at the end of the import: inserting them where
 * they arrive would write the key's B-tree at random places (the family HMACs are random),
 * which at 600,000 rows cost more than everything else the import does. The staging table
 * is found by an integer key (`family_key`), so its index stays a few MB however large the
 * file; the rows found are then compared exactly.
 */
const STAGE = 'usage_stage';
interface StageTable extends UsageTable {
  family_key: number;
}
type StageDB = LedgerDB & { usage_stage: StageTable };
const stageOf = (trx: Tx) => trx.withTables<{ usage_stage: StageTable }>() as unknown as Kysely<StageDB>;

const key = (m: string, family: string, pack: string) => `${m}\u0000${family}\u0000${pack}`;
const familyKey = (hmacHex: string) => Number.parseInt(hmacHex.slice(0, 13), 16);

async function createStage(trx: Tx): Promise<void> {
  const db = stageOf(trx);
  await db.schema.dropTable(STAGE).ifExists().execute();
  await db.schema
    .createTable(STAGE)
    .temporary()
    .addColumn('month', text(db), (c) => c.notNull())
    .addColumn('family_hmac', text(db), (c) => c.notNull())
    .addColumn('pack_slug', text(db), (c) => c.notNull())
    .addColumn('active_days', int(db), (c) => c.notNull())
    .addColumn('batch_id', text(db), (c) => c.notNull())
    .addColumn('family_key', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex(`${STAGE}_family_key`).on(STAGE).column('family_key').execute();
}

/** `fingerprint`: the whole-file path's duplicate fingerprint (tests pass a constant one). */
export function usageImporter(secret: Buffer, options: { fingerprint?: (hmacHex: string) => number } = {}): Importer<UsageParsed> {
  const hmac = familyHasher(secret);
  let packs = new Set<string>();
  // Months that held usage before this import (only they can hold a row to skip or replace).
  const storedMonths = new Map<string, boolean>();
  // Rows of this file that were not written (bad, or the same value already stored), with
  // their row: a later copy in the file is a duplicate. Written rows carry this batch's id,
  // so the ledger itself (the staging table, or a replaced row) answers for them.
  const notWritten = new Map<string, number>();
  let wholeFile = false;
  return {
    kind: 'usage',
    columns: { required: ['family_ref', 'pack', 'month', 'active_days'], optional: [] },
    table: STAGE as keyof LedgerDB,
    insertColumns: ['month', 'family_hmac', 'pack_slug', 'active_days', 'batch_id', 'family_key'],
    async init({ trx }) {
      packs = new Set((await trx.selectFrom('packs').select('slug').distinct().execute()).map((r) => r.slug));
      if (!wholeFile) await createStage(trx);
    },
    staged(ledger) {
      if (ledger.pg) return undefined;
      wholeFile = true;
      return stagedUsage({ packs: () => packs, ...(options.fingerprint ? { fingerprint: options.fingerprint } : {}) });
    },
    parse(rec) {
      const [vFamily, vPack, vMonth, vDays] = rec.cells;
      const family = requiredText('family_ref', vFamily, 500);
      const pack = requiredText('pack', vPack);
      const m = month('month', vMonth);
      const days = integerInRange('active_days', vDays, 1, m.ok ? daysInMonth(m.value) : 31);
      const problems = collect(family, pack, m, days);
      if (!family.ok || !pack.ok || !m.ok) return { problems };
      const h = hmac(family.value);
      const parsed: UsageParsed = { family: h, pack: pack.value, month: m.value, activeDays: days.ok ? days.value : 0 };
      if (!days.ok && m.ok) {
        const text = cellText(vDays).trim();
        if (/^\d+$/.test(text) && Number(text) > daysInMonth(m.value)) problems[problems.length - 1]!.message = `active_days is ${text}, but ${m.value} has ${daysInMonth(m.value)} days.`;
      }
      return { parsed, problems };
    },
    async check({ trx, batch }, items) {
      // Rows already in the ledger: one indexed lookup per month in the chunk, (month,
      // family_hmac) being the key's prefix; none for a month the ledger holds no usage of.
      const byMonth = new Map<string, Set<string>>();
      const familyKeys = new Set<number>();
      for (const it of items) {
        const p = it.parsed;
        if (!p) continue;
        p.key = key(p.month, p.family, p.pack);
        p.familyKey = familyKey(p.family);
        familyKeys.add(p.familyKey);
        let fams = byMonth.get(p.month);
        if (!fams) byMonth.set(p.month, (fams = new Set()));
        fams.add(p.family);
      }
      const stored = new Map<string, { days: number; batch: string; staged: boolean }>();
      for (const [m, fams] of byMonth) {
        let any = storedMonths.get(m);
        if (any === undefined) {
          any = (await trx.selectFrom('usage').select('month').where('month', '=', m).limit(1).executeTakeFirst()) !== undefined;
          storedMonths.set(m, any);
        }
        if (!any) continue;
        const rows = await trx
          .selectFrom('usage')
          .select(['family_hmac', 'pack_slug', 'active_days', 'batch_id'])
          .where('month', '=', m)
          .where('family_hmac', 'in', [...fams])
          .execute();
        for (const r of rows) stored.set(key(m, r.family_hmac, r.pack_slug), { days: Number(r.active_days), batch: r.batch_id, staged: false });
      }
      // Rows this import staged (from this file or an earlier one).
      if (familyKeys.size > 0) {
        const rows = await stageOf(trx)
          .selectFrom(STAGE)
          .select(['month', 'family_hmac', 'pack_slug', 'active_days', 'batch_id'])
          .where('family_key', 'in', [...familyKeys])
          .execute();
        for (const r of rows) stored.set(key(r.month, r.family_hmac, r.pack_slug), { days: Number(r.active_days), batch: r.batch_id, staged: true });
      }
      const inChunk = new Map<string, number>();
      for (const it of items) {
        const p = it.parsed;
        if (!p) continue;
        const k = p.key!;
        const prior = stored.get(k);
        const first = inChunk.get(k) ?? notWritten.get(k);
        if (first !== undefined || prior?.batch === batch) {
          it.problems.push({
            column: 'family_ref',
            code: 'ROW_DUPLICATE_IN_FILE',
            message: `This family's usage of ${p.pack} in ${p.month} already appears ${first === undefined ? 'earlier in this file' : `in row ${first}`}; one row per family, pack and month.`,
          });
          continue;
        }
        inChunk.set(k, it.rec.row);
        if (it.problems.length > 0) {
          notWritten.set(k, it.rec.row);
          continue;
        }
        if (!packs.has(p.pack)) {
          it.problems.push({ column: 'pack', code: 'ROW_PRODUCT_UNKNOWN', message: `No pack "${p.pack}" is registered in the ledger.` });
          notWritten.set(k, it.rec.row);
          continue;
        }
        if (prior && prior.days === p.activeDays) {
          it.action = 'skip';
          notWritten.set(k, it.rec.row);
        } else if (prior) {
          it.action = 'update';
          if (prior.staged) p.staged = true;
        } else {
          it.action = 'insert';
        }
      }
    },
    period: (p) => ({ column: 'active_days', month: p.month }),
    values(p, batch) {
      return [p.month, p.family, p.pack, p.activeDays, batch, p.familyKey!];
    },
    async update({ trx, batch }, p) {
      if (p.staged) {
        await stageOf(trx)
          .updateTable(STAGE)
          .set({ active_days: p.activeDays, batch_id: batch })
          .where('family_key', '=', p.familyKey!)
          .where('month', '=', p.month)
          .where('family_hmac', '=', p.family)
          .where('pack_slug', '=', p.pack)
          .execute();
        return;
      }
      await trx
        .updateTable('usage')
        .set({ active_days: p.activeDays, batch_id: batch })
        .where('month', '=', p.month)
        .where('family_hmac', '=', p.family)
        .where('pack_slug', '=', p.pack)
        .execute();
    },
    async finish({ trx }) {
      if (wholeFile) return;
      // One sorted pass into the ledger table. (ON CONFLICT: PostgreSQL writers do not
      // share SQLite's one write lock; a row another import stored meanwhile is kept, as
      // the COPY writer does. `WHERE true` lets SQLite parse the upsert after a SELECT.)
      await sql`insert into usage (month, family_hmac, pack_slug, active_days, batch_id)
        select month, family_hmac, pack_slug, active_days, batch_id from ${sql.table(STAGE)} where true
        order by month, family_hmac, pack_slug
        on conflict do nothing`.execute(trx);
      await stageOf(trx).schema.dropTable(STAGE).execute();
    },
  };
}
