/**
 * `ledger import appstore <file…>` (§15): App Store Connect financial reports (.txt,
 * .txt.gz, or a .zip of them), per-region or transaction-level (src/stores/appstore.ts
 * reads them and checks their trailers). A line is an aggregate with a quantity: each unit
 * is one item here, matched to a purchase record of the same product and country dated
 * within the line's Pacific start and end dates, oldest first, each record once. A match is
 * one ledger transaction with the record's id, consent and family and one unit's partner
 * share (the line split by largest remainder); gross, fee and tax are unknown (NULL).
 */
import { splitEqually } from '../../stores/amounts.js';
import { AppleReportReader, regionFromName, type AppleLine } from '../../stores/appstore.js';
import { createHash } from 'node:crypto';
import { decodeText, fileSha256, readRecords as readReport, reportParts, tapped } from '../../stores/source.js';
import type { SourceRecord } from '../records.js';
import { STORE_SALE_COLUMNS, storeSummary } from './googleplay.js';
import { CHUNK, type Importer, type Item } from './pipeline.js';
import { Corrections } from './store-corrections.js';
import { badLines, consentRefusal, heldRowKey, identifyReport, isoOf, openHolds, productResolver, releaseHolds, ReportTally, saveTotals, type HeldFields, type Resolved } from './store-report.js';

export interface AppleUnit {
  line: AppleLine;
  /** The unit's place in its line (0-based) and its share of the line's proceeds. */
  unit: number;
  share: number;
  report: ReportTally;
  holds: Map<string, unknown>;
  /** Numbers the unit within its input (the quarantine row key: a line holds several units). */
  ordinal: number;
  resolved?: Resolved;
  record?: { transaction_id: string; occurred_at: string; consent_ref: string | null; family_hmac: string; refund_of: string | null };
  held?: HeldFields;
}

const holdKey = (u: { line: AppleLine; unit: number }): string => `line:${u.line.line}:unit:${u.unit}`;

interface ReadReport {
  tally: ReportTally;
  lines: AppleLine[];
  /** SHA-256 of the report's text (a .gz's or zip entry's content; a plain file's bytes). */
  content: string;
  /** The key earlier versions gave this report. */
  legacyKey: string;
}

/** Reads every report of a file (a zip may hold several); format errors refuse it with every line listed. */
async function readReports(file: string): Promise<ReadReport[]> {
  const out: ReadReport[] = [];
  for await (const part of reportParts(file, (name) => /\.(txt|tsv)$/i.test(name))) {
    const reader = new AppleReportReader(part.label);
    const tally = new ReportTally(part.label);
    const problems: Array<{ row: number; column: string; code: string; message: string }> = [];
    let total = 0;
    const lines: AppleLine[] = [];
    const content = createHash('sha256');
    for await (const batch of readReport(decodeText(tapped(part.chunks, (c) => content.update(c))), { delimiter: '\t', quote: false, label: part.label })) {
      for (const rec of batch) {
        const r = reader.accept(rec.line, rec.cells);
        if (r === null) continue;
        tally.lines++;
        if (!Array.isArray(r)) {
          lines.push(r);
          continue;
        }
        for (const p of r) if (total++ < 10_000) problems.push({ row: p.line, column: p.column, code: p.code, message: p.message });
      }
    }
    if (total) throw badLines(part.label, tally.lines, problems, total);
    reader.finish();
    tally.key = reader.reportKey();
    for (const l of lines) {
      tally.report.add(l.currency, l.extendedMinor);
      tally.transactions += Math.abs(l.quantity);
    }
    out.push({ tally, lines, content: content.digest('hex'), legacyKey: reader.legacyKey(regionFromName(part.name)) });
  }
  return out;
}

export function appStoreImporter(options: { replace?: boolean } = {}): Importer<AppleUnit> {
  const tallies: ReportTally[] = [];
  const corrections = new Corrections(options.replace ?? false);
  let resolve: (product: string) => Resolved | undefined = () => undefined;

  return {
    kind: 'appstore',
    columns: { required: [], optional: [] },
    table: 'sales',
    insertColumns: STORE_SALE_COLUMNS,
    async init({ trx }) {
      resolve = await productResolver(trx, 'appstore');
    },

    async *read(input, ctx) {
      const sha256 = await fileSha256(input.file);
      input.sha256 = sha256; // the batch's SHA-256 too: the file is not read again for it
      input.format = 'appstore-financial';
      let ordinal = 0;
      for (const { tally, lines, content, legacyKey } of await readReports(input.file)) {
        tallies.push(tally);
        // A report is known by its content; before, a lone file was recorded under its
        // bytes' SHA-256 and a zip's report under `<zip sha>:<entry>`: those still name it.
        const alias = tally.file === input.file ? sha256 : `${sha256}:${tally.file.slice(input.file.length + 1)}`;
        await identifyReport(ctx, 'appstore', tally, { content, aliases: [alias], legacyKeys: [legacyKey] }, corrections);
        const holds = await openHolds(ctx.trx, 'appstore', tally.key);
        let chunk: SourceRecord[] = [];
        for (const line of lines) {
          const shares = splitEqually(line.extendedMinor, Math.abs(line.quantity));
          for (let unit = 0; unit < shares.length; unit++) {
            chunk.push({ row: line.line, cells: [{ line, unit, share: shares[unit]!, report: tally, holds, ordinal: ++ordinal } satisfies AppleUnit] });
            if (chunk.length >= CHUNK) {
              yield chunk;
              chunk = [];
            }
          }
        }
        if (chunk.length) yield chunk;
      }
    },

    parse(rec) {
      return { parsed: rec.cells[0] as AppleUnit, problems: [] };
    },

    async check(ctx, items) {
      const { trx } = ctx;
      // The units of one line, in order, as they came in this chunk.
      const groups = new Map<AppleLine, Array<Item<AppleUnit>>>();
      for (const it of items) {
        const u = it.parsed!;
        (groups.get(u.line) ?? groups.set(u.line, []).get(u.line)!).push(it);
      }
      const releases = new Map<string, string[]>();
      // Records this chunk has matched already (they reach the ledger after the check).
      const used = new Set<string>();
      for (const [line, group] of groups) {
        const t = group[0]!.parsed!.report;
        const resolved = resolve(line.product);
        if (!resolved) {
          for (const it of group) it.problems.push({ column: 'Vendor Identifier', code: 'ROW_PRODUCT_UNKNOWN', message: `No pack or bundle has the App Store product id "${line.product}".` });
          continue;
        }
        const wanted: Array<Item<AppleUnit>> = [];
        for (const it of group) {
          const u = it.parsed!;
          u.resolved = resolved;
          const wasHeld = u.holds.has(holdKey(u));
          if (t.status === 'again' && !wasHeld) {
            it.action = 'skip'; // in the ledger since this very file was imported
            t.skipped++;
            t.ledger.add(line.currency, u.share);
          } else if (wasHeld && ctx.closed.has(line.month)) {
            it.action = 'skip'; // held in a month that has closed since: it stays held
            t.heldCount++;
            t.held.add(line.currency, u.share);
          } else wanted.push(it);
        }
        if (wanted.length === 0) continue;
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
          .limit(wanted.length + used.size)
          .execute()
          .then((rows) => rows.filter((r) => !used.has(r.transaction_id)).slice(0, wanted.length));
        let records = candidates;
        let why = `no purchase record of ${line.product} in ${line.country} dated ${line.start.month}/${line.start.day}/${line.start.year}–${line.end.month}/${line.end.day}/${line.end.year} (Pacific) is left for it`;
        if (line.kind === 'refund' && candidates.length) {
          const sold = new Set(
            (await trx.selectFrom('sales').select('transaction_id').where('store', '=', 'appstore').where('kind', '=', 'sale')
              .where('transaction_id', 'in', candidates.map((c) => c.refund_of ?? '')).execute()).map((x) => x.transaction_id),
          );
          records = candidates.filter((c) => c.refund_of !== null && sold.has(c.refund_of));
          if (records.length < candidates.length) why = 'the refund records left for it refund sales that are not in the ledger';
        }
        wanted.forEach((it, i) => {
          const u = it.parsed!;
          const wasHeld = u.holds.has(holdKey(u));
          const record = records[i];
          if (record) {
            used.add(record.transaction_id);
            u.record = record;
            it.action = 'insert';
            t.ledger.add(line.currency, u.share);
            if (wasHeld) {
              t.released++;
              (releases.get(t.key) ?? releases.set(t.key, []).get(t.key)!).push(holdKey(u));
            } else t.imported++;
            return;
          }
          t.heldCount++;
          t.held.add(line.currency, u.share);
          if (wasHeld) {
            it.action = 'skip'; // held already: never quarantined twice
            return;
          }
          t.newlyHeld++;
          u.held = { store: 'appstore', report_key: t.key, hold_key: holdKey(u), line: line.line, month: line.month, currency: line.currency, amount_minor: u.share };
          it.problems.push({ column: 'consent', code: 'CONSENT_MISSING', message: `unit ${u.unit + 1} of ${Math.abs(line.quantity)} (${line.kind === 'sale' ? 'sold' : 'returned'}, ${u.share} ${line.currency} minor units): ${why}.` });
          if (ctx.closed.has(line.month)) it.problems.push(ctx.closed.problem('End Date', line.month));
        });
      }
      for (const [key, holdKeys] of releases) await releaseHolds(ctx, 'appstore', key, holdKeys);
    },

    period(u) {
      return { column: 'End Date', month: u.line.month };
    },

    values(u, batch) {
      const { line, record: c, resolved: r } = u;
      return [
        'appstore', c!.transaction_id, line.kind, c!.occurred_at, line.month, line.product, r!.kind, r!.kind === 'pack' ? r!.slug : null,
        r!.kind === 'bundle' ? r!.slug : null, line.country, line.currency, null, null, null, Math.abs(u.share),
        line.kind === 'sale' ? c!.consent_ref : null, c!.family_hmac, line.kind === 'refund' ? c!.refund_of : null, batch,
      ];
    },

    quarantineRow(item) {
      const u = item.parsed;
      if (!u) return {};
      const { line } = u;
      const held: HeldFields = u.held ?? { store: 'appstore', report_key: u.report.key, hold_key: holdKey(u), line: line.line, month: line.month, currency: line.currency, amount_minor: u.share };
      return {
        ...held,
        // One quarantine row per unit of a report, ever: a held unit is never held twice.
        row_key: heldRowKey(held),
        row_number: u.ordinal,
        raw: JSON.stringify({ line: line.line, unit: u.unit + 1, units: Math.abs(line.quantity), kind: line.kind, product: line.product, country: line.country, currency: line.currency, share: u.share, start: line.start, end: line.end }),
      };
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
