/**
 * `ledger import sales` on PostgreSQL, the whole file at once (PRODUCT §13):
 *
 *   1. While the file streams, every row is checked by the §7 rules that need no lookup
 *      (fields, consent, product, open month: `freshProblems`) and goes into ONE temporary
 *      staging table through ONE `COPY … FROM STDIN`: good rows with their values, bad rows
 *      with their key only (a later copy of a bad row is still a duplicate). Nothing waits
 *      for the server between chunks, so parsing and the server's COPY overlap.
 *   1b. Every 50,000 rows the COPY pauses and the accepted SALES staged since the last pause
 *      move into the ledger (key order within the move) while the next rows are parsed: the
 *      index upkeep of `sales`, the largest cost of an import, runs on the server while node
 *      parses instead of after it. A sale cannot turn bad later unless a later copy of it is
 *      in the file; then step 2 deletes what moved early and moves it with the rest.
 *   2. Then the checks that need the ledger run as set-based SQL over the staging table:
 *      duplicates in the file (a window over the key), rows already in the ledger, and the
 *      refunds, joined to their sale (in the ledger, with what was refunded of it, or earlier
 *      in the file) and walked in file order so refunds add up as on SQLite.
 *   3. The accepted rows not moved yet move with ONE `INSERT … SELECT … ON CONFLICT DO
 *      NOTHING` in key order (a row another import stored meanwhile is skipped, never
 *      doubled, and two imports inserting overlapping keys in the same order cannot deadlock).
 *
 * Locks: the import's transaction takes the ledger's write lock SHARED (pg.ts), so sales
 * imports run side by side while a close, which takes it exclusively, waits for every one of
 * them (and they for it): a row is stored before the close and is in its statement, or the
 * import finds the month closed. Before step 2 the import also takes, exclusively and in
 * order, a lock per month of the sales its refunds name: two imports refunding the same
 * sale run their checks one after the other, so refunds never add up past the sale.
 * Rows moved early are in file order, not key order, so one import at a time moves early:
 * the first move takes the move lock exclusively if it is free (else the import moves
 * nothing early), and every other import takes it shared before step 2, before its month
 * locks: it writes only once the import moving early has committed, so no import ever waits
 * for a row inserted out of key order while holding one another waits for.
 *
 * Memory: one chunk of rows, at most 8 MiB of rows parsed while a move runs, the bad rows
 * (as on SQLite) and the sales refunded so far.
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
import { LOCK_CLASS, MONTH_LOCK_CLASS, MOVE_LOCK, type PgSession } from './pg.js';
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

/** A month "YYYY-MM" as a lock key. */
export function monthKey(month: string): number {
  return Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1;
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** COPY text parsed while a move runs that may wait in memory. */
const QUEUE_BYTES = 8 << 20;

/**
 * Rows staged between two early moves (step 1b). Test hook: PACKOPS_TEST_PG_MOVE_ROWS=<n>
 * moves every n rows, so small files take this path too.
 */
function moveRows(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.PACKOPS_TEST_PG_MOVE_ROWS);
  return Number.isSafeInteger(n) && n > 0 ? n : 50_000;
}

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
  private readonly moveEvery = moveRows();
  /** The early move on the server (step 1b), while the file goes on being parsed. */
  private pending: Promise<void> | undefined;
  /** COPY text parsed while a move runs, sent when it is done (at most QUEUE_BYTES). */
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private queuedRows = 0;
  /** Rows staged since the last move, and the last row staged. */
  private sinceMove = 0;
  private lastRow = 0;
  /** Whether this import moves rows early: undecided until its first move (the move lock). */
  private early: boolean | undefined;
  /** Every accepted sale of a row up to this one is in the ledger already; how many were stored. */
  private movedUpTo = 0;
  private moved = 0;

  constructor(
    private readonly session: PgSession,
    private readonly hooks: StagedSalesHooks,
  ) {
    this.cols = hooks.columns.map(ident).join(', ');
  }

  beforeBegin(): void {
    this.session.nextWriteLock = 'shared';
  }

  private created = false;

  private async open(): Promise<Writable> {
    if (this.sink) return this.sink;
    const client = this.session.client;
    if (!this.created) {
      // Column types and collations as the ledger's (no NOT NULL: bad rows keep their key only).
      await client.query(
        `CREATE TEMP TABLE ${STAGE} ON COMMIT DROP AS SELECT 0::integer AS "row", 0::smallint AS state, NULL::text AS cells, ${this.cols} FROM sales WITH NO DATA`,
      );
      // Room to sort and hash in memory; no JIT (compiling costs more than it saves here).
      await client.query(`SET LOCAL work_mem = '128MB'`);
      await client.query('SET LOCAL jit = off');
      this.created = true;
    }
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
    if (items.length > 0) this.lastRow = items[items.length - 1]!.rec.row;
    this.sinceMove += items.length;
    if (text !== '') {
      if (this.pending) {
        // As bytes: the text is a rope of every field's string, several times its size.
        const bytes = Buffer.from(text, 'utf8');
        this.queued.push(bytes);
        this.queuedBytes += bytes.length;
        this.queuedRows += items.length;
      } else {
        await this.write(await this.open(), text);
      }
    }
    if (this.early !== false && !this.pending && this.sink && this.sinceMove >= this.moveEvery) {
      this.pending = this.move(this.lastRow).catch((err: unknown) => {
        this.failure ??= err;
        this.pending = undefined;
      });
    }
    // Memory: a few MiB of rows wait for the server (it is the slower side).
    if (this.pending && this.queuedBytes >= QUEUE_BYTES) await this.pending;
    if (this.failure) throw this.failure;
  }

  private async write(sink: Writable, text: string | Buffer): Promise<void> {
    if (sink.write(text)) return;
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

  /**
   * Step 1b, on the server while the file goes on being parsed: ends the COPY, moves the
   * accepted sales staged since the last move into the ledger, and starts the next COPY with
   * what was parsed meanwhile. Only sales move early: they cannot turn bad later, unless a
   * later copy of one is in the file, and then settle() takes them back out. Refunds wait
   * for the refund walk. The first move decides, with the move lock, whether this import
   * moves early at all (see settle()).
   */
  private async move(upTo: number): Promise<void> {
    const client = this.session.client;
    const sink = this.sink!;
    this.sink = undefined;
    sink.end();
    await finished(sink);
    if (this.failure) throw this.failure;
    if (this.early === undefined) {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1, $2) AS ok', [LOCK_CLASS, MOVE_LOCK]);
      this.early = rows[0]!.ok;
      // The moves find their rows by row number.
      if (this.early) await client.query(`CREATE INDEX ON ${STAGE} ("row")`);
    }
    if (this.early) {
      const r = await client.query(
        `INSERT INTO sales (${this.cols}) SELECT ${this.cols} FROM ${STAGE}
          WHERE "row" > $1 AND "row" <= $2 AND state = ${GOOD} AND kind = 'sale' ORDER BY store, transaction_id, "row"
         ON CONFLICT DO NOTHING`,
        [this.movedUpTo, upTo],
      );
      this.moved += r.rowCount ?? 0;
      this.movedUpTo = upTo;
    }
    this.sinceMove = this.queuedRows;
    const next = await this.open();
    const queued = this.queued;
    this.queued = [];
    this.queuedBytes = 0;
    this.queuedRows = 0;
    this.pending = undefined;
    for (const bytes of queued) await this.write(next, bytes);
  }

  async settle(ctx: ImportContext): Promise<{ bad: Array<Item<SaleParsed>>; imported: number; skipped: number }> {
    const bad: Array<Item<SaleParsed>> = [];
    if (this.pending) await this.pending;
    if (this.failure) throw this.failure;
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
    // An import that moved no rows early writes the ledger only after every import moving
    // rows early has committed (and other such imports at the same time as it): no import
    // ever waits for rows another one inserted in file order, so none can deadlock. Taken
    // before the month locks, as every import does.
    if (!this.early) await client.query('SELECT pg_advisory_xact_lock_shared($1, $2)', [LOCK_CLASS, MOVE_LOCK]);

    // Later copies of a transaction in the file (bad or not): the first copy wins.
    const dupRows = await client.query<{ row: number; state: number; first: number; store: Store; transaction_id: string; kind: string | null; cells: string | null }>(
      `WITH d AS (SELECT store, transaction_id, min("row") AS first FROM ${STAGE} GROUP BY store, transaction_id HAVING count(*) > 1)
       SELECT s."row", s.state, d.first, s.store, s.transaction_id, s.kind, s.cells
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
    // A later copy of a sale moved early was stored when its first copy was not (bad, held,
    // or a refund): take back everything moved early and move it with the rest (rare: a
    // file with such copies is refused or quarantines them).
    if (this.moved > 0 && dupRows.rows.some((d) => d.state === GOOD && d.kind === 'sale' && d.row <= this.movedUpTo)) {
      await client.query('DELETE FROM sales WHERE batch_id = $1', [ctx.batch]);
      this.moved = 0;
      this.movedUpTo = 0;
    }

    // The file's refunds (a few percent of a sales file) in a table of their own, so the joins
    // below hash them and scan the staging table once, instead of sorting it.
    await client.query(`CREATE TEMP TABLE ${REFUNDS} ON COMMIT DROP AS SELECT * FROM ${STAGE} WHERE kind = 'refund'`);
    await client.query(`ANALYZE ${REFUNDS}`);
    await this.lockRefundedMonths();

    // A row with a deferred problem that is already in the ledger is skipped, not bad.
    const storedDeferred = new Set<number>();
    if (this.deferred.size > 0) {
      const r = await client.query<{ row: number }>(
        `SELECT s."row" FROM ${STAGE} s WHERE s.state = ${DEFERRED} AND EXISTS (SELECT 1 FROM sales l WHERE l.store = s.store AND l.transaction_id = s.transaction_id)`,
      );
      for (const { row } of r.rows) storedDeferred.add(row);
    }

    const refundBad = await walkRefunds(client, ctx.batch, this.held, this.deferred, ctx.quarantine, bad);
    goodGone += refundBad.length;

    const skipped = settleHeld(this.held, this.deferred, duplicates, storedDeferred, bad);
    bad.sort((a, b) => a.rec.row - b.rec.row);
    if (bad.length > 0 && !ctx.quarantine) return { bad, imported: 0, skipped: 0 };

    if (refundBad.length > 0) {
      await client.query(`UPDATE ${STAGE} SET state = ${BAD} WHERE "row" = ANY($1::integer[])`, [refundBad]);
    }
    // Everything accepted and not moved early (sales up to movedUpTo were).
    const inserted = await client.query(
      `INSERT INTO sales (${this.cols}) SELECT ${this.cols} FROM ${STAGE}
        WHERE state = ${GOOD} AND NOT (kind = 'sale' AND "row" <= $1) ORDER BY store, transaction_id
       ON CONFLICT DO NOTHING`,
      [this.movedUpTo],
    );
    const imported = this.moved + (inserted.rowCount ?? 0);
    return { bad, imported, skipped: skipped + this.good - goodGone - imported };
  }

  /**
   * Locks, in order, every month holding a sale that a refund of the file names (in the
   * ledger or in the file): imports refunding the same sales check them one at a time.
   */
  private async lockRefundedMonths(): Promise<void> {
    const client = this.session.client;
    const { rows } = await client.query<{ m: string }>(
      `SELECT DISTINCT x.m FROM (
         SELECT l.month AS m FROM ${REFUNDS} r JOIN sales l ON l.store = r.store AND l.transaction_id = r.refund_of
         UNION ALL
         SELECT t.month FROM ${REFUNDS} r JOIN ${STAGE} t ON t.store = r.store AND t.transaction_id = r.refund_of
       ) x WHERE x.m IS NOT NULL ORDER BY x.m`,
    );
    for (const { m } of rows) await client.query('SELECT pg_advisory_xact_lock($1, $2)', [MONTH_LOCK_CLASS, monthKey(m)]);
  }
}

/** The staged path of a sales import on a PostgreSQL ledger's connection. */
export function stagedSales(session: PgSession, hooks: StagedSalesHooks): StagedPath<SaleParsed> {
  return new StagedSales(session, hooks);
}
