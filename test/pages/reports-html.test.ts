// `catalog report --format html` and `creators tiers --format html`: pages on the kit,
// every string from data escaped.
import { describe, expect, it } from 'vitest';
import { buildCatalogReport } from '../../src/catalog/report.js';
import { renderCatalogReportPage } from '../../src/catalog/report-html.js';
import { renderTiersPage } from '../../src/payouts/pages/tiers.js';
import type { TiersReport } from '../../src/payouts/report.js';
import { manifest } from '../catalog/sample.js';

const HOSTILE = '<img src=x onerror=alert(1)>';

describe('catalog report page', () => {
  const report = buildCatalogReport({
    packs: [
      { manifest: manifest({ slug: 'ocean-creatures', name: HOSTILE, price: { amountMinor: 129900, currency: 'USD' } }), publishedAt: '2026-10-01T00:00:00.000Z' },
      { manifest: manifest({ slug: 'forest-scenes', category: 'environments', price: { amountMinor: 750, currency: 'JPY' } }), publishedAt: '2026-10-01T00:00:00.000Z' },
    ],
    day: '2026-10-01',
    reviews: [
      { pack: 'ocean-creatures', rating: 3 },
      { pack: 'forest-scenes', rating: 5 },
    ],
  });
  const page = renderCatalogReportPage(report);

  it('escapes names from manifests and formats prices for people', () => {
    expect(page).not.toContain(HOSTILE);
    expect(page).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(page).toContain('$1,299.00');
    expect(page).toContain('¥750');
    expect(page).not.toMatch(/<script/);
  });

  it('shows the launch plan and flags packs under 4.0 stars', () => {
    expect(page).toMatch(/<th scope="row">Characters<\/th><td class="num">1<\/td><td class="num">8<\/td><td><span class="flag">7 short<\/span>/);
    expect(page).toContain('id="flagged"');
    expect(page).toMatch(/<span class="flag">3\.00 ⚠<\/span>/);
    expect(renderCatalogReportPage(report)).toBe(page);
  });
});

describe('creator tiers page', () => {
  const report: TiersReport = {
    ok: true,
    period: '2026-10',
    tiers: [
      { name: 'Bronze', minimums: { packs: 1, rating: '4.00', units: 10, months: 1 }, sharePercent: '70.00', bonus: null },
      { name: 'Silver', minimums: { packs: 5, rating: '4.20', units: 50, months: 3 }, sharePercent: '72.50', bonus: { threshold: 100, amountMinor: 5000 } },
    ],
    creators: [
      {
        creator: 'caro-diaz',
        name: '<script>alert(1)</script>',
        figures: { packsPublished: 2, averageRating: '4.50', ratingCount: 2, units: 12, monthsActive: 4 },
        tier: 'Bronze',
        sharePercent: '70.00',
        next: { tier: 'Silver', unmet: [{ minimum: 'packs', required: '5', actual: '2' }, { minimum: 'units', required: '50', actual: '12' }] },
        bonusMinor: 0,
      },
    ],
  };
  const page = renderTiersPage(report, 'Wonder & Co');

  it('lists the tiers and each creator with what the next tier misses, escaped', () => {
    expect(page).toContain('Wonder &#38; Co');
    expect(page).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(page).not.toMatch(/<script/);
    expect(page).toContain('Silver: packs 2 of 5, sales 12 of 50');
    expect(page).toContain('$50.00 at 100 sales');
  });
});
