/**
 * `ledger import sales` on PostgreSQL, the whole file at once (PRODUCT §13):
 *
 *   1. While the file streams, every row is checked by the §7 rules that need no lookup
 *      (fields, consent, product, open month: `freshProblems`) and goes into ONE temporary
 *      staging table through ONE `COPY … FROM STDIN`: good rows with their values, bad rows
 *      with their key only (a later copy of a bad row is still a duplicate). Nothing waits
 *      for the server between chunks, so parsing and the server's COPY overlap.
 *   2. Then the checks that need the ledger run as set-based SQL over the staging table:
 *      duplicates in the file (a window over the key), rows already in the ledger, and the
 *      refunds, joined to their sale (in the ledger, with what was refunded of it, or earlier
 *      in the file) and walked in file order so refunds add up as on SQLite.
 *   3. The accepted rows move with ONE `INSERT … SELECT … ON CONFLICT DO NOTHING` in key
 *      order (a row another import stored meanwhile is skipped, never doubled, and two
 *      imports inserting overlapping keys in the same order cannot deadlock).
 *
 * Locks: the import's transaction takes the ledger's write lock SHARED (pg.ts), so sales
 * imports run side by side while a close, which takes it exclusively, waits for every one of
 * them (and they for it): a row is stored before the close and is in its statement, or the
 * import finds the month closed. Before step 2 (its first read of the ledger) the import
 * also takes the sales lock: SHARED when its file has no refund, EXCLUSIVE when it has one.
 * So an import with refunds runs its checks and its INSERT while no other sales import is
 * between its own checks and its commit: every sale its refunds name is either committed
 * (and the walk checks the refund against that stored row, with every refund stored of it)
 * or absent (and the file's own copy is the one its INSERT stores, since no other import
 * can write that key before it commits). That is what SQLite's one writer gives. Imports
 * without refunds only add rows `ON CONFLICT DO NOTHING` in key order, so running them
 * side by side stores what one of their serial orders stores. A lock per month of the
 * refunded sales is not enough: the file's copy of a sale and another import's copy of the
 * same id can carry different months (and amounts), and an import without refunds took none.
 *
 * Memory: one chunk of rows, the bad rows (as on SQLite) and the sales refunded so far.
 * The staging table's format is in pg-sales-stage.ts, the refund walk in pg-sales-refunds.ts.
 */
import { finished } from 'node:stream/promises';
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import type { RowProblem } from './fields.js';
import type { ClosedPeriods } from './import/closed.js';
import type { ImportContext, Item, StagedPath } from './import/pipeline.js';
import type { SaleParsed } from './import/sales-refunds.js';
import type { Store } from './schema.js';
import { copyField } from './pg-copy.js';
import { LOCK_CLASS, SALES_LOCK, type PgSession } from './pg.js';
import { walkRefunds } from './pg-sales-refunds.js';
import { duplicateProblem, settleHeld } from './import/sales-refund-walk.js';
import { BAD, DEFERRED, DUPLICATE, GOOD, packCells, REFUNDS, STAGE, unpackCells } from './pg-sales-stage.js';

const require = createRequire(import.meta.url);

export interface StagedSalesHooks {
  /** The insert columns, in `values` order (the first two are store and transaction_id). */
  columns: readonly string[];
  values(p: SaleParsed, batch: string): unknown[];
  /** The problems of a fresh row that need no lookup; sets `p.resolved`. */
  freshProblems(p: SaleParsed, closed: ClosedPeriods): RowProblem[];
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

class StagedSales implements StagedPath<SaleParsed> {
  private sink: Writable | undefined;
  private failure: unknown;
  /** Rows staged as GOOD. */
  private good = 0;
  /** Bad rows and rows with a deferred problem, by row number. */
  private readonly held = new Map<number, Item<SaleParsed>>();
  private readonly deferred = new Map<number, RowProblem[]>();
  private batch = '';
  private readonly cols: string;

  constructor(
    private readonly session: PgSession,
    private readonly hooks: StagedSalesHooks,
  ) {
    this.cols = hooks.columns.map(ident).join(', ');
  }

  beforeBegin(): void {
    this.session.nextWriteLock = 'shared';
  }

  private async open(): Promise<Writable> {
    if (this.sink) return this.sink;
    const client = this.session.client;
    // Column types and collations as the ledger's (no NOT NULL: bad rows keep their key only).
    await client.query(
      `CREATE TEMP TABLE ${STAGE} ON COMMIT DROP AS SELECT 0::integer AS "row", 0::smallint AS state, NULL::text AS cells, ${this.cols} FROM sales WITH NO DATA`,
    );
    const { from } = require('pg-copy-streams') as typeof import('pg-copy-streams');
    const sink = client.query(from(`COPY ${STAGE} ("row", state, cells, ${this.cols}) FROM STDIN`));
    sink.on('error', (err: unknown) => (this.failure ??= err));
    this.sink = sink;
    return sink;
  }

  /** A staged row with its key only (and the month and refund target when known). */
  private keyLine(row: number, state: number, p: SaleParsed): string {
    // The key, kind, date, month and refund target: what duplicates and refunds look at.
    const values: unknown[] = new Array<unknown>(this.hooks.columns.length).fill(null);
    const at = (column: string, value: unknown) => (values[this.hooks.columns.indexOf(column)] = value);
    at('store', p.store);
    at('transaction_id', p.transactionId);
    if (p.at) {
      // A bad row keeps its key only; a row with a deferred problem also what a refund of it looks at.
      at('kind', p.kind);
      at('occurred_at', p.at.iso);
      at('month', p.at.month);
      at('refund_of', p.refundOf);
    }
    return `${row}\t${state}\t\\N\t${values.map(copyField).join('\t')}\n`;
  }

  async add(ctx: ImportContext, items: Array<Item<SaleParsed>>): Promise<void> {
    if (this.failure) throw this.failure;
    this.batch = ctx.batch;
    let text = '';
    for (const it of items) {
      const p = it.parsed;
      const row = it.rec.row;
      if (it.problems.length > 0 || p === undefined) {
        this.held.set(row, it);
        if (p !== undefined) text += this.keyLine(row, BAD, p);
        continue;
      }
      const problems = this.hooks.freshProblems(p, ctx.closed);
      if (problems.length > 0) {
        this.held.set(row, it);
        this.deferred.set(row, problems);
        text += this.keyLine(row, DEFERRED, p);
        continue;
      }
      const values = this.hooks.values(p, ctx.batch);
      let line = `${row}\t${GOOD}\t${ctx.quarantine ? copyField(packCells(it.rec.cells)) : '\\N'}`;
      for (const v of values) line += `\t${copyField(v)}`;
      text += `${line}\n`;
      this.good++;
    }
    if (text === '') return;
    const sink = await this.open();
    if (!sink.write(text)) {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: unknown) => {
          sink.off('drain', done);
          sink.off('error', done);
          if (err) reject(err);
          else resolve();
        };
        sink.on('drain', done);
        sink.on('error', done);
      });
    }
    if (this.failure) throw this.failure;
  }

  async settle(ctx: ImportContext): Promise<{ bad: Array<Item<SaleParsed>>; imported: number; skipped: number }> {
    const bad: Array<Item<SaleParsed>> = [];
    if (!this.sink) {
      // Nothing had a key: every row is bad as parsed.
      for (const it of this.held.values()) bad.push(it);
      return { bad: bad.sort((a, b) => a.rec.row - b.rec.row), imported: 0, skipped: 0 };
    }
    const sink = this.sink;
    sink.end();
    await finished(sink);
    if (this.failure) throw this.failure;
    const client = this.session.client;
    // Room to hash the file's keys in memory; no JIT (compiling costs more than it saves
    // here). No ANALYZE of the staging table: the queries below hash the small side.
    await client.query(`SET LOCAL work_mem = '128MB'`);
    await client.query('SET LOCAL jit = off');

    // Later copies of a transaction in the file (bad or not): the first copy wins.
    const dupRows = await client.query<{ row: number; state: number; first: number; store: Store; transaction_id: string; cells: string | null }>(
      `WITH d AS (SELECT store, transaction_id, min("row") AS first FROM ${STAGE} GROUP BY store, transaction_id HAVING count(*) > 1)
       SELECT s."row", s.state, d.first, s.store, s.transaction_id, s.cells
         FROM ${STAGE} s JOIN d ON s.store = d.store AND s.transaction_id = d.transaction_id WHERE s."row" <> d.first`,
    );
    const duplicates = new Map<number, RowProblem>();
    let goodGone = 0;
    for (const d of dupRows.rows) {
      const problem = duplicateProblem(d.store, d.transaction_id, d.first);
      if (d.state === GOOD) {
        goodGone++;
        bad.push({ rec: { row: d.row, cells: unpackCells(d.cells) }, problems: [problem] });
      } else duplicates.set(d.row, problem);
    }
    if (dupRows.rows.length > 0) {
      await client.query(`UPDATE ${STAGE} SET state = ${DUPLICATE} WHERE "row" = ANY($1::integer[])`, [dupRows.rows.map((d) => d.row)]);
    }

    // The file's refunds (a few percent of a sales file) in a table of their own, so the joins
    // below hash them and scan the staging table once, instead of sorting it.
    const refunds = await client.query(`CREATE TEMP TABLE ${REFUNDS} ON COMMIT DROP AS SELECT * FROM ${STAGE} WHERE kind = 'refund'`);
    await client.query(`ANALYZE ${REFUNDS}`);
    // Nothing above read the ledger; everything below does, in statements that start after
    // the lock is granted (READ COMMITTED: each sees what was committed before it began).
    await client.query(`SELECT ${(refunds.rowCount ?? 0) > 0 ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared'}($1, $2)`, [LOCK_CLASS, SALES_LOCK]);

    // A row with a deferred problem that is already in the ledger is skipped, not bad.
    const storedDeferred = new Set<number>();
    if (this.deferred.size > 0) {
      const r = await client.query<{ row: number }>(
        `SELECT s."row" FROM ${STAGE} s WHERE s.state = ${DEFERRED} AND EXISTS (SELECT 1 FROM sales l WHERE l.store = s.store AND l.transaction_id = s.transaction_id)`,
      );
      for (const { row } of r.rows) storedDeferred.add(row);
    }

    const refundBad = await walkRefunds(client, this.held, this.deferred, ctx.quarantine, bad);
    goodGone += refundBad.length;

    const skipped = settleHeld(this.held, this.deferred, duplicates, storedDeferred, bad);
    bad.sort((a, b) => a.rec.row - b.rec.row);
    if (bad.length > 0 && !ctx.quarantine) return { bad, imported: 0, skipped: 0 };

    if (refundBad.length > 0) {
      await client.query(`UPDATE ${STAGE} SET state = ${BAD} WHERE "row" = ANY($1::integer[])`, [refundBad]);
    }
    const inserted = await client.query<{ n: number }>(
      `WITH moved AS (
         INSERT INTO sales (${this.cols}) SELECT ${this.cols} FROM ${STAGE} WHERE state = ${GOOD} ORDER BY store, transaction_id
         ON CONFLICT DO NOTHING RETURNING 1
       ) SELECT count(*)::integer AS n FROM moved`,
    );
    const imported = inserted.rows[0]!.n;
    return { bad, imported, skipped: skipped + this.good - goodGone - imported };
  }
}

/** The staged path of a sales import on a PostgreSQL ledger's connection. */
export function stagedSales(session: PgSession, hooks: StagedSalesHooks): StagedPath<SaleParsed> {
  return new StagedSales(session, hooks);
}
