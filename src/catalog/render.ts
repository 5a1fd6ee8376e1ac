/**
 * Text renderings of the diff and the report: aligned plain-text tables for a terminal
 * and GitHub-flavoured Markdown for release notes. Plain functions returning strings.
 */
import { formatMinor } from '../shared/money.js';
import { LIST_PRICE, type CatalogDiff, type DiffMoney } from './diff.js';
import type { CatalogReport } from './report.js';
import { markdownText } from '../shared/markdown.js';

export type TextFormat = 'table' | 'md';

/** Display width of a string in a monospace terminal (code points; good enough for our data). */
function width(s: string): number {
  return [...s].length;
}

export function textTable(headers: string[], rows: string[][], rightAlign: ReadonlySet<number> = new Set()): string {
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAlign.has(i) ? c.padStart(widths[i]! + c.length - width(c)) : c.padEnd(widths[i]! + c.length - width(c))))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

/** A table cell or heading from data: text only (no HTML, links, images or autolinks). */
const mdCell = markdownText;

export function mdTable(headers: string[], rows: string[][], rightAlign: ReadonlySet<number> = new Set()): string {
  return [
    `| ${headers.map(mdCell).join(' | ')} |`,
    `| ${headers.map((_, i) => (rightAlign.has(i) ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
  ].join('\n');
}

function table(format: TextFormat, headers: string[], rows: string[][], right: number[] = []): string {
  return format === 'md' ? mdTable(headers, rows, new Set(right)) : textTable(headers, rows, new Set(right));
}

function heading(format: TextFormat, level: number, text: string): string {
  return format === 'md' ? `${'#'.repeat(level)} ${text}` : level <= 2 ? `${text}\n${'='.repeat(width(text))}` : text;
}

export function money(m: DiffMoney | null): string {
  return m === null ? '—' : `${formatMinor(m.amountMinor, m.currency)} ${m.currency}`;
}

function code(format: TextFormat, s: string): string {
  return format === 'md' ? `\`${s.replace(/`/g, '')}\`` : s;
}

export function renderDiff(diff: CatalogDiff, format: TextFormat): string {
  const out: string[] = [heading(format, 2, 'Catalog changes'), ''];
  out.push(
    `${diff.old.file} (${diff.old.packs} packs, ${diff.old.bundles} bundles) → ${diff.new.file} (${diff.new.packs} packs, ${diff.new.bundles} bundles)`,
  );
  if (!diff.changed) {
    out.push('', 'No changes.');
    return `${out.join('\n')}\n`;
  }
  const section = (title: string, headers: string[], rows: string[][], right: number[] = []) => {
    if (rows.length === 0) return;
    out.push('', heading(format, 3, `${title} (${rows.length})`), '', table(format, headers, rows, right));
  };
  const p = diff.packs;
  section('Packs added', ['pack', 'version', 'name', 'price'], p.added.map((a) => [code(format, a.slug), a.version, a.name ?? '', money(a.price)]), [3]);
  section('Packs removed', ['pack', 'version', 'name'], p.removed.map((r) => [code(format, r.slug), r.version, r.name ?? '']));
  section('Packs re-versioned', ['pack', 'from', 'to', ''], p.reversioned.map((r) => [code(format, r.slug), r.from, r.to, r.direction === 'downgrade' ? 'downgrade' : '']));
  section(
    'Packs re-priced',
    ['pack', 'market', 'from', 'to'],
    p.repriced.flatMap((r) => r.changes.map((c) => [code(format, r.slug), c.market === LIST_PRICE ? 'list (USD)' : c.market, money(c.from), money(c.to)])),
    [2, 3],
  );
  section('Archives changed under the same version', ['pack', 'version', 'old sha256', 'new sha256'], p.rebuilt.map((r) => [code(format, r.slug), r.version, r.from.slice(0, 12), r.to.slice(0, 12)]));
  const b = diff.bundles;
  section('Bundles added', ['bundle', 'name', 'price', 'packs'], b.added.map((a) => [code(format, a.slug), a.name ?? '', money(a.price), a.packs.join(', ')]), [2]);
  section('Bundles removed', ['bundle', 'name'], b.removed.map((r) => [code(format, r.slug), r.name ?? '']));
  section('Bundles re-priced', ['bundle', 'from', 'to'], b.repriced.map((r) => [code(format, r.slug), money(r.from), money(r.to)]), [1, 2]);
  section('Bundles recomposed', ['bundle', 'packs added', 'packs removed'], b.recomposed.map((r) => [code(format, r.slug), r.added.join(', '), r.removed.join(', ')]));
  return `${out.join('\n')}\n`;
}

export function renderReport(report: CatalogReport, format: TextFormat): string {
  const out: string[] = [heading(format, 2, 'Catalog report'), ''];
  out.push(`${report.totals.packs} packs against a launch plan of ${report.totals.planned}; ${report.totals.reviews} reviews; ${report.flagged.length} under ${report.ratingThreshold} stars.`);
  out.push('', heading(format, 3, 'Library by category (launch plan)'), '');
  out.push(
    table(
      format,
      ['category', 'packs', 'planned', 'gap', 'lowest', 'median', 'highest'],
      report.categories.map((c) => [
        c.category,
        String(c.packs),
        String(c.planned),
        c.gap > 0 ? `${c.gap} short` : c.gap < 0 ? `${-c.gap} over` : 'met',
        c.price ? money(c.price.min) : '—',
        c.price ? money(c.price.median) : '—',
        c.price ? money(c.price.max) : '—',
      ]),
      [1, 2, 4, 5, 6],
    ),
  );
  out.push('', heading(format, 3, 'Packs'), '');
  out.push(
    table(
      format,
      ['pack', 'version', 'category', 'price', 'reviews', 'rating', ''],
      report.packs.map((p) => [
        code(format, p.slug),
        p.version,
        p.category,
        money(p.price),
        String(p.reviews),
        p.averageRating ?? '—',
        p.flagged ? `under ${report.ratingThreshold}` : '',
      ]),
      [3, 4, 5],
    ),
  );
  if (report.flagged.length > 0) {
    out.push('', `Under ${report.ratingThreshold} stars: ${report.flagged.map((s) => code(format, s)).join(', ')}`);
  }
  return `${out.join('\n')}\n`;
}
