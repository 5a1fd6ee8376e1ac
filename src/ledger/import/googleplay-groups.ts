/**
 * Grouping an earnings report's rows into transactions in bounded memory, whatever the
 * file's size. Google documents no row order (platform-facts §2.2: "one order has several
 * rows"; a refund comes days after its charge), so no transaction is known complete before
 * the last line. Rows are grouped in a compact in-memory window (TxWindow,
 * src/stores/googleplay-window.ts: typed arrays, ~90 bytes and the id per transaction) of at
 * most `limit` transactions, enough for a month's report of a million rows; when it fills,
 * every part in it is merged into a temporary staging table (inside the import's
 * transaction: gone with its commit or rollback) and the window starts again. A part merged
 * into a staged part of the same transaction gives exactly what grouping the whole file
 * at once gives: the staging table's upsert merges the part into the staged one (which holds
 * the earlier lines; see `upsert`), one statement per 500 parts, compiled once and run again with each
 * batch's values. Parts are staged as columns (no JSON either way). A report that fits in
 * the window never touches the table.
 * Transactions come out sales first, then refunds, each in the order of their first line.
 */
import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { GoogleRow, GoogleTx, Mismatch } from '../../stores/googleplay.js';
import { TxWindow } from '../../stores/googleplay-window.js';
import { int, text } from '../migrations/types.js';
import type { Tx } from './types.js';

/**
 * Transactions held in memory before they are merged into the staging table: ~90 B each
 * and their ids (at most 32 characters each on average), ~60 MB when full. A 1,000,000-row
 * report has about 430,000.
 */
export const GROUP_LIMIT = 500_000;
/** Parts per staging statement (17 parameters each: far below SQLite's and PostgreSQL's limits). */
const STAGE_BATCH = 500;
const TABLE = 'packops_googleplay_groups';

/** The staging table's columns, in the order a part's values are bound. */
const COLUMNS = [
  'txid', 'kind', 'first_line', 'order_id', 'ms', 'sku', 'country', 'currency', 'gross', 'fee', 'tax', 'net', 'rows', 'has_charge',
  'mm_line', 'mm_field', 'mm_value',
] as const;

interface StagedRow {
  txid: string;
  kind: 'sale' | 'refund';
  first_line: number | string;
  order_id: string;
  ms: number | string;
  sku: string;
  country: string;
  currency: string;
  gross: number | string;
  fee: number | string;
  tax: number | string;
  net: number | string;
  rows: number | string;
  has_charge: number | string;
  mm_line: number | string | null;
  mm_field: Mismatch['field'] | null;
  mm_value: string | null;
}

function values(p: GoogleTx, out: unknown[]): void {
  const m = p.mismatch;
  out.push(
    p.txid, p.kind, p.firstLine, p.order, p.ms, p.sku, p.country, p.currency, p.gross, p.fee, p.tax, p.net, p.rows, p.hasCharge ? 1 : 0,
    m ? m.line : null, m ? m.field : null, m ? m.value : null,
  );
}

function fromRow(r: StagedRow): GoogleTx {
  // Field for field what TxWindow.tx gives (PostgreSQL returns bigints as strings).
  return {
    txid: r.txid, kind: r.kind, order: r.order_id, ms: Number(r.ms), sku: r.sku, country: r.country, currency: r.currency,
    gross: Number(r.gross), fee: Number(r.fee), tax: Number(r.tax), net: Number(r.net), firstLine: Number(r.first_line), rows: Number(r.rows),
    hasCharge: Number(r.has_charge) !== 0,
    mismatch: r.mm_line === null ? undefined : { line: Number(r.mm_line), field: r.mm_field!, value: r.mm_value! },
  };
}

export class OrderGroups {
  private readonly window: TxWindow;
  /** The staging table exists (some parts were spilled). */
  private created = false;
  /** The upsert's text per batch size (the driver keeps each prepared). */
  private readonly upserts = new Map<number, string>();
  /** The transaction, untyped: the staging table is not part of the ledger's schema. */
  private readonly db: Kysely<any>;

  constructor(
    trx: Tx,
    limit = GROUP_LIMIT,
  ) {
    this.db = trx as unknown as Kysely<any>;
    this.window = new TxWindow(limit, undefined, true);
  }

  /** Adds a row; true when the window is full and `spill()` must be awaited before the next row. */
  add(row: GoogleRow): boolean {
    this.window.add(row);
    return this.window.full;
  }

  /**
   * The staging statement for `n` parts: insert, or merge into the staged part of the same
   * transaction (which holds its earlier lines), giving what grouping every row of both in
   * file order gives: counts and amounts add up, a sale is dated by its earliest Charge row,
   * and the first row that disagrees with the transaction's first row is kept. In an
   * upsert's SET every column names the staged row as it was, `excluded` the part.
   */
  private upsert(n: number): string {
    let text = this.upserts.get(n);
    if (text !== undefined) return text;
    const t = sql.ref(TABLE);
    const col = (c: string) => sql`${t}.${sql.ref(c)}`;
    const ex = (c: string) => sql`excluded.${sql.ref(c)}`;
    // The mismatch: the staged one if any, else the part's first row if it disagrees, else the part's own.
    const differs = (c: string) => sql`${ex(c)} <> ${col(c)}`;
    const anyDiffers = sql`(${differs('currency')} or ${differs('sku')} or ${differs('country')})`;
    const mmField = sql`case when ${differs('currency')} then 'currency' when ${differs('sku')} then 'sku' when ${differs('country')} then 'country' end`;
    const mmValue = sql`case when ${differs('currency')} then ${ex('currency')} when ${differs('sku')} then ${ex('sku')} when ${differs('country')} then ${ex('country')} end`;
    const keep = (c: string, fresh: ReturnType<typeof sql>) =>
      sql`case when ${col('mm_line')} is not null then ${col(c)} when ${anyDiffers} then ${fresh} else ${ex(c)} end`;
    const row = Object.fromEntries(COLUMNS.map((c) => [c, null]));
    text = this.db
      .insertInto(TABLE)
      .values(Array.from({ length: n }, () => ({ ...row })))
      .onConflict((oc) =>
        oc.column('txid').doUpdateSet({
          // A sale is dated by its earliest Charge row, else its first row.
          ms: sql`case when ${ex('has_charge')} <> 0 and (${col('has_charge')} = 0 or ${ex('ms')} < ${col('ms')}) then ${ex('ms')} else ${col('ms')} end`,
          has_charge: sql`case when ${col('has_charge')} <> 0 or ${ex('has_charge')} <> 0 then 1 else 0 end`,
          rows: sql`${col('rows')} + ${ex('rows')}`,
          net: sql`${col('net')} + ${ex('net')}`,
          gross: sql`${col('gross')} + ${ex('gross')}`,
          fee: sql`${col('fee')} + ${ex('fee')}`,
          tax: sql`${col('tax')} + ${ex('tax')}`,
          mm_line: keep('mm_line', sql`${ex('first_line')}`),
          mm_field: keep('mm_field', mmField),
          mm_value: keep('mm_value', mmValue),
        }),
      )
      .compile().sql;
    this.upserts.set(n, text);
    return text;
  }

  /** Merges every transaction held in memory into the staging table. */
  async spill(): Promise<void> {
    const w = this.window;
    if (w.size === 0) return;
    const db = this.db;
    if (!this.created) {
      await db.schema.dropTable(TABLE).ifExists().execute(); // left by an earlier input of this import
      await db.schema
        .createTable(TABLE)
        .temporary()
        .addColumn('txid', text(db), (c) => c.primaryKey())
        .addColumn('kind', text(db), (c) => c.notNull())
        .addColumn('first_line', int(db), (c) => c.notNull())
        .addColumn('order_id', text(db), (c) => c.notNull())
        .addColumn('ms', int(db), (c) => c.notNull())
        .addColumn('sku', text(db), (c) => c.notNull())
        .addColumn('country', text(db), (c) => c.notNull())
        .addColumn('currency', text(db), (c) => c.notNull())
        .addColumn('gross', int(db), (c) => c.notNull())
        .addColumn('fee', int(db), (c) => c.notNull())
        .addColumn('tax', int(db), (c) => c.notNull())
        .addColumn('net', int(db), (c) => c.notNull())
        .addColumn('rows', int(db), (c) => c.notNull())
        .addColumn('has_charge', int(db), (c) => c.notNull())
        .addColumn('mm_line', int(db))
        .addColumn('mm_field', text(db))
        .addColumn('mm_value', text(db))
        .execute();
      await db.schema.createIndex(`${TABLE}_order`).on(TABLE).columns(['kind', 'first_line']).execute();
      this.created = true;
    }
    let batch: unknown[] = [];
    let n = 0;
    for (let slot = 0; slot < w.size; slot++) {
      values(w.tx(slot), batch);
      if (++n === STAGE_BATCH) {
        await db.executeQuery(CompiledQuery.raw(this.upsert(n), batch));
        batch = [];
        n = 0;
      }
    }
    if (n > 0) await db.executeQuery(CompiledQuery.raw(this.upsert(n), batch));
    w.clear();
  }

  /** How many transactions the report holds (call after the last `add`). */
  async count(): Promise<number> {
    if (!this.created) return this.window.size;
    await this.spill();
    const r = await this.db.selectFrom(TABLE).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /**
   * The sales or the refunds, `size` at a time. Sales come in order of their ids: the order
   * of the ledger's primary key and the purchase log's, so their lookups and INSERTs walk
   * those B-trees in order (TxWindow.slotsInIdOrder; the staging table's key when spilled).
   * A sale's checks do not depend on other sales. Refunds come in first-line order: whether
   * one exceeds its sale depends on the refunds of the same order before it.
   */
  async *chunks(kind: 'sale' | 'refund', size: number): AsyncGenerator<GoogleTx[]> {
    if (!this.created) {
      const w = this.window;
      const refunds = kind === 'refund';
      let chunk: GoogleTx[] = [];
      const slots = refunds ? undefined : w.slotsInIdOrder(false);
      const n = slots ? slots.length : w.size;
      for (let k = 0; k < n; k++) {
        const slot = slots ? slots[k]! : k;
        if (w.isRefund(slot) !== refunds) continue;
        chunk.push(w.tx(slot));
        if (chunk.length >= size) {
          yield chunk;
          chunk = [];
        }
      }
      if (chunk.length) yield chunk;
      return;
    }
    await this.spill();
    const t = this.db;
    // Pages (rather than one open cursor: the pipeline writes between pages) by txid for
    // sales, the staging table's key, and by first_line for refunds.
    if (kind === 'sale') {
      let after: string | undefined;
      for (;;) {
        let q = t.selectFrom(TABLE).select([...COLUMNS]).where('kind', '=', kind);
        if (after !== undefined) q = q.where('txid', '>', after);
        const rows: StagedRow[] = await q.orderBy('txid').limit(size).execute();
        if (rows.length === 0) return;
        after = String(rows[rows.length - 1]!.txid);
        yield rows.map(fromRow);
        if (rows.length < size) return;
      }
    }
    let after = 0;
    for (;;) {
      const rows: StagedRow[] = await t
        .selectFrom(TABLE)
        .select([...COLUMNS])
        .where('kind', '=', kind)
        .where('first_line', '>', after)
        .orderBy('first_line')
        .limit(size)
        .execute();
      if (rows.length === 0) return;
      after = Number(rows[rows.length - 1]!.first_line);
      yield rows.map(fromRow);
      if (rows.length < size) return;
    }
  }

  /** Removes the staging table (the next input starts empty). */
  async drop(): Promise<void> {
    await this.db.schema.dropTable(TABLE).ifExists().execute();
    this.created = false;
    this.window.clear();
  }
}
