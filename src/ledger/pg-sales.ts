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
 * import finds the month closed. Before step 2 the import also takes, exclusively and in
 * order, a lock per month of the sales its refunds name: two imports refunding the same
 * sale run their checks one after the other, so refunds never add up past the sale.
 *
 * Memory: one chunk of rows, the bad rows (as on SQLite) and the sales refunded so far.
 */
import { finished } from 'node:stream/promises';
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import type { RowProblem } from './fields.js';
import type { ClosedPeriods } from './import/closed.js';
import type { ImportContext, Item, StagedPath } from './import/pipeline.js';
import { checkRefund, saleKey, storedSaleState, type SaleParsed, type SaleState } from './import/sales-refunds.js';
import { subscriptionRowProblems } from './import/subscription-rows.js';
import type { ProductKind, SaleKind, Store } from './schema.js';
import { copyField } from './pg-copy.js';
import { MONTH_LOCK_CLASS, type PgSession } from './pg.js';

const require = createRequire(import.meta.url);

const STAGE = 'packops_stage_sales';
/** Staging states: 0 accepted so far, 1 a problem unless it turns out a duplicate or already stored, 2 bad, 3 a later copy. */
const GOOD = 0;
const DEFERRED = 1;
const BAD = 2;
const DUPLICATE = 3;
/** Refund rows read back per round trip. */
const CURSOR_ROWS = 5000;

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

/** Cells kept for a row that may still be quarantined: their positions survive (a JSON Lines cell may be absent). */
function packCells(cells: readonly unknown[]): string {
  return JSON.stringify({ n: cells.length, c: Object.assign({}, cells) });
}
function unpackCells(text: string | null): unknown[] {
  if (text === null) return [];
  const { n, c } = JSON.parse(text) as { n: number; c: Record<string, unknown> };
  const cells = new Array<unknown>(n);
  for (const [k, v] of Object.entries(c)) cells[Number(k)] = v;
  return cells;
}

interface RefundRow {
  row: number;
  state: number;
  store: Store;
  transaction_id: string;
  refund_of: string;
  occurred_at: string;
  month: string;
  currency: string;
  product: string;
  product_kind: ProductKind;
  slug: string;
  gross_minor: number;
  store_fee_minor: number;
  tax_minor: number;
  family_hmac: string | null;
  cells: string | null;
  l_kind: SaleKind | null;
  l_occurred_at: string;
  l_currency: string;
  l_pack_slug: string | null;
  l_bundle_slug: string | null;
  l_plan_id: string | null;
  l_gross_minor: number | null;
  l_store_fee_minor: number | null;
  l_tax_minor: number | null;
  l_net_minor: number | null;
  l_family_hmac: string | null;
  rg: number | null;
  rf: number | null;
  rt: number | null;
  t_row: number | null;
  t_state: number | null;
  t_kind: SaleKind | null;
  t_occurred_at: string;
  t_currency: string;
  t_slug: string;
  t_gross_minor: number;
  t_store_fee_minor: number;
  t_tax_minor: number;
  t_family_hmac: string | null;
}

/** The part of pg-cursor used here (it ships no types). */
interface CursorClass {
  new (text: string): { read(rows: number): Promise<RefundRow[]>; close(): Promise<void> } & import('pg').Submittable;
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
    // Room to sort and hash the file's keys in memory. (No ANALYZE: it costs more than it
    // saves; the planner sizes the staging table from its pages.)
    await client.query(`SET LOCAL work_mem = '64MB'`);
    await this.lockRefundedMonths();

    // Later copies of a transaction in the file (bad or not): the first copy wins.
    const dupRows = await client.query<{ row: number; state: number; first: number; store: Store; transaction_id: string; cells: string | null }>(
      `SELECT d."row", d.state, d.first, d.store, d.transaction_id, d.cells FROM (
         SELECT "row", state, store, transaction_id, cells, min("row") OVER (PARTITION BY store, transaction_id) AS first FROM ${STAGE}
       ) d WHERE d."row" <> d.first`,
    );
    const duplicates = new Map<number, RowProblem>();
    let goodGone = 0;
    for (const d of dupRows.rows) {
      const problem: RowProblem = {
        column: 'transaction_id',
        code: 'ROW_DUPLICATE_IN_FILE',
        message: `Transaction ${d.transaction_id} (${d.store}) already appears in row ${d.first}; later copies are not imported.`,
      };
      if (d.state === GOOD) {
        goodGone++;
        bad.push({ rec: { row: d.row, cells: unpackCells(d.cells) }, problems: [problem] });
      } else duplicates.set(d.row, problem);
    }
    if (dupRows.rows.length > 0) {
      await client.query(`UPDATE ${STAGE} SET state = ${DUPLICATE} WHERE "row" = ANY($1::integer[])`, [dupRows.rows.map((d) => d.row)]);
    }

    // A row with a deferred problem that is already in the ledger is skipped, not bad.
    const storedDeferred = new Set<number>();
    if (this.deferred.size > 0) {
      const r = await client.query<{ row: number }>(
        `SELECT s."row" FROM ${STAGE} s WHERE s.state = ${DEFERRED} AND EXISTS (SELECT 1 FROM sales l WHERE l.store = s.store AND l.transaction_id = s.transaction_id)`,
      );
      for (const { row } of r.rows) storedDeferred.add(row);
    }

    const refundBad = await this.checkRefunds(ctx, bad);
    goodGone += refundBad.length;

    let skipped = 0;
    for (const [row, it] of this.held) {
      const dup = duplicates.get(row);
      const deferred = this.deferred.get(row);
      if (deferred === undefined) {
        if (dup) it.problems.push(dup);
      } else if (dup) {
        it.problems = [dup];
      } else if (storedDeferred.has(row)) {
        skipped++;
        continue;
      } else if (it.problems.length === 0) {
        it.problems = deferred;
      }
      bad.push(it);
    }
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

  /**
   * Locks, in order, every month holding a sale that a refund of the file names (in the
   * ledger or in the file): imports refunding the same sales check them one at a time.
   */
  private async lockRefundedMonths(): Promise<void> {
    const client = this.session.client;
    const { rows } = await client.query<{ m: string }>(
      `SELECT DISTINCT x.m FROM (
         SELECT l.month AS m FROM ${STAGE} r JOIN sales l ON l.store = r.store AND l.transaction_id = r.refund_of WHERE r.kind = 'refund'
         UNION ALL
         SELECT t.month FROM ${STAGE} r JOIN ${STAGE} t ON t.store = r.store AND t.transaction_id = r.refund_of WHERE r.kind = 'refund'
       ) x WHERE x.m IS NOT NULL ORDER BY x.m`,
    );
    for (const { m } of rows) await client.query('SELECT pg_advisory_xact_lock($1, $2)', [MONTH_LOCK_CLASS, monthKey(m)]);
  }

  /**
   * The refunds that are neither later copies nor already stored, in file order, each with
   * its sale: the ledger's (and what was refunded of it) or the file's first copy. Adds the
   * bad ones to `bad` (a held row's problems are extended in place) and returns the rows of
   * staged rows that turned bad.
   */
  private async checkRefunds(ctx: ImportContext, bad: Array<Item<SaleParsed>>): Promise<number[]> {
    const Cursor = require('pg-cursor') as CursorClass;
    const client = this.session.client;
    const cursor = client.query(
      new Cursor(
        `SELECT r."row", r.state, r.store, r.transaction_id, r.refund_of, r.occurred_at, r.month, r.currency, r.product, r.product_kind,
                coalesce(r.pack_slug, r.bundle_slug, r.plan_id) AS slug, r.gross_minor, r.store_fee_minor, r.tax_minor, r.family_hmac, r.cells,
                l.kind AS l_kind, l.occurred_at AS l_occurred_at, l.currency AS l_currency, l.pack_slug AS l_pack_slug,
                l.bundle_slug AS l_bundle_slug, l.plan_id AS l_plan_id, l.gross_minor AS l_gross_minor,
                l.store_fee_minor AS l_store_fee_minor, l.tax_minor AS l_tax_minor, l.net_minor AS l_net_minor, l.family_hmac AS l_family_hmac,
                rs.g AS rg, rs.f AS rf, rs.t AS rt,
                t."row" AS t_row, t.state AS t_state, t.kind AS t_kind, t.occurred_at AS t_occurred_at, t.currency AS t_currency,
                coalesce(t.pack_slug, t.bundle_slug, t.plan_id) AS t_slug, t.gross_minor AS t_gross_minor,
                t.store_fee_minor AS t_store_fee_minor, t.tax_minor AS t_tax_minor, t.family_hmac AS t_family_hmac
           FROM ${STAGE} r
           LEFT JOIN sales l ON l.store = r.store AND l.transaction_id = r.refund_of
           LEFT JOIN LATERAL (
             SELECT sum(x.gross_minor) AS g, sum(x.store_fee_minor) AS f, sum(x.tax_minor) AS t FROM sales x
              WHERE x.kind = 'refund' AND x.store = r.store AND x.refund_of = r.refund_of
           ) rs ON l.kind = 'sale'
           LEFT JOIN ${STAGE} t ON t.store = r.store AND t.transaction_id = r.refund_of AND t.state < ${DUPLICATE} AND t."row" < r."row"
          WHERE r.kind = 'refund' AND r.state <= ${DEFERRED}
            AND NOT EXISTS (SELECT 1 FROM sales z WHERE z.store = r.store AND z.transaction_id = r.transaction_id)
          ORDER BY r."row"`,
      ),
    );
    const refunded = new Map<string, SaleState>();
    /** Staged refunds found bad here (a later refund of one names a bad row). */
    const turnedBad = new Set<number>();
    const out: number[] = [];
    try {
      for (;;) {
        const rows = await cursor.read(CURSOR_ROWS);
        if (rows.length === 0) break;
        for (const r of rows) {
          const held = r.state === DEFERRED ? this.held.get(r.row) : undefined;
          const p: SaleParsed = held?.parsed ?? {
            store: r.store, transactionId: r.transaction_id, key: saleKey(r.store, r.transaction_id), kind: 'refund',
            at: { iso: r.occurred_at, month: r.month, ms: Date.parse(r.occurred_at) },
            product: r.product, country: '', currency: r.currency, gross: r.gross_minor, fee: r.store_fee_minor, tax: r.tax_minor,
            consentRef: null, familyHmac: r.family_hmac, refundOf: r.refund_of, resolved: { kind: r.product_kind, slug: r.slug },
          };
          const it: Item<SaleParsed> = held
            ? { rec: held.rec, parsed: p, problems: [...this.deferred.get(r.row)!] }
            : { rec: { row: r.row, cells: [] }, parsed: p, problems: [] };
          const target = saleKey(p.store, p.refundOf!);
          let sale = refunded.get(target);
          let badRow: number | undefined;
          if (!sale && r.l_kind !== null) {
            sale = storedSaleState({
              kind: r.l_kind, occurred_at: r.l_occurred_at, currency: r.l_currency, pack_slug: r.l_pack_slug, bundle_slug: r.l_bundle_slug,
              plan_id: r.l_plan_id, gross_minor: r.l_gross_minor, store_fee_minor: r.l_store_fee_minor, tax_minor: r.l_tax_minor,
              net_minor: r.l_net_minor, family_hmac: r.l_family_hmac,
            });
            sale.refGross = Number(r.rg ?? 0);
            sale.refFee = Number(r.rf ?? 0);
            sale.refTax = Number(r.rt ?? 0);
          } else if (!sale && r.t_row !== null) {
            if (r.t_state === GOOD && !turnedBad.has(r.t_row)) {
              sale = {
                kind: r.t_kind!, ms: Date.parse(r.t_occurred_at), currency: r.t_currency, product: r.t_slug,
                gross: r.t_gross_minor, fee: r.t_store_fee_minor, tax: r.t_tax_minor, refGross: 0, refFee: 0, refTax: 0, family: r.t_family_hmac,
              };
            } else {
              badRow = r.t_row;
            }
          }
          if (p.resolved?.kind === 'plan' && p.familyHmac !== null) it.problems.push(...subscriptionRowProblems(p, sale?.family));
          checkRefund(it, p, sale, badRow);
          if (it.problems.length === 0) {
            if (sale) refunded.set(target, sale);
            continue;
          }
          turnedBad.add(r.row);
          if (held) {
            // Reported with the held row in settle().
            this.deferred.set(r.row, it.problems);
            continue;
          }
          if (ctx.quarantine) it.rec.cells = unpackCells(r.cells);
          bad.push(it);
          out.push(r.row);
        }
      }
    } finally {
      await cursor.close();
    }
    return out;
  }
}

/** The staged path of a sales import on a PostgreSQL ledger's connection. */
export function stagedSales(session: PgSession, hooks: StagedSalesHooks): StagedPath<SaleParsed> {
  return new StagedSales(session, hooks);
}
