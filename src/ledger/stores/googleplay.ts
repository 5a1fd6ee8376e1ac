/**
 * `ledger import googleplay <file…>` (§15): the Google Play earnings report, read as Google
 * delivers it (.csv or .zip; UTF-8 or UTF-16), grouped into one transaction per order and
 * one refund per order and refund time, matched to the purchase log for consent (a renewal
 * `..N` by its base order id), and written, held or refused.
 */
import { usageError } from '../../shared/errors.js';
import { addRow, baseOrderId, checkTx, GoogleHeader, parseGoogleRow, type GoogleTx } from '../../stores/googleplay.js';
import { decodeText, fileSha256, readRecords, reportParts } from '../../stores/source.js';
import type { Ledger } from '../db.js';
import {
  closedCheck, isoOf, openHolds, periodClosed, priorReports, Problems, productResolver, replacePredecessors, type Tx,
} from './common.js';
import { recordReport, ReportTally, runStoreImport, type ReportSummary, type RunContext, type StoreImportOptions, type StoreImportSummary } from './report-run.js';

export interface GoogleImportOptions extends StoreImportOptions {
  /** The app's package name: rows of other packages are skipped and counted. */
  package?: string;
}

const CHUNK = 500;

interface ParsedReport {
  label: string;
  sha256: string;
  txs: Map<string, GoogleTx>;
  pkg: string;
  months: Set<string>;
  tally: ReportTally;
}

async function parseReport(file: string, pkgOption: string | undefined, onProgress: GoogleImportOptions['onProgress']): Promise<ParsedReport> {
  const sha256 = await fileSha256(file);
  const tally = new ReportTally();
  const problems = new Problems();
  const txs = new Map<string, GoogleTx>();
  const packages = new Set<string>();
  const months = new Set<string>();
  let label = file;
  let parts = 0;
  for await (const part of reportParts(file, (name) => /\.csv$/i.test(name))) {
    if (++parts > 1) throw usageError(`${file} holds more than one CSV; import one earnings report per file.`);
    label = part.label;
    let header: GoogleHeader | undefined;
    for await (const batch of readRecords(decodeText(part.chunks), { delimiter: ',', quote: true, label })) {
      for (const rec of batch) {
        if (!header) {
          header = GoogleHeader.from(rec.cells, label);
          continue;
        }
        tally.rows++;
        const row = parseGoogleRow(rec.line, rec.cells, header);
        if (Array.isArray(row)) {
          for (const p of row) problems.add({ row: p.line, column: p.column, code: p.code, message: p.message });
          continue;
        }
        tally.report.add(row.currency, row.amount);
        if (pkgOption !== undefined && row.pkg !== pkgOption) {
          tally.otherRows++;
          tally.other.add(row.currency, row.amount);
          continue;
        }
        packages.add(row.pkg);
        months.add(row.pacificMonth);
        addRow(txs, row);
      }
      onProgress?.({ file, rows: tally.rows });
    }
    if (!header) {
      throw usageError(`${label} is empty: an earnings report starts with its header line.`);
    }
  }
  problems.throwIfAny(label, tally.rows);
  if (pkgOption === undefined && packages.size > 1) {
    throw usageError(`${label} holds rows of ${packages.size} apps (${[...packages].sort().join(', ')}); name yours with --package or the googleplay.package config key.`);
  }
  const pkg = pkgOption ?? [...packages][0] ?? '';
  return { label, sha256, txs, pkg, months, tally };
}

export async function importGooglePlay(ledger: Ledger, files: string[], options: GoogleImportOptions = {}): Promise<StoreImportSummary> {
  return runStoreImport(ledger, 'googleplay', files, options, async (ctx, file) => {
    const parsed = await parseReport(file, options.package, options.onProgress);
    return [await writeReport(ctx, parsed)];
  });
}

interface SaleState {
  gross: number;
  fee: number;
  tax: number;
  refGross: number;
  refFee: number;
  refTax: number;
}

async function writeReport(ctx: RunContext, r: ParsedReport): Promise<{ summary: ReportSummary; tally: ReportTally }> {
  const { trx } = ctx;
  const t = r.tally;
  const sortedMonths = [...r.months].sort();
  const reportKey = `googleplay:${r.pkg}:${sortedMonths.length ? `${sortedMonths[0]}..${sortedMonths.at(-1)}` : 'empty'}`;
  const isClosed = await closedCheck(trx);
  const prior = await priorReports(trx, 'googleplay', reportKey, r.sha256);
  const status: ReportSummary['status'] = prior.same ? 'again' : prior.predecessors.length ? 'corrected' : 'new';
  t.replaced = await replacePredecessors(trx, 'googleplay', reportKey, prior.predecessors, isClosed, r.label);
  const resolve = await productResolver(trx, 'googleplay');
  const holds = await openHolds(trx, 'googleplay', reportKey);
  const problems = new Problems();
  const closedMonths = new Set<string>();
  /** Sales this run wrote or held, by order id. */
  const writtenSales = new Map<string, SaleState>();
  const heldSales = new Set<string>();
  t.orders = r.txs.size;

  let chunk: GoogleTx[] = [];
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    await writeChunk(ctx, chunk, { reportKey, r, t, resolve, holds, problems, isClosed, closedMonths, writtenSales, heldSales });
    chunk = [];
  };
  for (const tx of r.txs.values()) {
    chunk.push(tx);
    if (chunk.length >= CHUNK) await flush();
  }
  await flush();
  problems.throwIfAny(r.label, t.rows);
  if (closedMonths.size) periodClosed(r.label, closedMonths, 'it has transactions in');
  const summary = t.summary(r.label, reportKey, r.sha256, status);
  if (t.changed) await recordReport(ctx, 'googleplay', summary);
  return { summary, tally: t };
}

interface ChunkState {
  reportKey: string;
  r: ParsedReport;
  t: ReportTally;
  resolve: (product: string) => { kind: 'pack' | 'bundle'; slug: string } | undefined;
  holds: Map<string, { units: number; amount_minor: number }>;
  problems: Problems;
  isClosed: (month: string) => boolean;
  closedMonths: Set<string>;
  writtenSales: Map<string, SaleState>;
  heldSales: Set<string>;
}

async function lookups(trx: Tx, chunk: GoogleTx[]) {
  const ids = chunk.map((c) => c.txid);
  const orders = [...new Set(chunk.filter((c) => c.kind === 'refund').map((c) => c.order))];
  const purchaseIds = [...new Set(chunk.filter((c) => c.kind === 'sale').flatMap((c) => [c.order, baseOrderId(c.order)]))];
  const inLedger = new Set(
    (await trx.selectFrom('sales').select('transaction_id').where('store', '=', 'googleplay').where('transaction_id', 'in', ids).execute()).map((x) => x.transaction_id),
  );
  const purchases = new Map<string, { consent_ref: string | null; family_hmac: string }>();
  if (purchaseIds.length) {
    for (const p of await trx
      .selectFrom('purchases')
      .select(['transaction_id', 'consent_ref', 'family_hmac'])
      .where('store', '=', 'googleplay')
      .where('kind', '=', 'sale')
      .where('transaction_id', 'in', purchaseIds)
      .execute()) {
      purchases.set(p.transaction_id, p);
    }
  }
  const sales = new Map<string, SaleState>();
  const heldElsewhere = new Set<string>();
  if (orders.length) {
    for (const s of await trx
      .selectFrom('sales')
      .select(['transaction_id', 'gross_minor', 'store_fee_minor', 'tax_minor'])
      .where('store', '=', 'googleplay')
      .where('kind', '=', 'sale')
      .where('transaction_id', 'in', orders)
      .execute()) {
      sales.set(s.transaction_id, { gross: Number(s.gross_minor), fee: Number(s.store_fee_minor), tax: Number(s.tax_minor), refGross: 0, refFee: 0, refTax: 0 });
    }
    for (const s of await trx
      .selectFrom('sales')
      .select((eb) => ['refund_of', eb.fn.sum<number>('gross_minor').as('g'), eb.fn.sum<number>('store_fee_minor').as('f'), eb.fn.sum<number>('tax_minor').as('t')])
      .where('store', '=', 'googleplay')
      .where('kind', '=', 'refund')
      .where('refund_of', 'in', orders)
      .groupBy('refund_of')
      .execute()) {
      const st = sales.get(s.refund_of!);
      if (st) {
        st.refGross = Number(s.g);
        st.refFee = Number(s.f);
        st.refTax = Number(s.t);
      }
    }
    for (const h of await trx
      .selectFrom('consent_holds')
      .select('hold_key')
      .where('store', '=', 'googleplay')
      .where('hold_key', 'in', orders)
      .where('released_batch', 'is', null)
      .execute()) {
      heldElsewhere.add(h.hold_key);
    }
  }
  return { inLedger, purchases, sales, heldElsewhere };
}

async function writeChunk(ctx: RunContext, chunk: GoogleTx[], s: ChunkState): Promise<void> {
  const { trx, batch } = ctx;
  const { t, problems } = s;
  const found = await lookups(trx, chunk);
  const rows: Array<Record<string, unknown>> = [];
  const released: string[] = [];
  const newHolds: Array<Record<string, unknown>> = [];
  const createdAt = ctx.now().toISOString();
  for (const tx of chunk) {
    const problem = checkTx(tx);
    if (problem) {
      problems.add({ row: tx.firstLine, column: 'Description', code: 'ROW_INVALID', message: `${tx.order}: ${problem}.` });
      continue;
    }
    const product = s.resolve(tx.sku);
    if (!product) {
      problems.add({ row: tx.firstLine, column: 'Sku Id', code: 'ROW_PRODUCT_UNKNOWN', message: `No pack or bundle has the Google Play product id "${tx.sku}" (order ${tx.order}).` });
      continue;
    }
    const month = isoOf(tx.ms).slice(0, 7);
    if (found.inLedger.has(tx.txid)) {
      t.skipped++;
      t.ledger.add(tx.currency, tx.net);
      continue;
    }
    let consent: { consent_ref: string | null; family_hmac: string } | undefined;
    let refundOf: string | null = null;
    let holdReason: string | undefined;
    if (tx.kind === 'sale') {
      consent = found.purchases.get(tx.order) ?? found.purchases.get(baseOrderId(tx.order));
      if (!consent) holdReason = baseOrderId(tx.order) !== tx.order ? `no purchase record for ${tx.order} or the order it renews, ${baseOrderId(tx.order)}` : `no purchase record for ${tx.order}`;
    } else {
      refundOf = tx.order;
      const sale = s.writtenSales.get(tx.order) ?? found.sales.get(tx.order);
      if (sale) {
        const over = sale.refGross + tx.gross > sale.gross || sale.refFee + tx.fee > sale.fee || sale.refTax + tx.tax > sale.tax;
        if (over) {
          problems.add({ row: tx.firstLine, column: 'Amount (Merchant Currency)', code: 'ROW_REFUND_EXCEEDS', message: `Refunds of ${tx.order} would exceed the sale (gross ${sale.refGross + tx.gross} of ${sale.gross}).` });
          continue;
        }
        sale.refGross += tx.gross;
        sale.refFee += tx.fee;
        sale.refTax += tx.tax;
        s.writtenSales.set(tx.order, sale);
        consent = { consent_ref: null, family_hmac: '' };
      } else if (s.heldSales.has(tx.order) || found.heldElsewhere.has(tx.order)) {
        holdReason = `its sale ${tx.order} is held: consent missing`;
      } else {
        problems.add({ row: tx.firstLine, column: 'Description', code: 'ROW_REFUND_UNKNOWN', message: `The refund of ${tx.order} names no sale in the ledger or earlier in this file.` });
        continue;
      }
    }
    const wasHeld = s.holds.has(tx.txid);
    if (s.isClosed(month)) {
      // Nothing may change a closed month: money held there stays held; new rows are refused.
      if (wasHeld) {
        t.heldCount++;
        t.held.add(tx.currency, tx.net);
        if (tx.kind === 'sale') s.heldSales.add(tx.order);
      } else s.closedMonths.add(month);
      continue;
    }
    if (holdReason !== undefined) {
      if (tx.kind === 'sale') s.heldSales.add(tx.order);
      t.heldCount++;
      t.held.add(tx.currency, tx.net);
      if (wasHeld) continue;
      if (!ctx.quarantine) {
        t.gaps.push({ line: tx.firstLine, id: tx.txid, month, currency: tx.currency, units: 1, amountMinor: tx.net, reason: holdReason });
        continue;
      }
      t.newHolds++;
      newHolds.push({
        store: 'googleplay', report_key: s.reportKey, hold_key: tx.txid, batch_id: batch, line: tx.firstLine, month, currency: tx.currency,
        units: 1, amount_minor: tx.net, reason: `consent missing: ${holdReason}`, released_batch: null, created_at: createdAt,
      });
      continue;
    }
    if (tx.kind === 'sale') s.writtenSales.set(tx.order, { gross: tx.gross, fee: tx.fee, tax: tx.tax, refGross: 0, refFee: 0, refTax: 0 });
    rows.push({
      store: 'googleplay', transaction_id: tx.txid, kind: tx.kind, occurred_at: isoOf(tx.ms), month, product: tx.sku,
      product_kind: product.kind, pack_slug: product.kind === 'pack' ? product.slug : null, bundle_slug: product.kind === 'bundle' ? product.slug : null,
      country: tx.country, currency: tx.currency, gross_minor: tx.gross, store_fee_minor: tx.fee, tax_minor: tx.tax, net_minor: null,
      consent_ref: consent!.consent_ref, family_hmac: consent!.family_hmac || null, refund_of: refundOf, batch_id: batch,
    });
    t.ledger.add(tx.currency, tx.net);
    if (wasHeld) {
      released.push(tx.txid);
      t.released++;
    } else t.imported++;
  }
  if (problems.total || s.closedMonths.size) return;
  for (let i = 0; i < rows.length; i += 250) await trx.insertInto('sales').values(rows.slice(i, i + 250) as never).execute();
  for (let i = 0; i < newHolds.length; i += 250) await trx.insertInto('consent_holds').values(newHolds.slice(i, i + 250) as never).execute();
  if (released.length) {
    await trx
      .updateTable('consent_holds')
      .set({ released_batch: batch })
      .where('store', '=', 'googleplay')
      .where('report_key', '=', s.reportKey)
      .where('hold_key', 'in', released)
      .execute();
  }
}
