/**
 * Renderers for payout reports and tier tables: plain functions from the report document
 * to text (aligned table, Markdown, CSV). They never write; the CLI does. Every format is
 * built from the same rows, so the numbers cannot differ between them.
 */
import { statementFileStem } from './file-names.js';
import { formatMinor } from '../shared/money.js';
import type { PayoutReport, StatementDoc, TiersReport } from './report.js';
import { markdownText } from '../shared/markdown.js';

type PackLineDoc = StatementDoc['collaborations'][number]['lines'][number];
type SubscriptionLineDoc = StatementDoc['collaborations'][number]['subscriptionLines'][number];

export const LINE_HEADERS = [
  'section',
  'pack',
  'bundle',
  'currency',
  'rate',
  'sales',
  'refunds',
  'units',
  'gross',
  'fees',
  'tax',
  'net',
  'net_usd',
  'share_percent',
  'share_usd',
  'families',
  'active_days',
] as const;

const usd = (minor: number) => formatMinor(minor, 'USD');

/**
 * Rows of one statement: pack lines, subscription lines (§14: bundle column "subscription",
 * families and active days; never units), an owner subtotal per section, then the balance rows.
 */
export function statementRows(s: StatementDoc): string[][] {
  const rows: string[][] = [];
  const subRow = (section: string, l: SubscriptionLineDoc, pct: string): string[] => [
    section, l.pack, 'subscription', 'USD', '', '', '', '', '', '', '', '', usd(l.netUsdMinor), pct, '', String(l.families), String(l.activeDays),
  ];
  const lineRow = (section: string, l: PackLineDoc, pct: string): string[] => [
    section,
    l.pack,
    l.bundle ?? '',
    l.currency,
    l.rate,
    String(l.sales),
    String(l.refunds),
    String(l.units),
    // A store that reports proceeds only (App Store) leaves gross, fees and tax unknown.
    l.amountsUnknown ? '—' : formatMinor(l.grossMinor, l.currency),
    l.amountsUnknown ? '—' : formatMinor(l.feesMinor, l.currency),
    l.amountsUnknown ? '—' : formatMinor(l.taxMinor, l.currency),
    formatMinor(l.netMinor, l.currency),
    usd(l.netUsdMinor),
    pct,
    '',
    '',
    '',
  ];
  const subtotal = (section: string, units: number, net: number, pct: string, share: number): string[] => [
    section,
    'subtotal',
    '',
    'USD',
    '',
    '',
    '',
    String(units),
    '',
    '',
    '',
    '',
    usd(net),
    pct,
    usd(share),
    '',
    '',
  ];
  if (s.own) {
    for (const l of s.own.lines) rows.push(lineRow('own', l, s.sharePercent));
    for (const l of s.own.subscriptionLines) rows.push(subRow('own', l, s.sharePercent));
    rows.push(subtotal('own', sumUnits(s.own.lines), s.own.netMinor, s.sharePercent, s.own.shareMinor));
  }
  for (const c of s.collaborations) {
    const section = `collaboration:${c.collaboration}`;
    for (const l of c.lines) rows.push(lineRow(section, l, c.sharePercent));
    for (const l of c.subscriptionLines) rows.push(subRow(section, l, c.sharePercent));
    rows.push(subtotal(section, sumUnits(c.lines), c.netMinor, c.sharePercent, c.collaborationShareMinor));
    rows.push([section, `member share ${c.memberPercent}%`, '', 'USD', '', '', '', '', '', '', '', '', '', c.memberPercent, usd(c.memberShareMinor), '', '']);
  }
  const balance = (label: string, minor: number) => ['balance', label, '', 'USD', '', '', '', '', '', '', '', '', '', '', usd(minor), '', ''];
  rows.push(balance('earnings', s.earningsMinor));
  rows.push(balance('bonus', s.bonusMinor));
  rows.push(balance('carried in', s.carriedInMinor));
  rows.push(balance('balance', s.balanceMinor));
  rows.push(balance('payout', s.payoutMinor));
  rows.push(balance('carried out', s.carriedOutMinor));
  return rows;
}

function sumUnits(lines: readonly PackLineDoc[]): number {
  return lines.reduce((s, l) => s + l.units, 0);
}

export const SUMMARY_HEADERS = [
  'creator',
  'name',
  'tier',
  'share_percent',
  'units',
  'earnings_usd',
  'bonus_usd',
  'carried_in_usd',
  'balance_usd',
  'payout_usd',
  'carried_out_usd',
] as const;

export function summaryRows(report: PayoutReport): string[][] {
  const rows = report.statements.map((s) => [
    s.creator,
    s.name ?? '',
    s.tier ?? '',
    s.sharePercent,
    String(s.figures.units),
    usd(s.earningsMinor),
    usd(s.bonusMinor),
    usd(s.carriedInMinor),
    usd(s.balanceMinor),
    usd(s.payoutMinor),
    usd(s.carriedOutMinor),
  ]);
  const t = report.totals;
  rows.push(['TOTAL', '', '', '', '', usd(t.creatorShareMinor), usd(t.bonusMinor), usd(t.carriedInMinor), '', usd(t.payoutMinor), usd(t.carriedOutMinor)]);
  return rows;
}

function tieOutLine(report: PayoutReport): string {
  const t = report.tieOut;
  return (
    `Tie-out: Σ net ${usd(t.netMinor)} = Σ creator shares ${usd(t.creatorShareMinor)} + Σ platform shares ${usd(t.platformShareMinor)} — ok` +
    ` (bonuses ${usd(t.bonusMinor)} paid by the platform on top, outside the tie-out)`
  );
}

/** §14: the month's subscription money and its tie-out, in one line. */
export function subscriptionsLine(report: PayoutReport): string {
  const s = report.subscriptions;
  return (
    `Subscriptions: recognised ${usd(s.recognisedMinor)} (${s.families.subscribed} families; ${s.transactions.sales} charges, ${s.transactions.refunds} refunds this month)` +
    ` · allocated ${usd(s.allocatedMinor)} (by use ${usd(s.allocatedByUseMinor)} from ${s.families.active} active families, ${s.activeDays} active days;` +
    ` idle pooled ${usd(s.idlePooledMinor)} from ${s.families.idle} idle families) · unallocated ${usd(s.unallocatedMinor)} (the platform's)` +
    ` — tie-out: recognised = pack subscription nets + unallocated, ok`
  );
}

function statusLine(report: PayoutReport): string {
  const status =
    report.status === 'closed' ? `closed ${report.closedAt ?? ''}`.trim() : 'open (preview: not final until payouts close)';
  const provisional = report.provisional
    ? ` — PROVISIONAL: carried-in balances use open month(s) ${report.provisionalMonths.join(', ')}`
    : '';
  return `Payouts ${report.period} (USD) — ${status}${provisional}. Minimum payout ${usd(report.minimumMinor)}.`;
}

function creatorHeading(s: StatementDoc): string {
  const f = s.figures;
  return (
    `${s.creator}${s.name ? ` (${s.name})` : ''} — tier ${s.tier ?? 'none'} at ${s.sharePercent}%` +
    ` · packs ${f.packsPublished} · rating ${f.averageRating ?? 'no reviews'} · units ${f.units} · months active ${f.monthsActive}`
  );
}

/** Aligned plain-text table (numbers right-aligned). */
export function alignTable(headers: readonly string[], rows: readonly string[][], indent = ''): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_h, i) => rows.length > 0 && rows.every((r) => /^-?[\d.]*%?$/.test(r[i] ?? '')));
  const fmt = (cells: readonly string[]) =>
    indent +
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(headers), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}

export function renderReportTable(report: PayoutReport): string {
  const out: string[] = [statusLine(report), ''];
  if (report.statements.length === 0) out.push('No creator has activity or a balance this month.', '');
  for (const s of report.statements) {
    out.push(creatorHeading(s));
    out.push(alignTable(LINE_HEADERS, statementRows(s), '  '), '');
  }
  out.push('Summary', alignTable(SUMMARY_HEADERS, summaryRows(report), '  '), '');
  const t = report.totals;
  out.push(
    `Totals: ${t.transactions} transactions · net ${usd(t.netMinor)} · creator shares ${usd(t.creatorShareMinor)} · platform ${usd(t.platformShareMinor)}` +
      ` · bonuses ${usd(t.bonusMinor)} · carried in ${usd(t.carriedInMinor)} · payouts ${usd(t.payoutMinor)} · carried out ${usd(t.carriedOutMinor)}`,
  );
  out.push(subscriptionsLine(report));
  out.push(tieOutLine(report));
  if (report.quarantine.length > 0) {
    out.push('', 'Not in any statement (rows kept out by an import)', alignTable(QUARANTINE_HEADERS, quarantineRows(report), '  '));
  }
  return `${out.join('\n')}\n`;
}

/** A table cell or heading from data: text only (no HTML, links, images or autolinks). */
const mdCell = markdownText;

export function markdownTable(headers: readonly string[], rows: readonly string[][]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(mdCell).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderReportMarkdown(report: PayoutReport): string {
  const out: string[] = [`# Creator payouts ${report.period}`, '', statusLine(report), ''];
  for (const s of report.statements) {
    out.push(`## ${mdCell(creatorHeading(s))}`, '', markdownTable(LINE_HEADERS, statementRows(s)), '');
  }
  out.push('## Summary', '', markdownTable(SUMMARY_HEADERS, summaryRows(report)), '');
  const t = report.totals;
  out.push(
    '## Totals and tie-out',
    '',
    markdownTable(
      ['transactions', 'net', 'creator shares', 'platform shares', 'bonuses', 'carried in', 'payouts', 'carried out'],
      [[String(t.transactions), usd(t.netMinor), usd(t.creatorShareMinor), usd(t.platformShareMinor), usd(t.bonusMinor), usd(t.carriedInMinor), usd(t.payoutMinor), usd(t.carriedOutMinor)]],
    ),
    '',
    subscriptionsLine(report),
    '',
    tieOutLine(report),
  );
  if (report.quarantine.length > 0) {
    out.push('', '## Not in any statement', '', 'Rows kept out by an import (quarantined or held), by month and reason:', '', markdownTable(QUARANTINE_HEADERS, quarantineRows(report)));
  }
  return `${out.join('\n')}\n`;
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; a text
 * cell a spreadsheet would run as a formula (= + - @, tab, CR) gets a leading apostrophe.
 * Numeric cells (including negative amounts) are left as numbers.
 */
export function csvField(value: string): string {
  let v = value;
  if (/^[=+\-@\t\r]/.test(v) && !/^-\d+(\.\d+)?%?$/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function toCsv(headers: readonly string[], rows: readonly string[][]): string {
  return [headers, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** The folder of `--out` that holds one CSV file per creator. */
export const CREATORS_FOLDER = 'creators';

/**
 * The CSV files of a report (relative path → content), collision-free by construction: the
 * folder itself holds only fixed names (the summary, the quarantine block, the `creators`
 * folder), and every creator's file is in `creators/`, named by an id checked to be one
 * kebab-case segment. A creator whose id is "summary" cannot replace the summary.
 *
 *   payouts-<period>-summary.csv
 *   payouts-<period>.quarantine.csv          (only when rows were kept out)
 *   creators/payouts-<period>-<creator>.csv  (one per statement)
 */
export function renderReportCsvFiles(report: PayoutReport): Map<string, string> {
  const files = new Map<string, string>();
  files.set(`payouts-${report.period}-summary.csv`, toCsv(SUMMARY_HEADERS, summaryRows(report)));
  if (report.quarantine.length > 0) files.set(`payouts-${report.period}.quarantine.csv`, toCsv(QUARANTINE_HEADERS, quarantineRows(report)));
  for (const s of report.statements) {
    files.set(`${CREATORS_FOLDER}/payouts-${report.period}-${statementFileStem(s.creator)}.csv`, toCsv(LINE_HEADERS, statementRows(s)));
  }
  return files;
}

export const QUARANTINE_HEADERS = ['month', 'reason', 'label', 'rows', 'currency', 'amount', 'rows_without_amount'] as const;

/** One row per reason and currency (amounts in the currency's major units, exactly). */
export function quarantineRows(report: Pick<PayoutReport, 'quarantine'>): string[][] {
  const rows: string[][] = [];
  for (const q of report.quarantine) {
    const base = [q.month ?? 'undated', q.reason, q.label];
    if (q.amounts.length === 0) rows.push([...base, String(q.rows), '', '', String(q.rowsWithoutAmount)]);
    q.amounts.forEach((a, i) =>
      rows.push([...base, i === 0 ? String(q.rows) : '', a.currency, formatMinor(a.amountMinor, a.currency), i === 0 ? String(q.rowsWithoutAmount) : '']),
    );
  }
  return rows;
}

/** One line per reason, for warnings: "2026-10 quarantined: unknown product: 3 row(s), EUR 14.97". */
export function quarantineLines(report: Pick<PayoutReport, 'quarantine'>): string[] {
  return report.quarantine.map((q) => {
    const amounts = q.amounts.map((a) => `${a.currency} ${formatMinor(a.amountMinor, a.currency)}`);
    if (q.rowsWithoutAmount > 0) amounts.push(`${q.rowsWithoutAmount} row(s) without a readable amount`);
    return `${q.month ?? 'undated'} ${q.label}: ${q.rows} row(s)${amounts.length ? `, ${amounts.join(', ')}` : ''}`;
  });
}

export const TIER_HEADERS = ['creator', 'name', 'packs', 'rating', 'reviews', 'units', 'months', 'tier', 'share_percent', 'bonus_usd', 'next_tier', 'unmet'] as const;

/**
 * One row per creator. `none` fills a cell with no value (no reviews, no next tier): "-" in
 * the table; the CSV passes "" so a spreadsheet gets an empty cell, not a quoted "'-".
 */
export function tierRows(report: TiersReport, none = '-'): string[][] {
  return report.creators.map((c) => [
    c.creator,
    c.name ?? '',
    String(c.figures.packsPublished),
    c.figures.averageRating ?? none,
    String(c.figures.ratingCount),
    String(c.figures.units),
    String(c.figures.monthsActive),
    c.tier ?? 'none',
    c.sharePercent,
    usd(c.bonusMinor),
    c.next?.tier ?? none,
    c.next ? c.next.unmet.map((u) => `${u.minimum} ${u.actual} < ${u.required}`).join('; ') : none,
  ]);
}

export function renderTiersTable(report: TiersReport): string {
  const defs = report.tiers.map(
    (t) =>
      `  ${t.name}: ≥ ${t.minimums.packs} packs, rating ≥ ${t.minimums.rating}, ≥ ${t.minimums.units} units, ≥ ${t.minimums.months} months → ${t.sharePercent}%` +
      (t.bonus ? `, bonus ${usd(t.bonus.amountMinor)} at ${t.bonus.threshold} units` : ''),
  );
  return `Creator tiers as of the end of ${report.period}\n${defs.join('\n')}\n\n${alignTable(TIER_HEADERS, tierRows(report))}\n`;
}
