/**
 * `ledger import sales` on SQLite, the whole file at once (one input), as PostgreSQL does it
 * (pg-sales.ts) with the same rules and results as the chunk path (sales.ts `check`):
 *
 *   1. While the file streams, every row is checked by the §7 rules that need no lookup
 *      (fields, consent, product, open month: `freshProblems`) and appended to ONE TEMP
 *      staging table whose rowid is the row number (appends only, no index to keep), with
 *      multi-row INSERTs of STAGE_BATCH rows through one prepared statement and one reused
 *      array of values: good rows with their values, bad rows with their key only (a later
 *      copy of a bad row is still a duplicate). Nothing is looked up per chunk; each key's
 *      32-bit fingerprint is kept (key-fingerprints.ts, 8 bytes a row), which names the few
 *      rows that may be later copies and the rows that may be the sales refunds name.
 *   2. Then the checks that need the ledger run set-based over the staging table: later
 *      copies of a transaction (the suspects read back by row number and compared by key;
 *      no sort of the whole file), held rows already stored, and the refunds,
 *      joined to their sale (in the ledger, with what was refunded of it, or earlier in the
 *      file) and walked in file order (sales-refund-walk.ts, shared with PostgreSQL).
 *   3. The accepted rows move with ONE `INSERT … SELECT … ORDER BY store, transaction_id …
 *      ON CONFLICT DO NOTHING`: sorted by the primary key, the B-trees are filled in order
 *      rather than at random places, and a row the ledger already holds is skipped (counted
 *      as such), never doubled. Columns the row implies (month, product kind and slugs, the
 *      batch) are computed there, not bound once per row.
 *
 * The write transaction (BEGIN IMMEDIATE) is the lock: closed months were read under it.
 * The TEMP tables live in SQLite's temporary file, not in memory (temp_store is left at
 * its file default), so a large file costs disk, not RSS; they are dropped before commit.
 * Memory: one chunk of rows, the bad rows (as on the chunk path) and the refunded sales.
 */
import { CompiledQuery } from 'kysely';
import type { RowProblem } from '../fields.js';
import type { ProductKind, Store } from '../schema.js';
import { BAD, DEFERRED, DUPLICATE, GOOD, packCells, unpackCells } from '../pg-sales-stage.js';
import type { ClosedPeriods } from './closed.js';
import type { ImportContext, Item, StagedPath } from './pipeline.js';
import { duplicateProblem, RefundWalk, settleHeld, type RefundRow } from './sales-refund-walk.js';
import { saleKey, type SaleParsed } from './sales-refunds.js';
import type { Tx } from './types.js';
import { KeyFingerprints } from './key-fingerprints.js';

const STAGE = 'packops_stage_sales';
const PRODUCTS = 'packops_stage_products';
const REFUNDS = 'packops_stage_refunds';
const TARGETS = 'packops_stage_targets';
/** Rows per staging INSERT: 17 values × 500 stays far below SQLite's 32,766 parameters. */
const STAGE_BATCH = 500;
/** Refunds read back per query. */
const REFUND_PAGE = 5000;

/** The staging table's columns, in the order each row's values are bound. */
const STAGE_COLUMNS = [
  'row', 'state', 'cells', 'store', 'transaction_id', 'kind', 'occurred_at', 'product', 'res', 'country', 'currency',
  'gross_minor', 'store_fee_minor', 'tax_minor', 'consent_ref', 'family_hmac', 'refund_of',
] as const;
const WIDTH = STAGE_COLUMNS.length;

/** The ledger columns written and how each comes out of the staging row `s` and its product `p`. */
const MOVE: ReadonlyArray<readonly [string, string]> = [
  ['store', 's.store'], ['transaction_id', 's.transaction_id'], ['kind', 's.kind'], ['occurred_at', 's.occurred_at'],
  // The row's month is its UTC timestamp's first seven characters (timestamp() in fields.ts).
  ['month', 'substr(s.occurred_at, 1, 7)'], ['product', 's.product'], ['product_kind', 'p.product_kind'],
  ['pack_slug', 'p.pack_slug'], ['bundle_slug', 'p.bundle_slug'], ['country', 's.country'], ['currency', 's.currency'],
  ['gross_minor', 's.gross_minor'], ['store_fee_minor', 's.store_fee_minor'], ['tax_minor', 's.tax_minor'],
  ['consent_ref', 's.consent_ref'], ['family_hmac', 's.family_hmac'], ['refund_of', 's.refund_of'], ['batch_id', '?'], ['plan_id', 'p.plan_id'],
];

export interface SqliteStagedHooks {
  /** The problems of a fresh row that need no lookup; sets `p.resolved`. */
  freshProblems(p: SaleParsed, closed: ClosedPeriods): RowProblem[];
  /** Fingerprint width (tests narrow it so that keys collide; default 32). */
  fingerprintBits?: number;
}

const run = (trx: Tx, sqlText: string, params: readonly unknown[] = []) => trx.executeQuery(CompiledQuery.raw(sqlText, [...params]));
async function rows<R>(trx: Tx, sqlText: string, params: readonly unknown[] = []): Promise<R[]> {
  return (await trx.executeQuery<R>(CompiledQuery.raw(sqlText, [...params]))).rows;
}

class SqliteStagedSales implements StagedPath<SaleParsed> {
  private trx: Tx | undefined;
  /** Values of the rows waiting for the next staging INSERT (reused). */
  private readonly pending: unknown[] = new Array<unknown>(STAGE_BATCH * WIDTH);
  private count = 0;
  private readonly sqlBySize = new Map<number, string>();
  /** Rows staged as GOOD. */
  private good = 0;
  /** Bad rows and rows with a deferred problem, by row number. */
  private readonly held = new Map<number, Item<SaleParsed>>();
  private readonly deferred = new Map<number, RowProblem[]>();
  /** Each product resolution, numbered ("kind\0slug" → its number in the products table). */
  private readonly resolutions = new Map<string, number>();
  private readonly products: Array<{ kind: ProductKind; slug: string }> = [];
  /** The staged keys' fingerprints: which rows may be copies of another (key-fingerprints.ts). */
  private readonly keys: KeyFingerprints;
  /** Staged refunds (good or deferred), in row order. */
  private readonly refundRows: number[] = [];
  /** The first row with the fingerprint of each staged refund's sale (it may be that sale). */
  private readonly targetRows: number[] = [];

  constructor(private readonly hooks: SqliteStagedHooks) {
    this.keys = new KeyFingerprints(hooks.fingerprintBits);
  }

  /** Records a staged row's key, and for a refund where its sale may be in the file. */
  private remember(row: number, p: SaleParsed, refund: boolean): void {
    this.keys.add(this.keys.fingerprint(p.store, p.transactionId), row);
    if (!refund) return;
    this.refundRows.push(row);
    const first = this.keys.first(this.keys.fingerprint(p.store, p.refundOf!));
    if (first >= 0 && first !== row) this.targetRows.push(first);
  }

  beforeBegin(): void {}

  private async open(trx: Tx): Promise<void> {
    if (this.trx) return;
    this.trx = trx;
    // TEMP tables are the connection's own; a previous import on it dropped its own.
    await run(trx, `DROP TABLE IF EXISTS temp.${STAGE}`);
    await run(trx, `CREATE TEMP TABLE ${STAGE} ("row" INTEGER PRIMARY KEY, state INTEGER NOT NULL, ${STAGE_COLUMNS.slice(2).map((c) => `"${c}"`).join(', ')})`);
  }

  /** Appends one staged row (values in STAGE_COLUMNS order) to the pending batch. */
  private async stage(...values: unknown[]): Promise<void> {
    let k = this.count * WIDTH;
    for (let i = 0; i < WIDTH; i++) this.pending[k++] = values[i] ?? null;
    this.count++;
    if (this.count === STAGE_BATCH) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.count === 0) return;
    let sqlText = this.sqlBySize.get(this.count);
    if (sqlText === undefined) {
      const one = `(${STAGE_COLUMNS.map(() => '?').join(', ')})`;
      sqlText = `INSERT INTO temp.${STAGE} (${STAGE_COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES ${Array.from({ length: this.count }, () => one).join(', ')}`;
      this.sqlBySize.set(this.count, sqlText);
    }
    await run(this.trx!, sqlText, this.count === STAGE_BATCH ? this.pending : this.pending.slice(0, this.count * WIDTH));
    this.count = 0;
  }

  private resolution(p: SaleParsed): number {
    const r = p.resolved!;
    const key = `${r.kind}\u0000${r.slug}`;
    let n = this.resolutions.get(key);
    if (n === undefined) {
      n = this.products.length;
      this.products.push(r);
      this.resolutions.set(key, n);
    }
    return n;
  }

  async add(ctx: ImportContext, items: Array<Item<SaleParsed>>): Promise<void> {
    await this.open(ctx.trx);
    for (const it of items) {
      const p = it.parsed;
      const row = it.rec.row;
      if (it.problems.length > 0 || p === undefined) {
        this.held.set(row, it);
        // A bad row keeps its key only (a row bad as parsed has no date).
        if (p !== undefined) {
          this.remember(row, p, false);
          await this.stage(row, BAD, null, p.store, p.transactionId);
        }
        continue;
      }
      const problems = this.hooks.freshProblems(p, ctx.closed);
      if (problems.length > 0) {
        this.held.set(row, it);
        this.deferred.set(row, problems);
        // Its key, and what a refund of it looks at.
        this.remember(row, p, p.kind === 'refund');
        await this.stage(row, DEFERRED, null, p.store, p.transactionId, p.kind, p.at.iso, null, null, null, null, null, null, null, null, null, p.refundOf);
        continue;
      }
      this.remember(row, p, p.kind === 'refund');
      await this.stage(
        row, GOOD, ctx.quarantine ? packCells(it.rec.cells) : null, p.store, p.transactionId, p.kind, p.at.iso, p.product,
        this.resolution(p), p.country, p.currency, p.gross, p.fee, p.tax, p.consentRef, p.familyHmac, p.refundOf,
      );
      this.good++;
    }
  }

  async settle(ctx: ImportContext): Promise<{ bad: Array<Item<SaleParsed>>; imported: number; skipped: number }> {
    const bad: Array<Item<SaleParsed>> = [];
    const trx = this.trx;
    if (!trx) {
      // No chunk at all: an empty file.
      return { bad, imported: 0, skipped: 0 };
    }
    await this.flush();
    try {
      return await this.settleStaged(ctx, trx, bad);
    } finally {
      // Dropped inside the transaction: a rollback drops them too.
      for (const t of [TARGETS, REFUNDS, PRODUCTS, STAGE]) await run(trx, `DROP TABLE IF EXISTS temp.${t}`);
    }
  }

  private async settleStaged(ctx: ImportContext, trx: Tx, bad: Array<Item<SaleParsed>>) {
    // Later copies of a transaction in the file (bad or not): the first copy wins.
    const dupRows = await this.laterCopies(trx);
    const duplicates = new Map<number, RowProblem>();
    let goodGone = 0;
    for (const d of dupRows) {
      const problem = duplicateProblem(d.store, d.transaction_id, d.first);
      if (d.state === GOOD) {
        goodGone++;
        bad.push({ rec: { row: d.row, cells: unpackCells(d.cells) }, problems: [problem] });
      } else duplicates.set(d.row, problem);
    }
    if (dupRows.length > 0) await this.mark(trx, DUPLICATE, dupRows.map((d) => d.row));

    // A row with a deferred problem that is already in the ledger is skipped, not bad.
    const storedDeferred = new Set<number>();
    if (this.deferred.size > 0) {
      const stored = await rows<{ row: number }>(
        trx,
        `SELECT s."row" FROM temp.${STAGE} s WHERE s."row" IN (SELECT value FROM json_each(?)) AND s.state = ${DEFERRED}
            AND EXISTS (SELECT 1 FROM sales l WHERE l.store = s.store AND l.transaction_id = s.transaction_id)`,
        [JSON.stringify([...this.deferred.keys()])],
      );
      for (const { row } of stored) storedDeferred.add(row);
    }

    await this.writeProducts(trx);
    const refundBad = await this.walkRefunds(ctx, trx, bad);
    goodGone += refundBad.length;

    const skipped = settleHeld(this.held, this.deferred, duplicates, storedDeferred, bad);
    bad.sort((a, b) => a.rec.row - b.rec.row);
    if (bad.length > 0 && !ctx.quarantine) return { bad, imported: 0, skipped: 0 };

    if (refundBad.length > 0) await this.mark(trx, BAD, refundBad);
    const moved = await run(
      trx,
      `INSERT INTO sales (${MOVE.map(([c]) => `"${c}"`).join(', ')})
       SELECT ${MOVE.map(([, e]) => e).join(', ')} FROM temp.${STAGE} s JOIN temp.${PRODUCTS} p ON p.id = s.res
        WHERE s.state = ${GOOD} ORDER BY s.store, s.transaction_id
       ON CONFLICT DO NOTHING`,
      [ctx.batch],
    );
    const imported = Number(moved.numAffectedRows ?? 0n);
    // A good row not written is one the ledger already holds: skipped, as on the chunk path.
    return { bad, imported, skipped: skipped + this.good - goodGone - imported };
  }

  /**
   * The staged rows that repeat an earlier row's key, with that first row: the rows whose
   * fingerprint was seen before, and the first rows they met, read back and compared by key.
   */
  private async laterCopies(trx: Tx): Promise<Array<{ row: number; state: number; first: number; store: Store; transaction_id: string; cells: string | null }>> {
    const suspects = this.keys.suspects();
    if (suspects.size === 0) return [];
    const staged = await rows<{ row: number; state: number; store: Store; transaction_id: string; cells: string | null }>(
      trx,
      `SELECT "row", state, store, transaction_id, cells FROM temp.${STAGE} WHERE "row" IN (SELECT value FROM json_each(?)) ORDER BY "row"`,
      [JSON.stringify([...suspects])],
    );
    const firsts = new Map<string, number>();
    const later = [];
    for (const s of staged) {
      const key = saleKey(s.store, s.transaction_id);
      const first = firsts.get(key);
      if (first === undefined) firsts.set(key, s.row);
      else later.push({ ...s, first });
    }
    return later;
  }

  private async mark(trx: Tx, state: number, rowNumbers: number[]): Promise<void> {
    await run(trx, `UPDATE temp.${STAGE} SET state = ${state} WHERE "row" IN (SELECT value FROM json_each(?))`, [JSON.stringify(rowNumbers)]);
  }

  /** The products the staged rows resolved to, numbered as `res`. */
  private async writeProducts(trx: Tx): Promise<void> {
    await run(trx, `CREATE TEMP TABLE ${PRODUCTS} (id INTEGER PRIMARY KEY, product_kind TEXT NOT NULL, pack_slug TEXT, bundle_slug TEXT, plan_id TEXT)`);
    for (let id = 0; id < this.products.length; id++) {
      const { kind, slug } = this.products[id]!;
      await run(trx, `INSERT INTO temp.${PRODUCTS} VALUES (?, ?, ?, ?, ?)`, [
        id, kind, kind === 'pack' ? slug : null, kind === 'bundle' ? slug : null, kind === 'plan' ? slug : null,
      ]);
    }
  }

  /**
   * The refunds that are neither later copies nor already stored, in file order, each with
   * its sale, through the shared walk. Returns the rows of staged refunds that turned bad.
   */
  private async walkRefunds(ctx: ImportContext, trx: Tx, bad: Array<Item<SaleParsed>>): Promise<number[]> {
    // The file's refunds in a table of their own (in row order: its rowid pages the walk),
    // and the staged rows that may be the sales they name, indexed; both read by row number.
    if (this.refundRows.length === 0) return [];
    await run(trx, `CREATE TEMP TABLE ${REFUNDS} AS SELECT * FROM temp.${STAGE} WHERE "row" IN (SELECT value FROM json_each(?)) AND state <= ${DEFERRED} ORDER BY "row"`, [
      JSON.stringify(this.refundRows),
    ]);
    // Each refund's sale, if the file has it, is the first row of its key's fingerprint or a
    // row whose fingerprint was taken (the join below matches the keys exactly).
    const maybe = this.keys.suspects();
    for (const row of this.targetRows) maybe.add(row);
    await run(trx, `CREATE TEMP TABLE ${TARGETS} AS SELECT * FROM temp.${STAGE} WHERE "row" IN (SELECT value FROM json_each(?)) AND state < ${DUPLICATE}`, [
      JSON.stringify([...maybe]),
    ]);
    await run(trx, `CREATE INDEX temp.${TARGETS}_key ON ${TARGETS} (store, transaction_id)`);
    const sums = (column: string) =>
      `CASE WHEN l.kind = 'sale' THEN (SELECT sum(x.${column}) FROM sales x WHERE x.kind = 'refund' AND x.store = r.store AND x.refund_of = r.refund_of) END`;
    const page = `SELECT r.rowid AS k, r."row", r.state, r.store, r.transaction_id, r.refund_of, r.occurred_at, substr(r.occurred_at, 1, 7) AS month,
              r.currency, r.product, rp.product_kind, coalesce(rp.pack_slug, rp.bundle_slug, rp.plan_id) AS slug,
              r.gross_minor, r.store_fee_minor, r.tax_minor, r.family_hmac, r.cells,
              l.kind AS l_kind, l.occurred_at AS l_occurred_at, l.currency AS l_currency, l.pack_slug AS l_pack_slug,
              l.bundle_slug AS l_bundle_slug, l.plan_id AS l_plan_id, l.gross_minor AS l_gross_minor,
              l.store_fee_minor AS l_store_fee_minor, l.tax_minor AS l_tax_minor, l.net_minor AS l_net_minor, l.family_hmac AS l_family_hmac,
              ${sums('gross_minor')} AS rg, ${sums('store_fee_minor')} AS rf, ${sums('tax_minor')} AS rt,
              t."row" AS t_row, t.state AS t_state, t.kind AS t_kind, t.occurred_at AS t_occurred_at, t.currency AS t_currency,
              coalesce(tp.pack_slug, tp.bundle_slug, tp.plan_id) AS t_slug, t.gross_minor AS t_gross_minor,
              t.store_fee_minor AS t_store_fee_minor, t.tax_minor AS t_tax_minor, t.family_hmac AS t_family_hmac
         FROM temp.${REFUNDS} r
         LEFT JOIN temp.${PRODUCTS} rp ON rp.id = r.res
         LEFT JOIN sales l ON l.store = r.store AND l.transaction_id = r.refund_of
         LEFT JOIN temp.${TARGETS} t ON t.store = r.store AND t.transaction_id = r.refund_of AND t."row" < r."row"
         LEFT JOIN temp.${PRODUCTS} tp ON tp.id = t.res
        WHERE r.rowid > ?
          AND NOT EXISTS (SELECT 1 FROM sales z WHERE z.store = r.store AND z.transaction_id = r.transaction_id)
        ORDER BY r.rowid LIMIT ${REFUND_PAGE}`;
    const walk = new RefundWalk(this.held, this.deferred, ctx.quarantine, bad);
    for (let after = 0; ; ) {
      const got = await rows<RefundRow & { k: number }>(trx, page, [after]);
      for (const r of got) walk.step(r);
      if (got.length < REFUND_PAGE) break;
      after = got[got.length - 1]!.k;
    }
    return walk.turnedBad;
  }
}

/** The staged path of a sales import on a SQLite ledger. */
export function sqliteStagedSales(hooks: SqliteStagedHooks): StagedPath<SaleParsed> {
  return new SqliteStagedSales(hooks);
}
