/**
 * `creators tiers --format html`: the tier table and each creator's four figures, the
 * tier reached and what the next tier still misses, as one self-contained page.
 */
import { dataTable, pageHead, section } from '../../pages/blocks.js';
import { html } from '../../pages/escape.js';
import { formatMoney } from '../../pages/money.js';
import { LAYOUT_CSS, renderPage } from '../../pages/shell.js';
import type { TiersReport } from '../report.js';

const MINIMUM_LABEL = { packs: 'packs', rating: 'rating', units: 'sales', months: 'months' } as const;

export function renderTiersPage(report: TiersReport, platform: string): string {
  const defs = dataTable(
    [{ header: 'Tier' }, { header: 'Packs', numeric: true }, { header: 'Rating', numeric: true }, { header: 'Monthly sales', numeric: true }, { header: 'Months active', numeric: true }, { header: 'Share', numeric: true }, { header: 'Bonus' }],
    report.tiers.map((t) => [
      t.name,
      `≥ ${t.minimums.packs}`,
      `≥ ${t.minimums.rating}`,
      `≥ ${t.minimums.units}`,
      `≥ ${t.minimums.months}`,
      `${t.sharePercent}%`,
      t.bonus ? `${formatMoney(t.bonus.amountMinor, 'USD')} at ${t.bonus.threshold} sales` : '—',
    ]),
    'Tier minimums',
  );
  const creators = dataTable(
    [{ header: 'Creator' }, { header: 'Packs', numeric: true }, { header: 'Rating', numeric: true }, { header: 'Sales', numeric: true }, { header: 'Months', numeric: true }, { header: 'Tier' }, { header: 'Share', numeric: true }, { header: 'Bonus', numeric: true }, { header: 'Next tier misses' }],
    report.creators.map((c) => [
      c.name ? html`${c.name}<br><span class="note">${c.creator}</span>` : html`${c.creator}`,
      String(c.figures.packsPublished),
      c.figures.averageRating === null ? 'no reviews' : `${c.figures.averageRating} (${c.figures.ratingCount})`,
      String(c.figures.units),
      String(c.figures.monthsActive),
      c.tier ?? 'none',
      `${c.sharePercent}%`,
      formatMoney(c.bonusMinor, 'USD'),
      c.next
        ? c.next.unmet.length === 0
          ? `${c.next.tier}: nothing`
          : `${c.next.tier}: ${c.next.unmet.map((u) => `${MINIMUM_LABEL[u.minimum]} ${u.actual} of ${u.required}`).join(', ')}`
        : 'top tier',
    ]),
    'Creators',
  );
  const body = html`<div class="wrap">
${pageHead(platform, `Creator tiers ${report.period}`, [
  ['As of', `the end of ${report.period} (UTC)`],
  ['Creators', String(report.creators.length)],
])}
<main>
${section('tiers', 'Tiers', defs)}
${section('creators', 'Creators', creators)}
<p class="note">A tier is reached when all four minimums hold; a creator who meets none is paid the lowest tier’s share and no bonus.</p>
</main>
</div>`;
  return renderPage({ title: `Creator tiers ${report.period}`, css: LAYOUT_CSS, body: body.__html });
}
