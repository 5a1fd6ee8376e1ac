/**
 * What a corrected store report may not do to the ledger (§7, §15), checked inside the
 * import's transaction once every row of the import is written:
 * - leave a refund of another batch naming a sale that is no longer in the ledger, or
 *   refunds of a sale adding up to more than the corrected sale (the importers' own amount
 *   rules: gross, fee and tax where the store reports them, Google; the net where it
 *   reports proceeds only, Apple);
 * - silently drop transactions its predecessor put in the ledger: unless the operator says
 *   the file is a corrected report (`--replace`), a correction may change and add, not remove.
 * Both refuse the whole import with CORRECTION_CONFLICT (exit 4), nothing written.
 *
 * The predecessors' transaction ids are copied, set-based, into a temporary table before
 * they are deleted (a year of earnings never passes through memory); the checks are two
 * queries over it.
 */
import { sql, type Kysely } from 'kysely';
import { conflictError } from '../../shared/errors.js';
import { text } from '../migrations/types.js';
import type { Tx } from './types.js';

type StoreName = 'googleplay' | 'appstore';

const TABLE = 'packops_store_replaced';
/** How many missing transactions a refusal names (the count always covers all). */
const LISTED = 20;

interface Correction {
  store: StoreName;
  file: string;
  key: string;
  /** The files it corrects: name and import time. */
  predecessors: Array<{ file: string; importedAt: string }>;
}

const amount = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export class Corrections {
  private readonly list: Correction[] = [];
  private created = false;

  constructor(private readonly replace: boolean) {}

  /**
   * Records a correction before its predecessors' rows are deleted: their transaction ids
   * go to the temporary table under this correction's number.
   */
  async snapshot(trx: Tx, c: Correction, batches: readonly string[]): Promise<void> {
    const db = trx as unknown as Kysely<any>;
    if (!this.created) {
      await db.schema.dropTable(TABLE).ifExists().execute(); // left by an earlier import on this connection
      await db.schema
        .createTable(TABLE)
        .temporary()
        .addColumn('report', text(db), (col) => col.notNull())
        .addColumn('transaction_id', text(db), (col) => col.notNull())
        .addColumn('kind', text(db), (col) => col.notNull())
        .execute();
      await db.schema.createIndex(`${TABLE}_tx`).on(TABLE).columns(['transaction_id', 'kind']).execute();
      this.created = true;
    }
    const report = String(this.list.length);
    this.list.push(c);
    await sql`insert into ${sql.table(TABLE)} (report, transaction_id, kind)
      select ${report}, transaction_id, kind from sales where store = ${c.store} and batch_id in (${sql.join(batches)})`.execute(trx);
  }

  /** The checks, after every row is written; throws CORRECTION_CONFLICT. Drops the table. */
  async check(trx: Tx): Promise<void> {
    if (!this.created) return;
    const db = trx as unknown as Kysely<any>;
    for (const store of new Set(this.list.map((c) => c.store))) await this.refunds(trx, store);
    if (!this.replace) {
      for (let i = 0; i < this.list.length; i++) await this.missing(trx, i);
    }
    await db.schema.dropTable(TABLE).ifExists().execute();
    this.created = false;
  }

  /** Refunds (of any batch) of a replaced sale that now name no sale, or exceed it. */
  private async refunds(trx: Tx, store: StoreName): Promise<void> {
    const bad = await sql<{ refund_of: string; g: unknown; f: unknown; t: unknown; n: unknown; sale: string | null; gross: unknown; fee: unknown; tax: unknown; net: unknown }>`
      select x.refund_of, x.g, x.f, x.t, x.n, s.transaction_id as sale, s.gross_minor as gross, s.store_fee_minor as fee, s.tax_minor as tax, s.net_minor as net
      from (
        select refund_of, sum(gross_minor) as g, sum(store_fee_minor) as f, sum(tax_minor) as t, sum(net_minor) as n
        from sales
        where store = ${store} and kind = 'refund'
          and refund_of in (select r.transaction_id from ${sql.table(TABLE)} r where r.kind = 'sale')
        group by refund_of
      ) x
      left join sales s on s.store = ${store} and s.transaction_id = x.refund_of and s.kind = 'sale'
      where s.transaction_id is null or x.g > s.gross_minor or x.f > s.store_fee_minor or x.t > s.tax_minor or x.n > s.net_minor
      order by x.refund_of`.execute(trx);
    if (bad.rows.length === 0) return;
    const sales = new Map(bad.rows.map((r) => [r.refund_of, r]));
    const refunds = await trx
      .selectFrom('sales')
      .select(['transaction_id', 'refund_of', 'gross_minor', 'store_fee_minor', 'tax_minor', 'net_minor', 'batch_id'])
      .where('store', '=', store)
      .where('kind', '=', 'refund')
      .where('refund_of', 'in', [...sales.keys()])
      .orderBy('refund_of')
      .orderBy('transaction_id')
      .execute();
    const rows = refunds.map((r) => {
      const s = sales.get(r.refund_of!)!;
      return {
        transaction_id: r.transaction_id,
        refund_of: r.refund_of,
        problem: s.sale === null ? 'its sale is no longer in the ledger' : 'the refunds of its sale exceed the corrected sale',
        refund: { gross: amount(r.gross_minor), fee: amount(r.store_fee_minor), tax: amount(r.tax_minor), net: amount(r.net_minor) },
        refunds: { gross: amount(s.g), fee: amount(s.f), tax: amount(s.t), net: amount(s.n) },
        sale: s.sale === null ? null : { gross: amount(s.gross), fee: amount(s.fee), tax: amount(s.tax), net: amount(s.net) },
        batch: r.batch_id,
      };
    });
    const files = this.list.filter((c) => c.store === store).map((c) => c.file);
    const orphans = bad.rows.filter((r) => r.sale === null).length;
    throw conflictError(
      'CORRECTION_CONFLICT',
      `${files.join(', ')} corrects an earlier report, but ${rows.length} refund(s) already in the ledger would then ${orphans ? `name a sale the correction removes (${orphans} sale(s))` : ''}${orphans && orphans < bad.rows.length ? ' or ' : ''}${orphans < bad.rows.length ? `exceed the corrected sale (${bad.rows.length - orphans} sale(s))` : ''}: ${rows.slice(0, 5).map((r) => `${r.transaction_id} → ${r.refund_of}`).join(', ')}${rows.length > 5 ? ', …' : ''}. Nothing was imported.`,
      {
        hint: 'Every refund must name a sale in the ledger and all refunds of a sale together never exceed it (§7). Check the corrected file against the refunds listed; a refund the store reversed comes as its own correction.',
        details: { files, conflicts: rows.length, refunds: rows },
      },
    );
  }

  /** Transactions the predecessor wrote that this correction no longer has. */
  private async missing(trx: Tx, i: number): Promise<void> {
    const c = this.list[i]!;
    const gone = sql`from ${sql.table(TABLE)} r where r.report = ${String(i)}
      and not exists (select 1 from sales s where s.store = ${c.store} and s.transaction_id = r.transaction_id)`;
    const count = Number((await sql<{ n: unknown }>`select count(*) as n ${gone}`.execute(trx)).rows[0]?.n ?? 0);
    if (count === 0) return;
    const first = (await sql<{ transaction_id: string }>`select r.transaction_id ${gone} order by r.transaction_id limit ${LISTED}`.execute(trx)).rows.map((r) => r.transaction_id);
    const earlier = c.predecessors.map((p) => `${p.file} (imported ${p.importedAt})`).join(', ');
    throw conflictError(
      'CORRECTION_CONFLICT',
      `${c.file} is the same report as ${earlier} but lacks ${count} transaction(s) that file put in the ledger (${first.join(', ')}${count > first.length ? ', …' : ''}); importing it would delete them. Nothing was imported.`,
      {
        hint: 'If the file is a corrected report that replaces the earlier one, import it with --replace (what it no longer lists is removed). If it is another part of the same month, it is not supported as a separate report: combine the parts into one file and import that (with --replace).',
        details: { file: c.file, report: c.key, earlier: c.predecessors, missing: count, transactions: first },
      },
    );
  }
}
