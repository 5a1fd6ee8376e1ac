/**
 * The whole-file path of `ledger import usage` on SQLite (one input): the same rules as the
 * chunk-by-chunk path in usage.ts, decided once for the whole file instead of per chunk.
 *
 * - Every row whose family, pack and month parsed is appended to a TEMP table in row order
 *   (its rowid is the row number: appends only, no index to keep).
 * - Duplicates in the file are found in memory by a small integer fingerprint per (month,
 *   pack) of the family HMAC: the first row of each fingerprint is remembered (two numbers),
 *   and a later row with the same fingerprint is a candidate, settled exactly at the end by
 *   comparing the family HMACs the TEMP table holds for the rows before it. Memory grows by
 *   a Map entry per row, never by the row itself.
 * - At the end: rows whose stored value is the same are skipped, rows new or changed in a
 *   closed month are PERIOD_CLOSED, changed rows of open months are updated, and the new
 *   rows go into `usage` in ONE INSERT … SELECT sorted by its primary key, so the B-tree is
 *   written in order instead of at random places (the family HMACs are random). None of
 *   the lookups run when no month of the file holds usage yet.
 *
 * PostgreSQL, and several files in one import, keep the chunk path (whose rows from earlier
 * files of the same import must answer lookups as they go).
 */
import { sql } from 'kysely';
import { withCloseLock } from '../close-lock.js';
import type { LedgerDB } from '../schema.js';
import type { ImportContext, Item, StagedPath } from './pipeline.js';
import type { RowWriter, Tx } from './types.js';
import { multiRowInsert } from './writer.js';

/** What the importer's parse gives (usage.ts). */
export interface UsageRow {
  family: string;
  pack: string;
  month: string;
  activeDays: number;
}

const FILE = 'usage_file';
const COLUMNS = ['file_row', 'month', 'family_hmac', 'pack_slug', 'active_days', 'state'] as const;

/** Row states in the TEMP table. */
const enum State {
  /** Not written: bad (its problems are reported), or kept only to answer duplicate checks. */
  Bad = 0,
  /** To insert, or to update when the ledger holds another value. */
  Write = 1,
  /** Dated in a closed month: refused unless the ledger holds the same value. */
  Closed = 2,
  /** The ledger holds the same value: skipped. */
  Same = 3,
  /** The ledger holds another value: updated. */
  Changed = 4,
}

/** A small integer fingerprint of a family HMAC (lowercase hex): its first 7 digits, 28 bits (a V8 small integer). */
export function hmacFingerprint(hmacHex: string): number {
  let v = 0;
  for (let i = 0; i < 7; i++) {
    const c = hmacHex.charCodeAt(i);
    v = (v << 4) | (c <= 57 ? c - 48 : c - 87); // '0'-'9', 'a'-'f'
  }
  return v;
}

export interface StagedUsageOptions {
  /** Pack slugs the ledger knows (ROW_PRODUCT_UNKNOWN otherwise). */
  packs: () => ReadonlySet<string>;
  /** The fingerprint (tests pass a constant one, so that every row is a candidate). */
  fingerprint?: (hmacHex: string) => number;
}

export function stagedUsage(options: StagedUsageOptions): StagedPath<UsageRow> {
  const fingerprint = options.fingerprint ?? hmacFingerprint;
  // Per month, per pack: fingerprint → the first row with it (or every such row that is a
  // distinct family, once candidates are settled).
  const firsts = new Map<string, Map<string, Map<number, number | number[]>>>();
  const bucketOf = (month: string, pack: string): Map<number, number | number[]> => {
    let byPack = firsts.get(month);
    if (!byPack) firsts.set(month, (byPack = new Map()));
    let bucket = byPack.get(pack);
    if (!bucket) byPack.set(pack, (bucket = new Map()));
    return bucket;
  };
  const candidates: Array<Item<UsageRow>> = [];
  const bad: Array<Item<UsageRow>> = [];
  const months = new Set<string>();
  let writer: RowWriter | undefined;
  let trxOf: Tx | undefined;

  const stage = async (ctx: ImportContext, item: Item<UsageRow>): Promise<void> => {
    const p = item.parsed!;
    let state = State.Write;
    if (item.problems.length === 0 && !options.packs().has(p.pack)) {
      item.problems.push({ column: 'pack', code: 'ROW_PRODUCT_UNKNOWN', message: `No pack "${p.pack}" is registered in the ledger.` });
    }
    if (item.problems.length > 0) {
      bad.push(item);
      state = State.Bad;
    } else {
      if (!months.has(p.month)) {
        await withCloseLock(ctx.trx, p.month); // the write transaction itself on SQLite
        months.add(p.month);
      }
      if (ctx.closed.has(p.month)) state = State.Closed;
    }
    if (trxOf !== ctx.trx || !writer) {
      trxOf = ctx.trx;
      writer = multiRowInsert(ctx.trx, FILE as keyof LedgerDB, COLUMNS);
    }
    await writer.add([item.rec.row, p.month, p.family, p.pack, p.activeDays, state]);
  };

  return {
    beforeBegin() {},

    async add(ctx, items) {
      if (trxOf !== ctx.trx) {
        await sql`drop table if exists temp.${sql.id(FILE)}`.execute(ctx.trx);
        await sql`create temp table ${sql.id(FILE)} (
          file_row integer primary key, month text not null, family_hmac text not null,
          pack_slug text not null, active_days integer not null, state integer not null)`.execute(ctx.trx);
      }
      for (const item of items) {
        const p = item.parsed;
        if (!p) {
          if (item.problems.length > 0) bad.push(item);
          continue;
        }
        const bucket = bucketOf(p.month, p.pack);
        const fp = fingerprint(p.family);
        if (bucket.has(fp)) {
          candidates.push(item); // settled at the end, in row order
          continue;
        }
        bucket.set(fp, item.rec.row);
        await stage(ctx, item);
      }
    },

    async settle(ctx) {
      const trx = ctx.trx;
      if (trxOf !== trx) return { bad: bad.sort(byRow), imported: 0, skipped: 0, updated: 0 }; // no record had a key
      await writer!.flush();

      // Candidates, in row order: a duplicate if an earlier first row of the same month, pack
      // and fingerprint is the same family; otherwise a first row of its own.
      for (const item of candidates) {
        const p = item.parsed!;
        const bucket = bucketOf(p.month, p.pack);
        const fp = fingerprint(p.family);
        const before = bucket.get(fp)!;
        const rows = typeof before === 'number' ? [before] : before;
        await writer!.flush(); // a candidate staged just before may be the one it repeats
        const found = await sql<{ row: number }>`select file_row as row from temp.${sql.id(FILE)}
          where file_row in (${sql.join(rows)}) and family_hmac = ${p.family} order by file_row limit 1`.execute(trx);
        const first = found.rows[0]?.row;
        if (first !== undefined) {
          item.problems.push({
            column: 'family_ref',
            code: 'ROW_DUPLICATE_IN_FILE',
            message: `This family's usage of ${p.pack} in ${p.month} already appears in row ${first}; one row per family, pack and month.`,
          });
          bad.push(item);
          continue;
        }
        bucket.set(fp, [...rows, item.rec.row]);
        await stage(ctx, item);
      }
      await writer!.flush();
      firsts.clear();

      const file = sql.id(FILE);
      const monthList = [...months];
      const stored: string[] = [];
      for (const m of monthList) {
        if ((await trx.selectFrom('usage').select('month').where('month', '=', m).limit(1).executeTakeFirst()) !== undefined) stored.push(m);
      }
      const sameKey = sql`u.month = f.month and u.family_hmac = f.family_hmac and u.pack_slug = f.pack_slug`;
      let skipped = 0;
      if (stored.length > 0) {
        const r = await sql`update temp.${file} as f set state = ${State.Same}
          where state in (${State.Write}, ${State.Closed}) and month in (${sql.join(stored)})
          and exists (select 1 from main.usage u where ${sameKey} and u.active_days = f.active_days)`.execute(trx);
        skipped = Number(r.numAffectedRows ?? 0n);
      }
      // New or changed rows of a closed month refuse the import (the pipeline throws
      // PERIOD_CLOSED whatever --quarantine says; only the row and month are reported).
      const closed = await sql<{ row: number; month: string }>`select file_row as row, month from temp.${file}
        where state = ${State.Closed} order by file_row`.execute(trx);
      for (const r of closed.rows) {
        bad.push({ rec: { row: r.row, cells: [] }, problems: [ctx.closed.problem('active_days', r.month)] });
      }
      bad.sort(byRow);

      let imported = 0;
      let updated = 0;
      // A refused import writes nothing (its transaction is rolled back); skip the work.
      if (closed.rows.length === 0 && (bad.length === 0 || ctx.quarantine)) {
        if (stored.length > 0) {
          const marked = await sql`update temp.${file} as f set state = ${State.Changed}
            where state = ${State.Write} and month in (${sql.join(stored)})
            and exists (select 1 from main.usage u where ${sameKey})`.execute(trx);
          updated = Number(marked.numAffectedRows ?? 0n);
          if (updated > 0) {
            const r = await sql`update main.usage as u set active_days = f.active_days, batch_id = ${ctx.batch}
              from temp.${file} as f where f.state = ${State.Changed} and ${sameKey}`.execute(trx);
            if (Number(r.numAffectedRows ?? 0n) !== updated) throw new Error(`usage: ${updated} rows to update, ${String(r.numAffectedRows)} updated`);
          }
        }
        const expected = await sql<{ n: number }>`select count(*) as n from temp.${file} where state = ${State.Write}`.execute(trx);
        // One pass in primary-key order (the sort is SQLite's, in bounded memory).
        const r = await sql`insert into main.usage (month, family_hmac, pack_slug, active_days, batch_id)
          select month, family_hmac, pack_slug, active_days, ${ctx.batch} from temp.${file}
          where state = ${State.Write} order by month, family_hmac, pack_slug
          on conflict do nothing`.execute(trx);
        imported = Number(r.numAffectedRows ?? 0n);
        if (imported !== Number(expected.rows[0]!.n)) throw new Error(`usage: ${expected.rows[0]!.n} new rows, ${imported} written past the import's checks`);
      }
      await sql`drop table temp.${file}`.execute(trx);
      trxOf = undefined;
      writer = undefined;
      return { bad, imported, skipped, updated };
    },
  };
}

const byRow = (a: Item<unknown>, b: Item<unknown>) => a.rec.row - b.rec.row;
