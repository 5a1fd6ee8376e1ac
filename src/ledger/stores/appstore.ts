/**
 * `ledger import appstore <file…>` (§15): App Store Connect financial reports (.txt,
 * .txt.gz, or a .zip of them), per-region or transaction-level. A line is an aggregate
 * (one product, country, price and sale or return, with a quantity): its units are matched
 * to that many purchase records of the same product and country dated within the line's
 * Pacific start and end dates, oldest first, each record once. Each match is one ledger
 * transaction with the record's id, consent and family and one unit's partner share (the
 * line split by largest remainder); gross, fee and tax are unknown (NULL).
 */
import { splitEqually } from '../../stores/amounts.js';
import { AppleReportReader, regionFromName, type AppleLine } from '../../stores/appstore.js';
import { decodeText, fileSha256, readRecords, reportParts } from '../../stores/source.js';
import type { Ledger } from '../db.js';
import { closedCheck, isoOf, openHolds, periodClosed, priorReports, Problems, productResolver, replacePredecessors, type OpenHold } from './common.js';
import { recordReport, ReportTally, runStoreImport, type ReportSummary, type RunContext, type StoreImportOptions, type StoreImportSummary } from './report-run.js';

interface ParsedReport {
  label: string;
  sha256: string;
  reportKey: string;
  lines: AppleLine[];
  tally: ReportTally;
}

async function parseFile(file: string, onProgress: StoreImportOptions['onProgress']): Promise<ParsedReport[]> {
  const sha256 = await fileSha256(file);
  const reports: ParsedReport[] = [];
  for await (const part of reportParts(file, (name) => /\.(txt|tsv)$/i.test(name))) {
    const reader = new AppleReportReader(part.label);
    const tally = new ReportTally();
    const problems = new Problems();
    const lines: AppleLine[] = [];
    for await (const batch of readRecords(decodeText(part.chunks), { delimiter: '\t', quote: false, label: part.label })) {
      for (const rec of batch) {
        const out = reader.accept(rec.line, rec.cells);
        if (out === null) continue;
        tally.rows++;
        if (Array.isArray(out)) for (const p of out) problems.add({ row: p.line, column: p.column, code: p.code, message: p.message });
        else lines.push(out);
      }
      onProgress?.({ file, rows: tally.rows });
    }
    problems.throwIfAny(part.label, tally.rows);
    reader.finish();
    for (const l of lines) tally.report.add(l.currency, l.extendedMinor);
    tally.orders = lines.length;
    // A zip's reports are told apart by their entry; a single file's by its content.
    reports.push({ label: part.label, sha256: part.label === file ? sha256 : `${sha256}:${part.name}`, reportKey: reader.reportKey(regionFromName(part.name)), lines, tally });
  }
  return reports;
}

export async function importAppStore(ledger: Ledger, files: string[], options: StoreImportOptions = {}): Promise<StoreImportSummary> {
  return runStoreImport(ledger, 'appstore', files, options, async (ctx, file) => {
    const out = [];
    for (const report of await parseFile(file, options.onProgress)) out.push(await writeReport(ctx, report));
    return out;
  });
}

function sum(values: number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

async function writeReport(ctx: RunContext, r: ParsedReport): Promise<{ summary: ReportSummary; tally: ReportTally }> {
  const { trx, batch } = ctx;
  const t = r.tally;
  const isClosed = await closedCheck(trx);
  const prior = await priorReports(trx, 'appstore', r.reportKey, r.sha256);
  const status: ReportSummary['status'] = prior.same ? 'again' : prior.predecessors.length ? 'corrected' : 'new';
  t.replaced = await replacePredecessors(trx, 'appstore', r.reportKey, prior.predecessors, isClosed, r.label);
  const resolve = await productResolver(trx, 'appstore');
  const holds = await openHolds(trx, 'appstore', r.reportKey);
  const problems = new Problems();
  const closedMonths = new Set<string>();
  const createdAt = ctx.now().toISOString();

  for (const line of r.lines) {
    const product = resolve(line.product);
    if (!product) {
      problems.add({ row: line.line, column: 'Vendor Identifier', code: 'ROW_PRODUCT_UNKNOWN', message: `No pack or bundle has the App Store product id "${line.product}".` });
      continue;
    }
    const units = Math.abs(line.quantity);
    const shares = splitEqually(line.extendedMinor, units);
    const holdKey = `line:${line.line}`;
    const hold: OpenHold | undefined = holds.get(holdKey);
    // Units of this line already in the ledger: all of them on a repeat import, unless held.
    const done = status === 'again' ? units - (hold?.units ?? 0) : 0;
    t.skipped += done;
    t.ledger.add(line.currency, sum(shares.slice(0, done)));
    const want = units - done;
    if (want === 0) continue;
    if (isClosed(line.month)) {
      // Nothing may change a closed month: money held there stays held; new rows are refused.
      if (hold) {
        t.heldCount += hold.units;
        t.held.add(line.currency, hold.amount_minor);
      } else closedMonths.add(line.month);
      continue;
    }
    const candidates = await trx
      .selectFrom('purchases as p')
      .select(['p.transaction_id', 'p.occurred_at', 'p.consent_ref', 'p.family_hmac', 'p.refund_of'])
      .where('p.store', '=', 'appstore')
      .where('p.product', '=', line.product)
      .where('p.country', '=', line.country)
      .where('p.kind', '=', line.kind)
      .where('p.occurred_at', '>=', isoOf(line.fromMs))
      .where('p.occurred_at', '<', isoOf(line.untilMs))
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('sales as s').select('s.transaction_id').where('s.store', '=', 'appstore').whereRef('s.transaction_id', '=', 'p.transaction_id'))),
      )
      .orderBy('p.occurred_at')
      .orderBy('p.transaction_id')
      .limit(want)
      .execute();
    let usable = candidates;
    let reason = `${want} of ${units} unit(s) of ${line.product} in ${line.country} have no purchase record dated ${line.start.month}/${line.start.day}–${line.end.month}/${line.end.day} (Pacific)`;
    if (line.kind === 'refund' && candidates.length) {
      const ids = candidates.map((c) => c.refund_of!).filter(Boolean);
      const sold = new Set(
        (await trx.selectFrom('sales').select('transaction_id').where('store', '=', 'appstore').where('kind', '=', 'sale').where('transaction_id', 'in', ids).execute()).map((x) => x.transaction_id),
      );
      usable = candidates.filter((c) => c.refund_of !== null && sold.has(c.refund_of));
      if (usable.length < candidates.length) reason = `${want - usable.length} returned unit(s) of ${line.product} refund sales that are not in the ledger (held: consent missing)`;
    }
    const values = usable.map((c, i) => ({
      store: 'appstore', transaction_id: c.transaction_id, kind: line.kind, occurred_at: c.occurred_at, month: line.month, product: line.product,
      product_kind: product.kind, pack_slug: product.kind === 'pack' ? product.slug : null, bundle_slug: product.kind === 'bundle' ? product.slug : null,
      country: line.country, currency: line.currency, gross_minor: null, store_fee_minor: null, tax_minor: null,
      net_minor: Math.abs(shares[done + i]!), consent_ref: line.kind === 'sale' ? c.consent_ref : null, family_hmac: c.family_hmac,
      refund_of: line.kind === 'refund' ? c.refund_of : null, batch_id: batch,
    }));
    if (values.length) await trx.insertInto('sales').values(values as never).execute();
    t.ledger.add(line.currency, sum(shares.slice(done, done + values.length)));
    const left = want - values.length;
    const leftAmount = sum(shares.slice(done + values.length));
    if (hold) {
      t.released += values.length;
      if (left === 0) {
        await trx.updateTable('consent_holds').set({ released_batch: batch, units: 0, amount_minor: 0 }).where('store', '=', 'appstore').where('report_key', '=', r.reportKey).where('hold_key', '=', holdKey).execute();
      } else if (values.length) {
        await trx.updateTable('consent_holds').set({ units: left, amount_minor: leftAmount }).where('store', '=', 'appstore').where('report_key', '=', r.reportKey).where('hold_key', '=', holdKey).execute();
      }
    } else t.imported += values.length;
    if (left === 0) continue;
    t.heldCount += left;
    t.held.add(line.currency, leftAmount);
    if (hold) continue;
    if (!ctx.quarantine) {
      t.gaps.push({ line: line.line, id: `line ${line.line}`, month: line.month, currency: line.currency, units: left, amountMinor: leftAmount, reason });
      continue;
    }
    t.newHolds++;
    await trx
      .insertInto('consent_holds')
      .values({
        store: 'appstore', report_key: r.reportKey, hold_key: holdKey, batch_id: batch, line: line.line, month: line.month, currency: line.currency,
        units: left, amount_minor: leftAmount, reason: `consent missing: ${reason}`, released_batch: null, created_at: createdAt,
      })
      .execute();
  }
  problems.throwIfAny(r.label, t.rows);
  if (closedMonths.size) periodClosed(r.label, closedMonths, 'it has lines in');
  const summary = t.summary(r.label, r.reportKey, r.sha256, status);
  if (t.changed) await recordReport(ctx, 'appstore', summary);
  return { summary, tally: t };
}
