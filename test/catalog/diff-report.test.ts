import { describe, expect, it } from 'vitest';
import { buildFeed } from '../../src/catalog/feed.js';
import { diffCatalogs, parseCatalogForDiff } from '../../src/catalog/diff.js';
import { buildCatalogReport, medianMinor } from '../../src/catalog/report.js';
import { renderDiff, renderReport, textTable } from '../../src/catalog/render.js';
import { manifest, registered } from './sample.js';

const now = new Date('2026-11-26T00:00:00Z');

function feedOf(...packs: ReturnType<typeof registered>[]) {
  return JSON.parse(JSON.stringify(buildFeed({ packs, bundles: [], now }).feed)) as Record<string, unknown>;
}

describe('catalog diff', () => {
  const before = feedOf(
    registered(manifest({ slug: 'ocean-creatures', markets: { GB: { currency: 'GBP', amountMinor: 449 }, JP: { currency: 'JPY', amountMinor: 750 } } })),
    registered(manifest({ slug: 'forest-scenes' })),
    registered(manifest({ slug: 'old-pack' })),
  );
  const after = feedOf(
    registered(manifest({ slug: 'ocean-creatures', version: '1.1.0', markets: { GB: { currency: 'GBP', amountMinor: 399 }, FR: { currency: 'EUR', amountMinor: 499 } } })),
    registered(manifest({ slug: 'forest-scenes', price: { amountMinor: 299, currency: 'USD' } })),
    registered(manifest({ slug: 'new-pack' })),
  );
  (before as { bundles: unknown[] }).bundles = [
    { slug: 'starter', name: 'Starter', packs: ['ocean-creatures', 'forest-scenes'], price: { amountMinor: 799, currency: 'USD' } },
    { slug: 'gone', name: 'Gone', packs: ['old-pack'], price: { amountMinor: 100, currency: 'USD' } },
  ];
  (after as { bundles: unknown[] }).bundles = [
    { slug: 'starter', name: 'Starter', packs: ['ocean-creatures', 'new-pack'], price: { amountMinor: 699, currency: 'USD' } },
    { slug: 'fresh', name: 'Fresh', packs: ['new-pack'], price: { amountMinor: 299, currency: 'USD' } },
  ];
  const diff = diffCatalogs(parseCatalogForDiff(before, 'a.json'), parseCatalogForDiff(after, 'b.json'), { old: 'a.json', new: 'b.json' });

  it('finds packs added, removed, re-versioned and re-priced per market', () => {
    expect(diff.changed).toBe(true);
    expect(diff.packs.added.map((p) => p.slug)).toEqual(['new-pack']);
    expect(diff.packs.removed.map((p) => p.slug)).toEqual(['old-pack']);
    expect(diff.packs.reversioned).toEqual([{ slug: 'ocean-creatures', from: '1.0.0', to: '1.1.0', direction: 'upgrade' }]);
    expect(diff.packs.repriced).toEqual([
      { slug: 'forest-scenes', changes: [{ market: '*', from: { amountMinor: 499, currency: 'USD' }, to: { amountMinor: 299, currency: 'USD' } }] },
      {
        slug: 'ocean-creatures',
        changes: [
          { market: 'FR', from: null, to: { amountMinor: 499, currency: 'EUR' } },
          { market: 'GB', from: { amountMinor: 449, currency: 'GBP' }, to: { amountMinor: 399, currency: 'GBP' } },
          { market: 'JP', from: { amountMinor: 750, currency: 'JPY' }, to: null },
        ],
      },
    ]);
  });

  it('finds bundles added, removed, re-priced and recomposed', () => {
    expect(diff.bundles.added.map((b) => b.slug)).toEqual(['fresh']);
    expect(diff.bundles.removed.map((b) => b.slug)).toEqual(['gone']);
    expect(diff.bundles.repriced).toEqual([{ slug: 'starter', from: { amountMinor: 799, currency: 'USD' }, to: { amountMinor: 699, currency: 'USD' } }]);
    expect(diff.bundles.recomposed).toEqual([{ slug: 'starter', added: ['new-pack'], removed: ['forest-scenes'] }]);
  });

  it('reports no change between a catalog and itself', () => {
    const same = diffCatalogs(parseCatalogForDiff(before, 'a'), parseCatalogForDiff(before, 'a'), { old: 'a', new: 'a' });
    expect(same.changed).toBe(false);
    expect(renderDiff(same, 'table')).toContain('No changes.');
  });

  it('flags an archive that changed under the same version', () => {
    const tampered = JSON.parse(JSON.stringify(before)) as { packs: Array<{ archive: { sha256: string } }> };
    tampered.packs[0]!.archive.sha256 = 'f'.repeat(64);
    const d = diffCatalogs(parseCatalogForDiff(before, 'a'), parseCatalogForDiff(tampered, 'b'), { old: 'a', new: 'b' });
    expect(d.packs.rebuilt).toHaveLength(1);
  });

  it('renders Markdown with formatted money in ISO minor units', () => {
    const md = renderDiff(diff, 'md');
    expect(md).toContain('### Packs re-priced (4)');
    expect(md).toContain('| `ocean-creatures` | JP | 750 JPY | — |');
    expect(md).toContain('| `forest-scenes` | list (USD) | 4.99 USD | 2.99 USD |');
  });

  it('refuses what is not a catalog, naming the JSON pointer', () => {
    expect(() => parseCatalogForDiff([], 'x.json')).toThrow(/JSON object/);
    expect(() => parseCatalogForDiff({ packs: [{ slug: 'a-pack' }] }, 'x.json')).toThrow(/\/packs\/0\/version/);
    expect(() => parseCatalogForDiff({ packs: [{ slug: 'a', version: '1.0.0', price: { amountMinor: 1.5, currency: 'USD' } }] }, 'x.json')).toThrow(/\/packs\/0\/price/);
    expect(() => parseCatalogForDiff({ packs: [{ slug: 'a', version: '1' }, { slug: 'a', version: '2' }] }, 'x.json')).toThrow(/twice/);
  });
});

describe('catalog report', () => {
  const packs = [
    registered(manifest({ slug: 'ocean-creatures', price: { amountMinor: 499, currency: 'USD' } })),
    registered(manifest({ slug: 'ocean-creatures', version: '0.9.0', category: 'seasonal' })),
    registered(manifest({ slug: 'dino-pals', price: { amountMinor: 299, currency: 'USD' } })),
    registered(manifest({ slug: 'farm-friends', price: { amountMinor: 400, currency: 'USD' } })),
    registered(manifest({ slug: 'space-pals', price: { amountMinor: 199, currency: 'USD' } })),
    registered(manifest({ slug: 'forest-scenes', category: 'environments', price: { amountMinor: 399, currency: 'USD' } })),
  ];
  const reviews = [
    { pack: 'ocean-creatures', rating: 5 },
    { pack: 'ocean-creatures', rating: 4 },
    { pack: 'ocean-creatures', rating: 4 },
    { pack: 'dino-pals', rating: 4 },
    { pack: 'dino-pals', rating: 3 },
    { pack: 'farm-friends', rating: 4 },
    { pack: 'unknown-pack', rating: 1 },
  ];
  const report = buildCatalogReport({ packs, reviews, day: '2026-10-01' });

  it('counts latest versions per category against the launch plan', () => {
    const byCat = Object.fromEntries(report.categories.map((c) => [c.category, c]));
    expect(byCat.characters).toMatchObject({ packs: 4, planned: 8, gap: 4 });
    expect(byCat.environments).toMatchObject({ packs: 1, planned: 6, gap: 5 });
    expect(byCat.seasonal).toMatchObject({ packs: 0, planned: 2, gap: 2, price: null });
    expect(report.totals).toMatchObject({ packs: 5, planned: 25, reviews: 6 });
  });

  it('gives the price spread with an exact median', () => {
    const chars = report.categories.find((c) => c.category === 'characters')!;
    expect(chars.price).toEqual({
      min: { amountMinor: 199, currency: 'USD' },
      median: { amountMinor: 350, currency: 'USD' }, // (299 + 400) / 2 = 349.5 → 350 (half to even)
      max: { amountMinor: 499, currency: 'USD' },
    });
    expect(medianMinor([1, 2])).toBe(2); // 1.5 → 2
    expect(medianMinor([2, 3])).toBe(2); // 2.5 → 2
  });

  it('averages ratings exactly and flags packs under 4.0 stars, not packs without reviews', () => {
    const bySlug = Object.fromEntries(report.packs.map((p) => [p.slug, p]));
    expect(bySlug['ocean-creatures']).toMatchObject({ reviews: 3, averageRating: '4.33', flagged: false });
    expect(bySlug['dino-pals']).toMatchObject({ reviews: 2, averageRating: '3.50', flagged: true });
    expect(bySlug['farm-friends']).toMatchObject({ reviews: 1, averageRating: '4.00', flagged: false });
    expect(bySlug['space-pals']).toMatchObject({ reviews: 0, averageRating: null, flagged: false });
    expect(report.flagged).toEqual(['dino-pals']);
    expect(report.orphanReviews).toBe(1);
  });

  it("counts each slug's live version, the one the feed shows: never a pre-release or a scheduled release", () => {
    const day = '2026-10-01';
    const packs = [
      registered(manifest({ slug: 'ocean-creatures', version: '1.9.0', category: 'characters' }), '2026-09-01T00:00:00.000Z'),
      registered(manifest({ slug: 'ocean-creatures', version: '1.10.0', category: 'characters' }), '2026-09-02T00:00:00.000Z'),
      registered(manifest({ slug: 'ocean-creatures', version: '1.11.0-beta.1', category: 'seasonal' }), '2026-09-03T00:00:00.000Z'),
      registered(manifest({ slug: 'ocean-creatures', version: '2.0.0', category: 'seasonal' }), '2026-10-02T00:00:00.000Z'),
      registered(manifest({ slug: 'dino-pals', version: '1.0.0-rc.1' }), '2026-09-01T00:00:00.000Z'),
      registered(manifest({ slug: 'farm-friends' }), '2026-12-24T00:00:00.000Z'),
    ];
    const live = buildCatalogReport({
      packs,
      reviews: [
        { pack: 'ocean-creatures', rating: 5 },
        { pack: 'farm-friends', rating: 1 },
      ],
      day,
    });
    expect(live.packs.map((p) => `${p.slug}@${p.version}`)).toEqual(['ocean-creatures@1.10.0']);
    expect(live.categories.find((c) => c.category === 'characters')).toMatchObject({ packs: 1 });
    expect(live.categories.find((c) => c.category === 'seasonal')).toMatchObject({ packs: 0 });
    expect(live.notLive).toEqual([
      { slug: 'dino-pals', version: '1.0.0-rc.1', reason: 'pre-release' },
      { slug: 'farm-friends', version: '1.0.0', reason: 'not-yet-published' },
    ]);
    // A registered slug's reviews are not orphans; a slug that is not live is not rated.
    expect(live.orphanReviews).toBe(0);
    expect(live.totals).toMatchObject({ packs: 1, reviews: 1, averageRating: '5.00' });
    // The feed published that day holds exactly the versions the report counts.
    const feed = buildFeed({ packs, bundles: [], now: new Date(`${day}T12:00:00Z`) }).feed;
    expect(feed.packs.map((p) => `${p.slug}@${p.version}`)).toEqual(live.packs.map((p) => `${p.slug}@${p.version}`));
  });

  it('renders a table and Markdown', () => {
    expect(renderReport(report, 'table')).toMatch(/characters\s+4\s+8\s+4 short/);
    expect(renderReport(report, 'md')).toContain('| `dino-pals` | 1.0.0 | characters | 2.99 USD | 2 | 3.50 | under 4.0 |');
  });
});

describe('textTable', () => {
  it('aligns columns, right-aligning the ones asked', () => {
    expect(textTable(['a', 'n'], [['xyz', '1'], ['q', '100']], new Set([1]))).toBe('a      n\n───  ───\nxyz    1\nq    100');
  });
});
