/**
 * Grouping an earnings report's rows into transactions in bounded memory, whatever the
 * file's size. Google documents no row order (platform-facts §2.2: "one order has several
 * rows"; a refund comes days after its charge), so no transaction is known complete before
 * the last line. Rows are grouped in a Map of at most `limit` transactions; when it fills,
 * every part in it is merged into a temporary staging table (inside the import's
 * transaction: gone with its commit or rollback) and the Map starts again. A part merged
 * into a staged part of the same transaction gives exactly what grouping the whole file
 * at once gives (`mergeTx`). A report that fits in the Map never touches the table.
 * Transactions come out sales first, then refunds, each in the order of their first line.
 */
import { addRow, mergeTx, type GoogleRow, type GoogleTx } from '../../stores/googleplay.js';
import type { Kysely } from 'kysely';
import { int, text } from '../migrations/types.js';
import type { Tx } from './types.js';

/** Transactions held in memory before they are merged into the staging table (~300 B each). */
export const GROUP_LIMIT = 50_000;
/** Rows per statement when staging (4 parameters each). */
const STAGE_BATCH = 500;
const TABLE = 'packops_googleplay_groups';

export class OrderGroups {
  private txs = new Map<string, GoogleTx>();
  /** The staging table exists (some parts were spilled). */
  private created = false;
  /** Parts are in the table (a spill must merge with them). */
  private staged = false;
  /** The transaction, untyped: the staging table is not part of the ledger's schema. */
  private readonly db: Kysely<any>;

  constructor(
    trx: Tx,
    private readonly limit = GROUP_LIMIT,
  ) {
    this.db = trx as unknown as Kysely<any>;
  }

  /** Adds a row; true when the Map is full and `spill()` must be awaited before the next row. */
  add(row: GoogleRow): boolean {
    addRow(this.txs, row);
    return this.txs.size >= this.limit;
  }

  /** Merges every transaction held in memory into the staging table. */
  async spill(): Promise<void> {
    if (this.txs.size === 0) return;
    const db = this.db;
    if (!this.created) {
      await db.schema.dropTable(TABLE).ifExists().execute(); // left by an earlier input of this import
      await db.schema
        .createTable(TABLE)
        .temporary()
        .addColumn('txid', text(db), (c) => c.primaryKey())
        .addColumn('kind', text(db), (c) => c.notNull())
        .addColumn('first_line', int(db), (c) => c.notNull())
        .addColumn('tx', text(db), (c) => c.notNull())
        .execute();
      await db.schema.createIndex(`${TABLE}_order`).on(TABLE).columns(['kind', 'first_line']).execute();
      this.created = true;
    }
    const parts = [...this.txs.values()];
    this.txs = new Map();
    const t = this.db;
    for (let i = 0; i < parts.length; i += STAGE_BATCH) {
      const batch = parts.slice(i, i + STAGE_BATCH);
      if (this.staged) {
        const earlier = await t.selectFrom(TABLE).select(['txid', 'tx']).where('txid', 'in', batch.map((p) => p.txid)).execute();
        if (earlier.length > 0) {
          const byId = new Map<string, GoogleTx>(earlier.map((r: { txid: string; tx: string }) => [r.txid, JSON.parse(r.tx) as GoogleTx]));
          for (let j = 0; j < batch.length; j++) {
            const a = byId.get(batch[j]!.txid);
            if (a) batch[j] = mergeTx(a, batch[j]!);
          }
        }
      }
      await t
        .insertInto(TABLE)
        .values(batch.map((p) => ({ txid: p.txid, kind: p.kind, first_line: p.firstLine, tx: JSON.stringify(p) })))
        .onConflict((oc) => oc.column('txid').doUpdateSet((eb) => ({ tx: eb.ref('excluded.tx') })))
        .execute();
    }
    this.staged = true;
  }

  /** How many transactions the report holds (call after the last `add`). */
  async count(): Promise<number> {
    if (!this.created) return this.txs.size;
    await this.spill();
    const r = await this.db.selectFrom(TABLE).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Every transaction, sales first, then refunds, each in first-line order, `size` at a time. */
  async *chunks(kind: 'sale' | 'refund', size: number): AsyncGenerator<GoogleTx[]> {
    if (!this.created) {
      let chunk: GoogleTx[] = [];
      for (const tx of this.txs.values()) {
        if (tx.kind !== kind) continue;
        chunk.push(tx);
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
    // Pages by (kind, first_line) rather than one open cursor: the pipeline writes between pages.
    let after = 0;
    for (;;) {
      const rows: Array<{ first_line: number | string; tx: string }> = await t
        .selectFrom(TABLE)
        .select(['first_line', 'tx'])
        .where('kind', '=', kind)
        .where('first_line', '>', after)
        .orderBy('first_line')
        .limit(size)
        .execute();
      if (rows.length === 0) return;
      after = Number(rows[rows.length - 1]!.first_line);
      yield rows.map((r) => JSON.parse(r.tx) as GoogleTx);
      if (rows.length < size) return;
    }
  }

  /** Removes the staging table (the next input starts empty). */
  async drop(): Promise<void> {
    await this.db.schema.dropTable(TABLE).ifExists().execute();
    this.created = false;
    this.staged = false;
    this.txs = new Map();
  }
}
