/**
 * `catalog report --format html`: the library against the launch plan, the price spread
 * per category and every pack's reviews, as one self-contained page (the page kit's shell).
 */
import { dataTable, pageHead, section } from '../pages/blocks.js';
import { html } from '../pages/escape.js';
import { formatMoney } from '../pages/money.js';
import { LAYOUT_CSS, renderPage } from '../pages/shell.js';
import { CATEGORY_LABELS } from './html.js';
import type { CatalogReport, ReportMoney } from './report.js';

const money = (m: ReportMoney | undefined) => (m ? formatMoney(m.amountMinor, m.currency) : '—');

const CSS = `
td .flag{color:var(--bad);font-weight:700}
td .ok{color:var(--good)}
`;

export function renderCatalogReportPage(report: CatalogReport): string {
  const categories = dataTable(
    [{ header: 'Category' }, { header: 'Packs', numeric: true }, { header: 'Planned', numeric: true }, { header: 'Gap' }, { header: 'Lowest', numeric: true }, { header: 'Median', numeric: true }, { header: 'Highest', numeric: true }],
    report.categories.map((c) => [
      CATEGORY_LABELS[c.category] ?? c.category,
      String(c.packs),
      String(c.planned),
      c.gap > 0 ? html`<span class="flag">${c.gap} short</span>` : c.gap < 0 ? `${-c.gap} over` : html`<span class="ok">met</span>`,
      money(c.price?.min),
      money(c.price?.median),
      money(c.price?.max),
    ]),
    'Library by category against the launch plan',
  );
  const packs = dataTable(
    [{ header: 'Pack' }, { header: 'Version' }, { header: 'Category' }, { header: 'Creator' }, { header: 'Price', numeric: true }, { header: 'Reviews', numeric: true }, { header: 'Rating', numeric: true }],
    report.packs.map((p) => [
      html`${p.name}<br><span class="note">${p.slug}</span>`,
      p.version,
      CATEGORY_LABELS[p.category] ?? p.category,
      p.creator,
      money(p.price),
      String(p.reviews),
      p.averageRating === null ? '—' : p.flagged ? html`<span class="flag">${p.averageRating} ⚠</span>` : p.averageRating,
    ]),
    'Packs',
  );
  const flagged = report.packs.filter((p) => p.flagged);
  const body = html`<div class="wrap">
${pageHead('packops catalog report', 'Catalog report', [
  ['Packs', `${report.totals.packs} of ${report.totals.planned} planned`],
  ['Reviews', String(report.totals.reviews)],
  ['Average rating', report.totals.averageRating ?? '—'],
  [`Under ${report.ratingThreshold} stars`, String(flagged.length)],
])}
<main>
${
  flagged.length > 0
    ? section('flagged', `Under ${report.ratingThreshold} stars`, html`<ul class="warnings">${flagged.map((p) => html`<li>${p.name} (${p.slug}): ${p.averageRating ?? ''} from ${p.reviews} reviews</li>`)}</ul>`)
    : html``
}
${section('categories', 'Library by category (launch plan)', categories)}
${section('packs', 'Packs', packs)}
${report.orphanReviews > 0 ? html`<p class="note">${report.orphanReviews} reviews name packs that are not registered; they are not counted.</p>` : html``}
</main>
</div>`;
  return renderPage({ title: 'Catalog report', css: `${LAYOUT_CSS}${CSS}`, body: body.__html });
}
