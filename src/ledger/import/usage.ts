/**
 * `ledger import usage` (PRODUCT.md §14): family_ref,pack,month,active_days — the days of a
 * month on which a family opened a pack. One row per family, pack and month: a second in
 * one file is ROW_DUPLICATE_IN_FILE; the same value again is skipped; a new value for an
 * open month replaces the stored one (`updated`); for a closed month it is PERIOD_CLOSED
 * (the pipeline's gate). family_ref is stored only as the same HMAC as sales.
 */
import { daysInMonth } from '../../shared/period.js';
import { cellText, integerInRange, month, requiredText } from '../fields.js';
import { collect, type Importer } from './pipeline.js';
import { familyHasher } from './sales.js';

interface UsageParsed {
  family: string;
  pack: string;
  month: string;
  activeDays: number;
  key: string;
}

const key = (m: string, family: string, pack: string) => `${m}\u0000${family}\u0000${pack}`;

export function usageImporter(secret: Buffer): Importer<UsageParsed> {
  const hmac = familyHasher(secret);
  let packs = new Set<string>();
  // Rows of this file that were not written (bad, or the same value already stored), with
  // their row: a later copy in the file is a duplicate. Written rows carry this batch's id,
  // so the ledger itself answers for them.
  const notWritten = new Map<string, number>();
  return {
    kind: 'usage',
    columns: { required: ['family_ref', 'pack', 'month', 'active_days'], optional: [] },
    table: 'usage',
    insertColumns: ['month', 'family_hmac', 'pack_slug', 'active_days', 'batch_id'],
    async init({ trx }) {
      packs = new Set((await trx.selectFrom('packs').select('slug').distinct().execute()).map((r) => r.slug));
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
      const parsed = { family: h, pack: pack.value, month: m.value, activeDays: days.ok ? days.value : 0, key: key(m.value, h, pack.value) };
      if (!days.ok && m.ok) {
        const text = cellText(vDays).trim();
        if (/^\d+$/.test(text) && Number(text) > daysInMonth(m.value)) problems[problems.length - 1]!.message = `active_days is ${text}, but ${m.value} has ${daysInMonth(m.value)} days.`;
      }
      return { parsed, problems };
    },
    async check({ trx, batch }, items) {
      // One indexed lookup per month in the chunk: (month, family_hmac) is the key's prefix.
      const byMonth = new Map<string, Set<string>>();
      for (const it of items) {
        const p = it.parsed;
        if (!p) continue;
        let fams = byMonth.get(p.month);
        if (!fams) byMonth.set(p.month, (fams = new Set()));
        fams.add(p.family);
      }
      const stored = new Map<string, { days: number; batch: string }>();
      for (const [m, fams] of byMonth) {
        const rows = await trx
          .selectFrom('usage')
          .select(['family_hmac', 'pack_slug', 'active_days', 'batch_id'])
          .where('month', '=', m)
          .where('family_hmac', 'in', [...fams])
          .execute();
        for (const r of rows) stored.set(key(m, r.family_hmac, r.pack_slug), { days: Number(r.active_days), batch: r.batch_id });
      }
      const inChunk = new Map<string, number>();
      for (const it of items) {
        const p = it.parsed;
        if (!p) continue;
        const prior = stored.get(p.key);
        const first = inChunk.get(p.key) ?? notWritten.get(p.key);
        if (first !== undefined || prior?.batch === batch) {
          it.problems.push({
            column: 'family_ref',
            code: 'ROW_DUPLICATE_IN_FILE',
            message: `This family's usage of ${p.pack} in ${p.month} already appears ${first === undefined ? 'earlier in this file' : `in row ${first}`}; one row per family, pack and month.`,
          });
          continue;
        }
        inChunk.set(p.key, it.rec.row);
        if (it.problems.length > 0) {
          notWritten.set(p.key, it.rec.row);
          continue;
        }
        if (!packs.has(p.pack)) {
          it.problems.push({ column: 'pack', code: 'ROW_PRODUCT_UNKNOWN', message: `No pack "${p.pack}" is registered in the ledger.` });
          notWritten.set(p.key, it.rec.row);
          continue;
        }
        if (prior && prior.days === p.activeDays) {
          it.action = 'skip';
          notWritten.set(p.key, it.rec.row);
        } else {
          it.action = prior ? 'update' : 'insert';
        }
      }
    },
    period: (p) => ({ column: 'active_days', month: p.month }),
    values(p, batch) {
      return [p.month, p.family, p.pack, p.activeDays, batch];
    },
    async update({ trx, batch }, p) {
      await trx
        .updateTable('usage')
        .set({ active_days: p.activeDays, batch_id: batch })
        .where('month', '=', p.month)
        .where('family_hmac', '=', p.family)
        .where('pack_slug', '=', p.pack)
        .execute();
    },
  };
}
