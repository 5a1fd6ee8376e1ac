/**
 * `ledger import googleplay <file…>` (§15): the Google Play earnings report as Google
 * delivers it (.csv or .zip, UTF-8 or UTF-16). Its rows are grouped by order id into one
 * sale (and one refund per refund time) by src/stores/googleplay.ts; each is matched to
 * the purchase log for consent (a renewal `..N` by the order it renews), then written,
 * held (--quarantine) or refused (CONSENT_MISSING). Other apps' rows are skipped and counted.
 */
import { createHash } from 'node:crypto';
import { baseOrderId, checkTx, GOOGLE_COLUMNS, GoogleHeader, lastLineCutShort, parseGoogleRow, type GoogleRow, type GoogleTx } from '../../stores/googleplay.js';
import { formatUnknown, requiredNames } from '../../stores/header.js';
import { decodeText, DEFAULT_REPORT_LIMITS, fileSha256, readRecords as readReport, reportParts, tapped, type Container } from '../../stores/source.js';
import { inputError, usageError } from '../../shared/errors.js';
import type { RowProblem } from '../fields.js';
import { OrderGroups } from './googleplay-groups.js';
import { ConsentPrefetch, LOOKAHEAD, type Consent, type PrefetchOptions } from './consent-prefetch.js';
import { Corrections } from './store-corrections.js';
import { CHUNK, type Importer } from './pipeline.js';
import { storedRefundSum, type SaleState } from './sales-refunds.js';
import { saleAt, storedInteger } from '../stored.js';
import {
  Amounts, badLines, consentRefusal, heldRowKey, identifyReport, isoOf, openHolds, productResolver, releaseHolds, ReportTally, saveTotals,
  type HeldFields, type Resolved,
} from './store-report.js';

export const STORE_SALE_COLUMNS = [
  'store', 'transaction_id', 'kind', 'occurred_at', 'month', 'product', 'product_kind', 'pack_slug', 'bundle_slug', 'country',
  'currency', 'gross_minor', 'store_fee_minor', 'tax_minor', 'net_minor', 'consent_ref', 'family_hmac', 'refund_of', 'batch_id',
] as const;

export interface GoogleParsed {
  tx: GoogleTx;
  /** When it happened, UTC (ISO 8601), and its UTC month. */
  occurredAt: string;
  month: string;
  report: ReportTally;
  holds: Map<string, unknown>;
  resolved?: Resolved;
  consent?: { consent_ref: string | null; family_hmac: string | null };
  held?: HeldFields;
}

type SaleAmounts = Pick<SaleState, 'gross' | 'fee' | 'tax' | 'refGross' | 'refFee' | 'refTax'>;

/**
 * Reads one earnings report and groups its rows into `groups` (bounded memory: see
 * googleplay-groups.ts); format errors refuse the file with every line listed.
 */
async function readEarnings(file: string, pkgOption: string | undefined, groups: OrderGroups): Promise<{ tally: ReportTally; sha256: string; content: string }> {
  // The file is hashed as it is read (a zip, read out of order, is hashed on its own after),
  // and so is the report in it: a report is known by its content, whatever holds it.
  const hash = createHash('sha256');
  const content = createHash('sha256');
  let container: Container = 'plain';
  const packages = new Set<string>();
  const months = new Set<string>();
  let lastPkg: string | undefined;
  let lastMonth: string | undefined;
  const problems: Array<{ row: number; column: string; code: string; message: string }> = [];
  let total = 0;
  let parts = 0;
  let t: ReportTally | undefined;
  for await (const part of reportParts(file, (name) => /\.csv$/i.test(name), DEFAULT_REPORT_LIMITS, (chunk) => hash.update(chunk))) {
    if (++parts > 1) {
      // A bad file, not a bad command line: exit 3 like every other malformed report.
      throw inputError('REPORT_FORMAT_UNKNOWN', `${file} holds more than one CSV; an earnings .zip holds one report, and nothing was imported.`, {
        hint: 'Unzip it and import each earnings report as its own file.',
        details: { file },
      });
    }
    container = part.container;
    t = new ReportTally(part.label);
    let header: GoogleHeader | undefined;
    // The file's last character and last row: a last line with no line break after it is checked for a cut (lastLineCutShort).
    let lastChar = '';
    let lastRow: GoogleRow | undefined;
    let lastCells: string[] = [];
    // A plain file's content is its bytes: hashed once.
    const chunks = part.container === 'plain' ? part.chunks : tapped(part.chunks, (c) => content.update(c));
    const text = (async function* () {
      for await (const s of decodeText(chunks)) {
        if (s.length) lastChar = s[s.length - 1]!;
        yield s;
      }
    })();
    for await (const batch of readReport(text, { delimiter: ',', quote: true, label: part.label })) {
      for (const rec of batch) {
        if (!header) {
          header = GoogleHeader.from(rec.cells, part.label);
          continue;
        }
        t.lines++;
        const row = parseGoogleRow(rec.line, rec.cells, header);
        if (Array.isArray(row)) {
          for (const p of row) if (total++ < 10_000) problems.push({ row: p.line, column: p.column, code: p.code, message: p.message });
          lastRow = undefined; // a bad last line is reported as such
          continue;
        }
        lastRow = row;
        lastCells = rec.cells;
        t.report.add(row.currency, row.amount);
        if (pkgOption !== undefined && row.pkg !== pkgOption) {
          t.otherRows++;
          t.other.add(row.currency, row.amount);
          continue;
        }
        if (row.pkg !== lastPkg) packages.add((lastPkg = row.pkg)); // rows repeat their package and month
        if (row.pacificMonth !== lastMonth) months.add((lastMonth = row.pacificMonth));
        // A file with a bad line is refused whole: its rows are no longer grouped, only its lines checked.
        if (total === 0 && groups.add(row)) await groups.spill();
      }
    }
    if (lastRow && lastChar !== '\n' && lastChar !== '\r' && header && lastLineCutShort(lastRow, lastCells, header)) {
      throw inputError('REPORT_TRUNCATED', `${part.label} ends inside line ${lastRow.line}: no line break follows it, and its merchant amount is not its buyer amount times its conversion rate, so the file looks cut short; nothing was imported.`, {
        hint: 'Download the earnings report again (a complete file ends with a line break).',
        details: { file: part.label, line: lastRow.line },
      });
    }
    if (!header) formatUnknown(part.label, 'a Google Play earnings report', requiredNames(GOOGLE_COLUMNS), [], ' (it is empty: an earnings report starts with its header line)');
  }
  if (!t) formatUnknown(file, 'a Google Play earnings report', requiredNames(GOOGLE_COLUMNS), [], ' (the archive holds no .csv file)');
  if (total) throw badLines(t.file, t.lines, problems, total);
  if (pkgOption === undefined && packages.size > 1) {
    throw usageError(`${t.file} holds rows of ${packages.size} apps (${[...packages].sort().join(', ')}); name yours with --package or the googleplay.package config key.`);
  }
  const sorted = [...months].sort();
  const pkg = pkgOption ?? [...packages][0] ?? '';
  t.key = `googleplay:${pkg}:${sorted.length ? `${sorted[0]}..${sorted.at(-1)}` : 'empty'}`;
  t.transactions = await groups.count();
  const sha256 = container === 'zip' ? await fileSha256(file) : hash.digest('hex');
  return { tally: t, sha256, content: container === 'plain' ? sha256 : content.digest('hex') };
}

/**
 * The purchase-log ids a chunk's consent check looks up: each sale's order id and, for a
 * renewal `..N`, the order it renews (once each, in first-seen order).
 */
export function consentIds(txs: readonly GoogleTx[]): string[] {
  const wanted = new Set<string>();
  for (const t of txs) {
    if (t.kind !== 'sale') continue;
    wanted.add(t.order);
    const base = baseOrderId(t.order);
    if (base !== t.order) wanted.add(base);
  }
  return [...wanted];
}

/**
 * The sales chunks of `source`, each requested from `prefetch` LOOKAHEAD chunks before it
 * is yielded (so its answer is ready when it is checked).
 */
async function* prefetched(source: AsyncIterable<GoogleTx[]>, prefetch: ConsentPrefetch | undefined): AsyncGenerator<GoogleTx[]> {
  if (!prefetch) return yield* source;
  const ahead: GoogleTx[][] = [];
  for await (const txs of source) {
    if (txs.length) prefetch.request(txs[0]!, consentIds(txs));
    ahead.push(txs);
    if (ahead.length > LOOKAHEAD) yield ahead.shift()!;
  }
  while (ahead.length) yield ahead.shift()!;
}

export interface GooglePlayOptions {
  package?: string;
  replace?: boolean;
  /**
   * The consent lookups on a second thread (consent-prefetch.ts) for a SQLite ledger file:
   * default on; false: on the main thread only (also PACKOPS_CONSENT_PREFETCH=off).
   */
  prefetch?: boolean | PrefetchOptions;
}

export function googlePlayImporter(options: GooglePlayOptions = {}): Importer<GoogleParsed> {
  const tallies: ReportTally[] = [];
  const corrections = new Corrections(options.replace ?? false);
  /** The current input's consent prefetch (undefined: every check queries). */
  let prefetch: ConsentPrefetch | undefined;
  let resolve: (product: string) => Resolved | undefined = () => undefined;
  /**
   * Sales this import held. (Those it wrote need no list: every sale is checked before any
   * refund, and the pipeline writes a chunk's rows before the next chunk's checks, so the
   * ledger itself answers for them.)
   */
  const heldSales = new Set<string>();

  return {
    kind: 'googleplay',
    columns: { required: [], optional: [] },
    table: 'sales',
    insertColumns: STORE_SALE_COLUMNS,
    async init({ trx }) {
      resolve = await productResolver(trx, 'googleplay');
    },

    async *read(input, ctx) {
      try {
        const groups = new OrderGroups(ctx.trx);
        const { tally: report, sha256, content } = await readEarnings(input.file, options.package, groups);
        // The consent thread starts once the file is read (inside the import's write
        // transaction, which consent-prefetch.ts relies on): not before, as the grouped file's
        // memory peaks at the end of the parse and the thread costs ~16 MB; it is up (~0.1 s)
        // while the sales are sorted by id, before the first check.
        const where = ctx.ledger.where;
        if (options.prefetch !== false && where.kind === 'sqlite' && where.file !== ':memory:') {
          prefetch = ConsentPrefetch.start(where.file, 'googleplay', typeof options.prefetch === 'object' ? options.prefetch : {});
        }
        input.sha256 = sha256; // the batch's SHA-256 too: the file is not read again for it
        tallies.push(report);
        input.format = 'googleplay-earnings';
        // Before this change a .zip was recorded under the zip's own SHA-256: that still names it.
        await identifyReport(ctx, 'googleplay', report, { content, aliases: sha256 === content ? [] : [sha256], keyPrefix: `${report.key.split(':').slice(0, 2).join(':')}:` }, corrections);
        const holds = await openHolds(ctx.trx, 'googleplay', report.key);
        // Sales first, then refunds: a refund may come before its sale in the file.
        for await (const txs of prefetched(groups.chunks('sale', CHUNK), prefetch)) yield txs.map((tx) => ({ row: tx.firstLine, cells: [tx, report, holds] }));
        await prefetch?.close(); // refunds look up no purchase record
        prefetch = undefined;
        for await (const txs of groups.chunks('refund', CHUNK)) yield txs.map((tx) => ({ row: tx.firstLine, cells: [tx, report, holds] }));
        await groups.drop();
      } finally {
        // Also when the import stops half-way (a refusal, an error): no thread outlives it.
        await prefetch?.close();
        prefetch = undefined;
      }
    },

    parse(rec) {
      const [tx, report, holds] = rec.cells as [GoogleTx, ReportTally, Map<string, unknown>];
      const occurredAt = isoOf(tx.ms);
      const parsed: GoogleParsed = { tx, report, holds, occurredAt, month: occurredAt.slice(0, 7) };
      const problem = checkTx(tx);
      return { parsed, problems: problem ? [{ column: 'Description', code: 'ROW_INVALID', message: `${tx.order}: ${problem}.` }] : [] };
    },

    async check(ctx, items) {
      const { trx } = ctx;
      const txs = items.filter((i) => i.parsed).map((i) => i.parsed!.tx);
      const ids = txs.map((t) => t.txid);
      const orders = [...new Set(txs.filter((t) => t.kind === 'refund').map((t) => t.order))];
      const purchaseIds = consentIds(txs);
      const inLedger = new Set(ids.length ? (await trx.selectFrom('sales').select('transaction_id').where('store', '=', 'googleplay').where('transaction_id', 'in', ids).execute()).map((x) => x.transaction_id) : []);
      // Answered by the prefetch thread when it was asked for exactly these ids, else looked up here.
      const answered = purchaseIds.length && prefetch ? await prefetch.take(txs[0]!, purchaseIds) : undefined;
      const purchases = answered ?? new Map<string, Consent>();
      if (purchaseIds.length && !answered) {
        const rows = await trx.selectFrom('purchases').select(['transaction_id', 'consent_ref', 'family_hmac']).where('store', '=', 'googleplay').where('kind', '=', 'sale').where('transaction_id', 'in', purchaseIds).execute();
        for (const p of rows) purchases.set(p.transaction_id, p);
      }
      const sales = new Map<string, SaleAmounts>();
      const heldElsewhere = new Set<string>();
      if (orders.length) {
        const rows = await trx.selectFrom('sales').select(['transaction_id', 'gross_minor', 'store_fee_minor', 'tax_minor']).where('store', '=', 'googleplay').where('kind', '=', 'sale').where('transaction_id', 'in', orders).execute();
        for (const s of rows) {
          // Stored amounts are checked as they are read (a damaged one is LEDGER_CORRUPT, not a NaN every bound passes).
          const at = (column: string) => () => saleAt({ store: 'googleplay', transaction_id: s.transaction_id }, column);
          sales.set(s.transaction_id, {
            gross: storedInteger(at('gross_minor'), s.gross_minor), fee: storedInteger(at('store_fee_minor'), s.store_fee_minor), tax: storedInteger(at('tax_minor'), s.tax_minor),
            refGross: 0, refFee: 0, refTax: 0,
          });
        }
        const sums = await trx
          .selectFrom('sales')
          .select((eb) => ['refund_of', eb.fn.sum<number>('gross_minor').as('g'), eb.fn.sum<number>('store_fee_minor').as('f'), eb.fn.sum<number>('tax_minor').as('t')])
          .where('store', '=', 'googleplay').where('kind', '=', 'refund').where('refund_of', 'in', orders).groupBy('refund_of').execute();
        for (const s of sums) {
          const st = sales.get(s.refund_of!);
          const where = { store: 'googleplay', transaction_id: s.refund_of! };
          if (st) Object.assign(st, { refGross: storedRefundSum(where, 'gross_minor', s.g), refFee: storedRefundSum(where, 'store_fee_minor', s.f), refTax: storedRefundSum(where, 'tax_minor', s.t) });
        }
        const held = await trx.selectFrom('quarantine').select('hold_key').where('store', '=', 'googleplay').where('code', '=', 'CONSENT_MISSING').where('hold_key', 'in', orders).where('released_batch', 'is', null).execute();
        for (const h of held) heldElsewhere.add(h.hold_key!);
      }
      const releases = new Map<string, string[]>();

      for (const it of items) {
        const p = it.parsed;
        if (!p || it.problems.length) continue;
        const { tx, report: t } = p;
        const problem = (column: string, code: string, message: string): void => {
          it.problems.push({ column, code, message });
        };
        p.resolved = resolve(tx.sku);
        if (!p.resolved) {
          problem('Sku Id', 'ROW_PRODUCT_UNKNOWN', `No pack or bundle has the Google Play product id "${tx.sku}" (order ${tx.order}).`);
          continue;
        }
        if (inLedger.has(tx.txid)) {
          it.action = 'skip';
          t.skipped++;
          t.ledger.add(tx.currency, tx.net);
          continue;
        }
        let holdReason: string | undefined;
        if (tx.kind === 'sale') {
          const c = purchases.get(tx.order) ?? purchases.get(baseOrderId(tx.order));
          if (c) p.consent = c;
          else holdReason = baseOrderId(tx.order) !== tx.order ? `no purchase record for ${tx.order} or the order it renews, ${baseOrderId(tx.order)}` : `no purchase record for ${tx.order}`;
        } else {
          // Refunds of one order in this chunk add up in its entry; earlier chunks' are in the ledger's sums.
          const sale = sales.get(tx.order);
          if (sale) {
            if (sale.refGross + tx.gross > sale.gross || sale.refFee + tx.fee > sale.fee || sale.refTax + tx.tax > sale.tax) {
              problem('Amount (Merchant Currency)', 'ROW_REFUND_EXCEEDS', `Refunds of ${tx.order} would exceed its sale (charge ${sale.refGross + tx.gross} of ${sale.gross}, fee ${sale.refFee + tx.fee} of ${sale.fee}, tax ${sale.refTax + tx.tax} of ${sale.tax}).`);
              continue;
            }
            sale.refGross += tx.gross;
            sale.refFee += tx.fee;
            sale.refTax += tx.tax;
            p.consent = { consent_ref: null, family_hmac: null };
          } else if (heldSales.has(tx.order) || heldElsewhere.has(tx.order)) {
            holdReason = `its sale ${tx.order} is held for want of consent`;
          } else {
            problem('Description', 'ROW_REFUND_UNKNOWN', `The refund of ${tx.order} names no sale in the ledger or earlier in this import.`);
            continue;
          }
        }
        const wasHeld = p.holds.has(tx.txid);
        if (holdReason !== undefined) {
          if (tx.kind === 'sale') heldSales.add(tx.order);
          t.heldCount++;
          t.held.add(tx.currency, tx.net);
          if (wasHeld) {
            it.action = 'skip'; // held already: never quarantined twice
            continue;
          }
          t.newlyHeld++;
          p.held = { store: 'googleplay', report_key: t.key, hold_key: tx.txid, line: tx.firstLine, month: p.month, currency: tx.currency, amount_minor: tx.net };
          problem('consent', 'CONSENT_MISSING', `${tx.txid}: ${holdReason} (${tx.net} ${tx.currency} minor units).`);
          if (ctx.closed.has(p.month)) it.problems.push(ctx.closed.problem('Transaction Date', p.month));
          continue;
        }
        if (wasHeld && ctx.closed.has(p.month)) {
          // Money held in a month that has closed since stays held: a closed month never changes.
          it.action = 'skip';
          t.heldCount++;
          t.held.add(tx.currency, tx.net);
          continue;
        }
        it.action = 'insert';
        t.ledger.add(tx.currency, tx.net);
        if (wasHeld) {
          t.released++;
          (releases.get(t.key) ?? releases.set(t.key, []).get(t.key)!).push(tx.txid);
        } else t.imported++;
      }
      for (const [key, holdKeys] of releases) await releaseHolds(ctx, 'googleplay', key, holdKeys);
    },

    period(p) {
      return { column: 'Transaction Date', month: p.month };
    },

    // Sales are checked in order of their ids (OrderGroups.chunks); problems are reported
    // as before: the sales' in first-line order, then the refunds'.
    reportOrder(item) {
      return (item.parsed?.tx.kind === 'refund' ? 2 ** 32 : 0) + item.rec.row;
    },

    values(p, batch) {
      const { tx, resolved: r } = p;
      return [
        'googleplay', tx.txid, tx.kind, p.occurredAt, p.month, tx.sku, r!.kind, r!.kind === 'pack' ? r!.slug : null, r!.kind === 'bundle' ? r!.slug : null,
        tx.country, tx.currency, tx.gross, tx.fee, tx.tax, null, p.consent?.consent_ref ?? null, p.consent?.family_hmac ?? null,
        tx.kind === 'refund' ? tx.order : null, batch,
      ];
    },

    quarantineRow(item) {
      const p = item.parsed;
      if (!p) return {};
      const { tx } = p;
      const held: HeldFields = p.held ?? { store: 'googleplay', report_key: p.report.key, hold_key: tx.txid, line: tx.firstLine, month: p.month, currency: tx.currency, amount_minor: tx.net };
      return { ...held, row_key: heldRowKey(held), raw: JSON.stringify({ transaction_id: tx.txid, kind: tx.kind, order: tx.order, occurred_at: isoOf(tx.ms), sku: tx.sku, country: tx.country, currency: tx.currency, gross: tx.gross, fee: tx.fee, tax: tx.tax, net: tx.net, rows: tx.rows }) };
    },

    refuse: consentRefusal,

    async finish(ctx) {
      await corrections.check(ctx.trx);
      await saveTotals(ctx, tallies);
    },

    summary() {
      return storeSummary(tallies);
    },
  };
}

/** The --json fields of a store import: per report, and the held and other-app money in all. */
export function storeSummary(tallies: readonly ReportTally[]): Record<string, unknown> {
  const held = new Amounts();
  const other = new Amounts();
  let heldCount = 0;
  let otherRows = 0;
  let released = 0;
  for (const t of tallies) {
    heldCount += t.heldCount;
    otherRows += t.otherRows;
    released += t.released;
    for (const [c, a] of Object.entries(t.held.toJSON())) held.add(c, a);
    for (const [c, a] of Object.entries(t.other.toJSON())) other.add(c, a);
  }
  return {
    released,
    held: { count: heldCount, amounts: held.toJSON() },
    otherApps: { rows: otherRows, amounts: other.toJSON() },
    reports: tallies.map((t) => t.toJSON()),
  };
}

export type { RowProblem };
