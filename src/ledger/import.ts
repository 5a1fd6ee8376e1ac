/**
 * `ledger import sales|reviews|rates`: streams a CSV or JSON Lines file into the ledger in
 * ONE transaction. Rows are checked in chunks (one query per chunk finds the rows already
 * in the ledger and the sales that refunds name), good rows go in through a multi-row
 * INSERT compiled once by Kysely and reused, and every bad row is reported with its row
 * number, column and code. Without `quarantine` any bad row rolls everything back; with
 * it, good rows are written and bad ones kept in the quarantine table.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { CompiledQuery, type Transaction } from 'kysely';
import { conflictError, errnoCode, inputError } from '../shared/errors.js';
import { parseDecimal, type Rational } from '../shared/money.js';
import type { Ledger } from './db.js';
import {
  cellText,
  country,
  currency,
  currencyExponent,
  isPlainText,
  knownCountry,
  plainMinor,
  integerInRange,
  minorAmount,
  month,
  oneOf,
  optionalText,
  requiredText,
  timestamp,
  type Parsed,
  type RowProblem,
} from './fields.js';
import { detectFormat, readChunks, specColumns, type ColumnSpec, type FileFormat, type SourceRecord } from './records.js';
import type { ImportKind, LedgerDB, ProductKind, SaleKind, Store } from './schema.js';

export const STORES = ['appstore', 'googleplay', 'web'] as const satisfies readonly Store[];
export const SALE_KINDS = ['sale', 'refund'] as const satisfies readonly SaleKind[];

/** Rows checked together (one lookup query per chunk). */
const CHUNK = 1000;
/** Rows per multi-row INSERT (18 columns × 500 stays far below SQLite's and PostgreSQL's parameter limits). */
const INSERT_BATCH = 500;
/** Problems listed in an error's details; the counts always cover every row. */
const MAX_REPORTED = 10_000;

export interface ImportOptions {
  quarantine?: boolean;
  format?: FileFormat;
  now?: () => Date;
  onProgress?: (p: { rows: number; bytes: number; totalBytes: number }) => void;
}

export interface ImportSummary {
  ok: true;
  kind: ImportKind;
  file: string;
  format: FileFormat;
  batch: string;
  sha256: string;
  rows: number;
  imported: number;
  skipped: number;
  quarantined: number;
  /** Rates whose stored value in an open month was replaced. */
  updated: number;
}

export interface ReportedProblem extends RowProblem {
  row: number;
}

type Tx = Transaction<LedgerDB>;

interface Item<P> {
  rec: SourceRecord;
  parsed?: P;
  problems: RowProblem[];
  action?: 'insert' | 'skip' | 'update';
}

interface Processor<P> {
  columns: ColumnSpec;
  init(trx: Tx): Promise<void>;
  parse(rec: SourceRecord): { parsed?: P; problems: RowProblem[] };
  /**
   * Cross-row and ledger checks, in file order: sets each good item's action. Every row
   * accepted before this chunk is already written (in this transaction), so the ledger
   * itself answers "is it there already?".
   */
  check(trx: Tx, items: Array<Item<P>>, batch: string): Promise<void>;
  /** Values of one row in `columns` order for the multi-row INSERT. */
  insertColumns: readonly string[];
  table: 'sales' | 'reviews' | 'fx_rates';
  values(p: P, batch: string): unknown[];
  update?(trx: Tx, p: P, batch: string): Promise<void>;
}

function collect(...results: Array<Parsed<unknown>>): RowProblem[] {
  const problems: RowProblem[] = [];
  for (const r of results) if (!r.ok) problems.push(r.problem);
  return problems;
}

/** Imports one file; throws ROWS_INVALID (exit 3) or PERIOD_CLOSED (exit 4) and writes nothing on failure. */
export async function importFile(
  ledger: Ledger,
  kind: ImportKind,
  file: string,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  let totalBytes: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw inputError('PATH_NOT_FOUND', `${file} is not a file.`);
    totalBytes = st.size;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw inputError('PATH_NOT_FOUND', `${file} does not exist.`);
    throw err;
  }
  const format = options.format ?? (await detectFormat(file));
  const now = options.now ?? (() => new Date());
  const processor: Processor<unknown> =
    kind === 'sales'
      ? (salesProcessor(await ledger.familySecret()) as Processor<unknown>)
      : kind === 'reviews'
        ? (reviewsProcessor() as Processor<unknown>)
        : (ratesProcessor() as Processor<unknown>);
  const batch = randomUUID();
  const hash = createHash('sha256');
  let bytes = 0;
  const quarantine = options.quarantine ?? false;

  return ledger.db.transaction().execute(async (trx) => {
    // The first statement writes, so the write lock is taken (or waited for) at once.
    const startedAt = now().toISOString();
    await trx
      .insertInto('import_batches')
      .values({
        id: batch, kind, file_name: basename(file), file_sha256: '', rows: 0, imported: 0, skipped: 0, quarantined: 0,
        started_at: startedAt, finished_at: null,
      })
      .execute();
    await processor.init(trx);
    const inserter = new BatchInserter(trx, processor.table, processor.insertColumns);
    const bad: Array<Item<unknown>> = [];
    let rows = 0;
    let imported = 0;
    let skipped = 0;
    let updated = 0;
    let closedConflict = false;

    const columns = specColumns(processor.columns);
    for await (const records of readChunks(file, {
      format,
      columns: processor.columns,
      chunkSize: CHUNK,
      onChunk: (buf) => {
        hash.update(buf);
        bytes += buf.length;
      },
    })) {
      rows += records.length;
      const chunk: Array<Item<unknown>> = records.map((rec) =>
        rec.shapeError
          ? { rec, problems: [{ column: rec.shapeError.column, code: 'ROW_INVALID', message: rec.shapeError.message }] }
          : { rec, ...processor.parse(rec) },
      );
      // Rows accepted so far go in first, so this chunk's lookups see them. After a bad row
      // (without --quarantine) rows are still written: the transaction is rolled back at
      // the end, and later rows are checked against a true picture of the file.
      await inserter.flush();
      await processor.check(trx, chunk, batch);
      for (const item of chunk) {
        if (item.problems.length > 0) {
          bad.push(item);
          if (item.problems.some((p) => p.code === 'PERIOD_CLOSED')) closedConflict = true;
        } else if (item.action === 'skip') {
          skipped++;
        } else if (item.action === 'update') {
          await processor.update!(trx, item.parsed, batch);
          updated++;
        } else {
          await inserter.add(processor.values(item.parsed, batch));
          imported++;
        }
      }
      options.onProgress?.({ rows, bytes, totalBytes });
    }
    await inserter.flush();

    if (bad.length > 0 && (closedConflict || !quarantine)) {
      const reported = reportProblems(bad);
      const details = {
        file,
        badRows: bad.length,
        problems: reported.total,
        truncated: reported.total > reported.rows.length,
        rows: reported.rows,
      };
      if (closedConflict) {
        throw conflictError('PERIOD_CLOSED', `${file}: ${bad.length} row(s) refused; rows dated in a closed period cannot be imported.`, {
          hint: 'A closed month is immutable. Record corrections in an open month (a refund dated now is fine).',
          details,
        });
      }
      throw inputError('ROWS_INVALID', `${file}: ${bad.length} bad row(s) of ${rows}; nothing was imported.`, {
        hint: 'Fix the rows listed, or import with --quarantine to write the good rows and keep the bad ones aside.',
        details,
      });
    }

    const createdAt = now().toISOString();
    for (let i = 0; i < bad.length; i += 100) {
      await trx
        .insertInto('quarantine')
        .values(
          bad.slice(i, i + 100).map((item) => ({
            batch_id: batch,
            row_number: item.rec.row,
            kind,
            code: item.problems[0]!.code,
            reasons: JSON.stringify(item.problems),
            raw: JSON.stringify(redact(columns, item.rec.cells)),
            created_at: createdAt,
          })),
        )
        .execute();
    }
    const sha256 = hash.digest('hex');
    await trx
      .updateTable('import_batches')
      .set({ file_sha256: sha256, rows, imported, skipped, quarantined: bad.length, finished_at: now().toISOString() })
      .where('id', '=', batch)
      .execute();
    return { ok: true, kind, file, format, batch, sha256, rows, imported, skipped, quarantined: bad.length, updated };
  });
}

/** The row as an object of its columns, without family_ref (never stored raw). */
function redact(columns: readonly string[], cells: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  columns.forEach((c, i) => {
    if (c !== 'family_ref' && cells[i] !== undefined) out[c] = cells[i];
  });
  return out;
}

function reportProblems(bad: Array<Item<unknown>>): { rows: ReportedProblem[]; total: number } {
  const rows: ReportedProblem[] = [];
  let total = 0;
  for (const item of bad) {
    for (const p of item.problems) {
      total++;
      if (rows.length < MAX_REPORTED) rows.push({ row: item.rec.row, column: p.column, code: p.code, message: p.message });
    }
  }
  return { rows, total };
}

/**
 * A multi-row INSERT compiled once by Kysely for a full batch and run again with each
 * batch's values (the driver keeps the prepared statement); the last, shorter batch is
 * compiled for its own size.
 */
class BatchInserter {
  private pending: unknown[] = [];
  private count = 0;
  private readonly sqlBySize = new Map<number, string>();
  constructor(
    private readonly trx: Tx,
    private readonly table: 'sales' | 'reviews' | 'fx_rates',
    private readonly columns: readonly string[],
  ) {}

  async add(values: unknown[]): Promise<void> {
    for (const v of values) this.pending.push(v);
    this.count++;
    if (this.count >= INSERT_BATCH) await this.flush();
  }

  private compile(rows: number): string {
    const row = Object.fromEntries(this.columns.map((c) => [c, null]));
    const compiled = this.trx
      .insertInto(this.table)
      .values(Array.from({ length: rows }, () => ({ ...row })) as never)
      .compile();
    return compiled.sql;
  }

  async flush(): Promise<void> {
    if (this.count === 0) return;
    let sqlText = this.sqlBySize.get(this.count);
    if (sqlText === undefined) {
      sqlText = this.compile(this.count);
      this.sqlBySize.set(this.count, sqlText);
    }
    await this.trx.executeQuery(CompiledQuery.raw(sqlText, this.pending));
    this.pending = [];
    this.count = 0;
  }
}

/**
 * Months close in order, so every month up to the latest closed one is closed too, even one
 * that was never closed itself (it had no activity then). A row in such a month would reach
 * no statement: August cannot be closed or reported once October is, so it is refused.
 */
class ClosedPeriods {
  constructor(private readonly latest: string | undefined) {}
  has(month: string): boolean {
    return this.latest !== undefined && month <= this.latest;
  }
  describe(month: string): string {
    return month === this.latest
      ? `${month} is a closed period`
      : `${month} is not after ${this.latest ?? ''}, the latest closed period (months close in order)`;
  }
}

async function closedMonths(trx: Tx): Promise<ClosedPeriods> {
  const rows = await trx.selectFrom('closed_periods').select('month').execute();
  const latest = rows.map((r) => r.month).sort().at(-1);
  return new ClosedPeriods(latest);
}

function closedProblem(column: string, m: string, closed: ClosedPeriods): RowProblem {
  return { column, code: 'PERIOD_CLOSED', message: `${closed.describe(m)}; it cannot take new rows.` };
}

// ---------------------------------------------------------------------------------- sales

interface SaleParsed {
  store: Store;
  transactionId: string;
  key: string;
  kind: SaleKind;
  at: { iso: string; month: string; ms: number };
  product: string;
  country: string;
  currency: string;
  gross: number;
  fee: number;
  tax: number;
  consentRef: string | null;
  familyHmac: string | null;
  refundOf: string | null;
  resolved?: { kind: ProductKind; slug: string };
}

const SALES_COLUMNS: ColumnSpec = {
  required: ['transaction_id', 'occurred_at', 'store', 'kind', 'product', 'country', 'currency', 'gross_minor', 'store_fee_minor', 'tax_minor'],
  optional: ['consent_ref', 'family_ref', 'refund_of'],
};

const SALE_INSERT_COLUMNS = [
  'store', 'transaction_id', 'kind', 'occurred_at', 'month', 'product', 'product_kind', 'pack_slug', 'bundle_slug',
  'country', 'currency', 'gross_minor', 'store_fee_minor', 'tax_minor', 'consent_ref', 'family_hmac', 'refund_of', 'batch_id',
] as const;

/** What a refund is checked against: its sale and everything refunded of it so far. */
interface SaleState {
  kind: SaleKind;
  ms: number;
  currency: string;
  product: string;
  gross: number;
  fee: number;
  tax: number;
  refGross: number;
  refFee: number;
  refTax: number;
}

function saleKey(store: string, txid: string): string {
  return `${store}\u0000${txid}`;
}

function splitKey(key: string): [Store, string] {
  const i = key.indexOf('\u0000');
  return [key.slice(0, i) as Store, key.slice(i + 1)];
}

/** Transaction keys grouped by store: store → transaction ids. */
function groupByStore(keys: Iterable<string>): Map<Store, string[]> {
  const byStore = new Map<Store, string[]>();
  for (const k of keys) {
    const [st, id] = splitKey(k);
    const ids = byStore.get(st);
    if (ids) ids.push(id);
    else byStore.set(st, [id]);
  }
  return byStore;
}

/** HMACs of family_ref, cached: a family buys more than once (bounded, so memory stays flat). */
function familyHasher(secret: Buffer): (ref: string) => string {
  const cache = new Map<string, string>();
  return (ref) => {
    let h = cache.get(ref);
    if (h === undefined) {
      h = createHmac('sha256', secret).update(ref).digest('hex');
      if (cache.size >= 100_000) cache.clear();
      cache.set(ref, h);
    }
    return h;
  };
}

function salesProcessor(secret: Buffer): Processor<SaleParsed> {
  const slugs = new Map<string, { kind: ProductKind; slug: string }>();
  const storeIds = new Map<string, Map<string, string>>();
  const hmac = familyHasher(secret);
  let closed = new ClosedPeriods(undefined);
  // Keys of this file's rows that were not written (bad or already in the ledger), with
  // their row: a later copy is a duplicate, a refund of a bad sale is reported as such.
  const badKeys = new Map<string, number>();
  // Rows already in the ledger, by store then transaction id (a re-import of a large file
  // keeps every one: no composite key string per row, so 1M skipped rows stay well under 300 MB).
  const skipped: Record<Store, Map<string, number>> = { appstore: new Map(), googleplay: new Map(), web: new Map() };
  // Sales that refunds in this file have named, with everything refunded of them so far.
  const refunded = new Map<string, SaleState>();

  return {
    columns: SALES_COLUMNS,
    table: 'sales',
    insertColumns: SALE_INSERT_COLUMNS,
    async init(trx) {
      closed = await closedMonths(trx);
      const packs = await trx
        .selectFrom('packs')
        .select(['slug', 'appstore_product_id', 'googleplay_product_id', 'web_product_id'])
        .execute();
      for (const store of STORES) storeIds.set(store, new Map());
      for (const p of packs) {
        slugs.set(p.slug, { kind: 'pack', slug: p.slug });
        if (p.appstore_product_id) storeIds.get('appstore')!.set(p.appstore_product_id, p.slug);
        if (p.googleplay_product_id) storeIds.get('googleplay')!.set(p.googleplay_product_id, p.slug);
        if (p.web_product_id) storeIds.get('web')!.set(p.web_product_id, p.slug);
      }
      const bundles = await trx.selectFrom('bundles').select('slug').execute();
      for (const b of bundles) if (!slugs.has(b.slug)) slugs.set(b.slug, { kind: 'bundle', slug: b.slug });
    },

    parse(rec) {
      const c = rec.cells;
      const fast = fastSale(c);
      if (fast) return { parsed: fast, problems: [] };
      const txid = requiredText('transaction_id', c[0]);
      const at = timestamp('occurred_at', c[1]);
      const store = oneOf('store', c[2], STORES);
      const kind = oneOf('kind', c[3], SALE_KINDS);
      const product = requiredText('product', c[4]);
      const ctry = country('country', c[5]);
      const cur = currency('currency', c[6]);
      const curCode = cur.ok ? cur.value : undefined;
      const gross = minorAmount('gross_minor', c[7], curCode);
      const fee = minorAmount('store_fee_minor', c[8], curCode);
      const tax = minorAmount('tax_minor', c[9], curCode);
      const consent = optionalText('consent_ref', c[10]);
      const family = optionalText('family_ref', c[11], 500);
      const refundOf = optionalText('refund_of', c[12]);
      const problems = collect(txid, store, kind, at, product, ctry, cur, gross, fee, tax, consent, family, refundOf);
      if (kind.ok && consent.ok && kind.value === 'sale' && consent.value === null) {
        problems.push({
          column: 'consent_ref',
          code: 'ROW_CONSENT_MISSING',
          message: 'A sale needs consent_ref: the verifiable parental consent behind the purchase (COPPA).',
        });
      }
      if (kind.ok && refundOf.ok) {
        if (kind.value === 'refund' && refundOf.value === null) {
          problems.push({ column: 'refund_of', code: 'ROW_INVALID', message: 'A refund needs refund_of: the transaction_id of the sale it reverses.' });
        } else if (kind.value === 'sale' && refundOf.value !== null) {
          problems.push({ column: 'refund_of', code: 'ROW_INVALID', message: 'A sale cannot have refund_of; is the kind "refund"?' });
        }
      }
      if (!txid.ok || !store.ok) return { problems };
      const key = saleKey(store.value, txid.value);
      if (problems.length > 0) {
        // Keep what identifies the row, so duplicates and refunds of it are reported too.
        return { parsed: { store: store.value, transactionId: txid.value, key } as SaleParsed, problems };
      }
      const familyRef = (family as { value: string | null }).value;
      return {
        parsed: {
          store: store.value,
          transactionId: txid.value,
          key,
          kind: (kind as { value: SaleKind }).value,
          at: (at as { value: SaleParsed['at'] }).value,
          product: (product as { value: string }).value,
          country: (ctry as { value: string }).value,
          currency: curCode!,
          gross: (gross as { value: number }).value,
          fee: (fee as { value: number }).value,
          tax: (tax as { value: number }).value,
          consentRef: (consent as { value: string | null }).value,
          familyHmac: familyRef === null ? null : hmac(familyRef),
          refundOf: (refundOf as { value: string | null }).value,
        },
        problems,
      };
    },

    async check(trx, items, batch) {
      // One query for the chunk: its rows already written (earlier imports, or earlier in
      // this file) and the sales its refunds name that are not yet known here.
      const lookup = new Set<string>();
      const targets = new Set<string>();
      for (const it of items) {
        const p = it.parsed;
        if (!p) continue;
        lookup.add(p.key);
        if (it.problems.length === 0 && p.kind === 'refund') {
          const target = saleKey(p.store, p.refundOf!);
          if (!refunded.has(target)) {
            lookup.add(target);
            targets.add(target);
          }
        }
      }
      const found = new Map<string, SaleState & { batch: string }>();
      if (lookup.size > 0) {
        // One query per store, so the primary key (store, transaction_id) is probed once per id.
        for (const [st, ids] of groupByStore(lookup)) {
          const rows = await trx
            .selectFrom('sales')
            .select(['transaction_id', 'kind', 'occurred_at', 'currency', 'pack_slug', 'bundle_slug', 'gross_minor', 'store_fee_minor', 'tax_minor', 'batch_id'])
            .where('store', '=', st)
            .where('transaction_id', 'in', ids)
            .execute();
          for (const r of rows) {
            found.set(saleKey(st, r.transaction_id), {
              kind: r.kind, ms: Date.parse(r.occurred_at), currency: r.currency, product: (r.pack_slug ?? r.bundle_slug)!,
              gross: r.gross_minor, fee: r.store_fee_minor, tax: r.tax_minor, refGross: 0, refFee: 0, refTax: 0, batch: r.batch_id,
            });
          }
        }
        await loadRefundSums(trx, [...targets].filter((k) => found.get(k)?.kind === 'sale'), found);
      }

      const chunkRows = new Map<string, number>();
      const chunkSales = new Map<string, SaleState>();
      for (const it of items) {
        const p = it.parsed;
        if (!p) continue;
        const prior = found.get(p.key);
        const firstRow = chunkRows.get(p.key) ?? badKeys.get(p.key) ?? skipped[p.store].get(p.transactionId);
        if (firstRow !== undefined || prior?.batch === batch) {
          it.problems.push({
            column: 'transaction_id',
            code: 'ROW_DUPLICATE_IN_FILE',
            message: `Transaction ${p.transactionId} (${p.store}) already appears ${firstRow === undefined ? 'earlier in this file' : `in row ${firstRow}`}; later copies are not imported.`,
          });
          continue;
        }
        chunkRows.set(p.key, it.rec.row);
        if (it.problems.length > 0) {
          badKeys.set(p.key, it.rec.row);
          continue;
        }
        if (prior) {
          skipped[p.store].set(p.transactionId, it.rec.row);
          it.action = 'skip';
          continue;
        }
        if (closed.has(p.at.month)) it.problems.push(closedProblem('occurred_at', p.at.month, closed));
        const resolved = resolveProduct(p);
        if ('problem' in resolved) it.problems.push(resolved.problem);
        else p.resolved = resolved;
        if (p.kind === 'refund') {
          const target = saleKey(p.store, p.refundOf!);
          const sale = refunded.get(target) ?? chunkSales.get(target) ?? found.get(target);
          checkRefund(it, p, sale, badKeys.get(target));
          if (it.problems.length === 0 && sale) refunded.set(target, sale);
        }
        if (it.problems.length > 0) {
          badKeys.set(p.key, it.rec.row);
          continue;
        }
        if (p.kind === 'sale') {
          chunkSales.set(p.key, {
            kind: 'sale', ms: p.at.ms, currency: p.currency, product: p.resolved!.slug,
            gross: p.gross, fee: p.fee, tax: p.tax, refGross: 0, refFee: 0, refTax: 0,
          });
        }
        it.action = 'insert';
      }
    },

    values(p, batch) {
      const r = p.resolved!;
      return [
        p.store, p.transactionId, p.kind, p.at.iso, p.at.month, p.product, r.kind,
        r.kind === 'pack' ? r.slug : null, r.kind === 'bundle' ? r.slug : null,
        p.country, p.currency, p.gross, p.fee, p.tax, p.consentRef, p.familyHmac, p.refundOf, batch,
      ];
    },
  };

  /**
   * The common case without a single problem object: every cell already in its canonical
   * form. Anything else (or any doubt) goes through the full field parsers, which find the
   * same values for good rows and name every problem of bad ones.
   */
  function fastSale(c: unknown[]): SaleParsed | undefined {
    const [txid, occurredAt, store, kind, product, ctry, cur, g, f, t, consent, family, refundOf] = c;
    if (!isPlainText(txid) || !isPlainText(product) || typeof ctry !== 'string' || typeof cur !== 'string') return undefined;
    if (store !== 'appstore' && store !== 'googleplay' && store !== 'web') return undefined;
    if (kind !== 'sale' && kind !== 'refund') return undefined;
    const gross = plainMinor(g);
    const fee = plainMinor(f);
    const tax = plainMinor(t);
    if (gross === undefined || fee === undefined || tax === undefined) return undefined;
    if (!knownCountry(ctry) || currencyExponent(cur) === undefined) return undefined;
    const consentRef = consent === undefined || consent === '' ? null : isPlainText(consent) ? consent : undefined;
    const familyRef = family === undefined || family === '' ? null : isPlainText(family, 500) ? family : undefined;
    const refund = refundOf === undefined || refundOf === '' ? null : isPlainText(refundOf) ? refundOf : undefined;
    if (consentRef === undefined || familyRef === undefined || refund === undefined) return undefined;
    if (kind === 'sale' ? consentRef === null || refund !== null : refund === null) return undefined;
    const at = timestamp('occurred_at', occurredAt);
    if (!at.ok) return undefined;
    return {
      store,
      transactionId: txid,
      key: saleKey(store, txid),
      kind,
      at: at.value,
      product,
      country: ctry,
      currency: cur,
      gross,
      fee,
      tax,
      consentRef,
      familyHmac: familyRef === null ? null : hmac(familyRef),
      refundOf: refund,
    };
  }

  function resolveProduct(p: SaleParsed): { kind: ProductKind; slug: string } | { problem: RowProblem } {
    const bySlug = slugs.get(p.product);
    if (bySlug) return bySlug;
    const byId = storeIds.get(p.store)?.get(p.product);
    if (byId) return { kind: 'pack', slug: byId };
    for (const [otherStore, ids] of storeIds) {
      const other = ids.get(p.product);
      if (other !== undefined) {
        return {
          problem: {
            column: 'product',
            code: 'ROW_PRODUCT_UNKNOWN',
            message: `"${p.product}" is the ${otherStore} product id of ${other}, but the row's store is ${p.store}.`,
          },
        };
      }
    }
    return {
      problem: {
        column: 'product',
        code: 'ROW_PRODUCT_UNKNOWN',
        message: `No pack, bundle or store product id "${p.product}" is registered in the ledger.`,
      },
    };
  }
}

/** Adds the refunds already in the ledger to each named sale's state. */
async function loadRefundSums(trx: Tx, keys: string[], states: Map<string, SaleState>): Promise<void> {
  for (const [store, ids] of groupByStore(keys)) {
    const sums = await trx
      .selectFrom('sales')
      .select((eb) => [
        'refund_of',
        eb.fn.sum<number | string>('gross_minor').as('g'),
        eb.fn.sum<number | string>('store_fee_minor').as('f'),
        eb.fn.sum<number | string>('tax_minor').as('t'),
      ])
      .where('kind', '=', 'refund')
      .where('store', '=', store)
      .where('refund_of', 'in', ids)
      .groupBy('refund_of')
      .execute();
    for (const r of sums) {
      const st = states.get(saleKey(store, r.refund_of!))!;
      st.refGross = Number(r.g);
      st.refFee = Number(r.f);
      st.refTax = Number(r.t);
    }
  }
}

/**
 * A refund must name an earlier sale of the same store, in the same currency and for the
 * same product, dated no later than the refund; all refunds of a sale together never
 * exceed it, column by column (gross, store fee and tax each).
 */
function checkRefund(it: Item<SaleParsed>, p: SaleParsed, sale: SaleState | undefined, badRow: number | undefined): void {
  if (!sale) {
    it.problems.push({
      column: 'refund_of',
      code: 'ROW_REFUND_UNKNOWN',
      message:
        badRow !== undefined
          ? `The sale ${p.refundOf} (${p.store}) it refunds, in row ${badRow}, is itself invalid.`
          : `No earlier ${p.store} sale ${p.refundOf} is in the ledger or earlier in this file.`,
    });
    return;
  }
  if (sale.kind !== 'sale') {
    it.problems.push({ column: 'refund_of', code: 'ROW_REFUND_UNKNOWN', message: `${p.refundOf} is a refund, not a sale.` });
    return;
  }
  if (sale.currency !== p.currency) {
    it.problems.push({ column: 'currency', code: 'ROW_INVALID', message: `The refund is in ${p.currency}; its sale ${p.refundOf} was in ${sale.currency}.` });
  }
  if (p.resolved && sale.product !== p.resolved.slug) {
    it.problems.push({ column: 'product', code: 'ROW_INVALID', message: `The refund is for ${p.resolved.slug}; its sale ${p.refundOf} was for ${sale.product}.` });
  }
  if (p.at.ms < sale.ms) {
    it.problems.push({ column: 'occurred_at', code: 'ROW_INVALID', message: `The refund is dated before its sale ${p.refundOf}.` });
  }
  const over: Array<[string, number, number, number]> = [
    ['gross_minor', p.gross, sale.refGross, sale.gross],
    ['store_fee_minor', p.fee, sale.refFee, sale.fee],
    ['tax_minor', p.tax, sale.refTax, sale.tax],
  ];
  for (const [column, amount, already, limit] of over) {
    if (already + amount > limit) {
      it.problems.push({
        column,
        code: 'ROW_REFUND_EXCEEDS',
        message: `Refunds of ${p.refundOf} would reach ${already + amount} ${p.currency} minor units of ${column}; the sale had ${limit}${already ? ` (${already} already refunded)` : ''}.`,
      });
    }
  }
  if (it.problems.length === 0) {
    sale.refGross += p.gross;
    sale.refFee += p.fee;
    sale.refTax += p.tax;
  }
}

// -------------------------------------------------------------------------------- reviews

interface ReviewParsed {
  reviewId: string;
  pack: string;
  rating: number;
  at: { iso: string; month: string };
}

function reviewsProcessor(): Processor<ReviewParsed> {
  let closed = new ClosedPeriods(undefined);
  let packs = new Set<string>();
  const seen = new Map<string, number>();
  return {
    columns: { required: ['review_id', 'pack', 'rating', 'reviewed_at'], optional: [] },
    table: 'reviews',
    insertColumns: ['review_id', 'pack_slug', 'rating', 'reviewed_at', 'month', 'batch_id'],
    async init(trx) {
      closed = await closedMonths(trx);
      packs = new Set((await trx.selectFrom('packs').select('slug').execute()).map((r) => r.slug));
    },
    parse(rec) {
      const [vId, vPack, vRating, vAt] = rec.cells;
      const id = requiredText('review_id', vId);
      const pack = requiredText('pack', vPack);
      const rating = integerInRange('rating', vRating, 1, 5);
      const at = timestamp('reviewed_at', vAt);
      const problems = collect(id, pack, rating, at);
      if (!id.ok) return { problems };
      if (problems.length) return { parsed: { reviewId: id.value } as ReviewParsed, problems };
      return {
        parsed: {
          reviewId: id.value,
          pack: (pack as { value: string }).value,
          rating: (rating as { value: number }).value,
          at: (at as { value: ReviewParsed['at'] }).value,
        },
        problems,
      };
    },
    async check(trx, items) {
      const ids = items.map((i) => i.parsed?.reviewId).filter((x): x is string => x !== undefined && !seen.has(x));
      const existing = new Set(
        ids.length ? (await trx.selectFrom('reviews').select('review_id').where('review_id', 'in', ids).execute()).map((r) => r.review_id) : [],
      );
      for (const it of items) {
        const p = it.parsed;
        if (!p) continue;
        const first = seen.get(p.reviewId);
        if (first !== undefined) {
          it.problems.push({ column: 'review_id', code: 'ROW_DUPLICATE_IN_FILE', message: `Review ${p.reviewId} already appears in row ${first}.` });
          continue;
        }
        seen.set(p.reviewId, it.rec.row);
        if (it.problems.length) continue;
        if (existing.has(p.reviewId)) {
          it.action = 'skip';
          continue;
        }
        if (closed.has(p.at.month)) it.problems.push(closedProblem('reviewed_at', p.at.month, closed));
        if (!packs.has(p.pack)) {
          it.problems.push({ column: 'pack', code: 'ROW_PRODUCT_UNKNOWN', message: `No pack "${p.pack}" is registered in the ledger.` });
        }
        if (!it.problems.length) it.action = 'insert';
      }
    },
    values(p, batch) {
      return [p.reviewId, p.pack, p.rating, p.at.iso, p.at.month, batch];
    },
  };
}

// ---------------------------------------------------------------------------------- rates

interface RateParsed {
  currency: string;
  month: string;
  rate: Rational;
  text: string;
}

/** The canonical text of a positive decimal: no leading or trailing zeros ("0.00640" → "0.0064"). */
export function canonicalDecimal(r: Rational): string {
  const digits = String(r.den).length - 1;
  const neg = r.num < 0n;
  let s = (neg ? -r.num : r.num).toString().padStart(digits + 1, '0');
  let int = s.slice(0, s.length - digits);
  let frac = digits ? s.slice(s.length - digits) : '';
  frac = frac.replace(/0+$/, '');
  int = int.replace(/^0+(?=\d)/, '');
  s = frac ? `${int}.${frac}` : int;
  return neg ? `-${s}` : s;
}

function sameRational(a: Rational, b: Rational): boolean {
  return a.num * b.den === b.num * a.den;
}

function ratesProcessor(): Processor<RateParsed> {
  let closed = new ClosedPeriods(undefined);
  const seen = new Map<string, number>();
  return {
    columns: { required: ['currency', 'month', 'usd_per_unit'], optional: [] },
    table: 'fx_rates',
    insertColumns: ['currency', 'month', 'usd_per_unit', 'batch_id'],
    async init(trx) {
      closed = await closedMonths(trx);
    },
    parse(rec) {
      const [vCurrency, vMonth, vRate] = rec.cells;
      const cur = currency('currency', vCurrency);
      const m = month('month', vMonth);
      const problems = collect(cur, m);
      const text = typeof vRate === 'number' ? '' : cellText(vRate).trim();
      const rate = parseDecimal(text);
      if (typeof vRate === 'number') {
        problems.push({ column: 'usd_per_unit', code: 'ROW_INVALID', message: 'usd_per_unit must be a decimal string ("1.2710"), not a JSON number, so no digit is lost.' });
      } else if (!rate || rate.num <= 0n) {
        problems.push({ column: 'usd_per_unit', code: 'ROW_INVALID', message: `usd_per_unit "${text}" is not a positive decimal (e.g. 1.2710 or 0.0064).` });
      } else if (cur.ok && cur.value === 'USD' && rate.num !== rate.den) {
        problems.push({ column: 'usd_per_unit', code: 'ROW_INVALID', message: 'The rate of USD to USD is 1.' });
      }
      if (!cur.ok || !m.ok) return { problems };
      const parsed = { currency: cur.value, month: m.value, rate: rate!, text: rate ? canonicalDecimal(rate) : '' };
      return { parsed, problems };
    },
    async check(trx, items) {
      const currencies = [...new Set(items.map((i) => i.parsed?.currency).filter((x): x is string => !!x))];
      const months = [...new Set(items.map((i) => i.parsed?.month).filter((x): x is string => !!x))];
      const stored = new Map<string, string>();
      if (currencies.length) {
        const rows = await trx
          .selectFrom('fx_rates')
          .select(['currency', 'month', 'usd_per_unit'])
          .where('currency', 'in', currencies)
          .where('month', 'in', months)
          .execute();
        for (const r of rows) stored.set(`${r.currency} ${r.month}`, r.usd_per_unit);
      }
      for (const it of items) {
        const p = it.parsed;
        if (!p) continue;
        const key = `${p.currency} ${p.month}`;
        const first = seen.get(key);
        if (first !== undefined) {
          it.problems.push({ column: 'currency', code: 'ROW_DUPLICATE_IN_FILE', message: `The ${p.currency} rate for ${p.month} already appears in row ${first}.` });
          continue;
        }
        seen.set(key, it.rec.row);
        if (it.problems.length) continue;
        const old = stored.get(key);
        const same = old !== undefined && sameRational(parseDecimal(old)!, p.rate);
        if (same) {
          it.action = 'skip';
        } else if (closed.has(p.month)) {
          it.problems.push({
            column: 'usd_per_unit',
            code: 'PERIOD_CLOSED',
            message:
              old === undefined
                ? `${closed.describe(p.month)}; a rate cannot be added to it.`
                : `${closed.describe(p.month)} with ${p.currency} at ${old}; it cannot change to ${p.text}.`,
          });
        } else {
          it.action = old === undefined ? 'insert' : 'update';
        }
      }
    },
    values(p, batch) {
      return [p.currency, p.month, p.text, batch];
    },
    async update(trx, p, batch) {
      await trx
        .updateTable('fx_rates')
        .set({ usd_per_unit: p.text, batch_id: batch })
        .where('currency', '=', p.currency)
        .where('month', '=', p.month)
        .execute();
    },
  };
}
