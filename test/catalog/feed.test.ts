import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import {
  buildFeed,
  clockFromEnv,
  latestPerSlug,
  serialiseFeed,
  windowStatus,
  type RegisteredBundle,
} from '../../src/catalog/feed.js';
import { compareVersions } from '../../src/shared/version.js';
import { savingsPercent } from '../../src/shared/money.js';
import { ROOT } from '../helpers/cli.js';
import { manifest, registered } from './sample.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validateFeed = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schemas', 'catalog.schema.json'), 'utf8')) as object);

const now = new Date('2026-11-26T12:34:56.789Z');
const packs = [
  registered(manifest({ slug: 'ocean-creatures', markets: { JP: { currency: 'JPY', amountMinor: 750 }, GB: { currency: 'GBP', amountMinor: 449 } }, availability: { from: '2026-06-01' } })),
  registered(manifest({ slug: 'ocean-creatures', version: '1.10.0', price: { amountMinor: 599, currency: 'USD' } })),
  registered(manifest({ slug: 'ocean-creatures', version: '1.9.0' })),
  registered(manifest({ slug: 'forest-scenes', category: 'environments', price: { amountMinor: 399, currency: 'USD' } })),
  registered(manifest({ slug: 'winter-wonders', category: 'seasonal', availability: { from: '2026-12-01', until: '2027-02-28' } })),
  registered(manifest({ slug: 'summer-fun', category: 'seasonal', availability: { from: '2026-06-01', until: '2026-08-31' } })),
];
const bundles: RegisteredBundle[] = [
  { slug: 'starter-bundle', name: 'Starter Bundle', packs: ['ocean-creatures', 'forest-scenes'], priceMinor: 799, individualTotalMinor: 998, currency: 'USD' },
  { slug: 'winter-collection', name: 'Winter Collection', packs: ['winter-wonders'], priceMinor: 149, individualTotalMinor: 199, currency: 'USD', availableUntil: '2027-01-25' },
  { slug: 'old-sale', name: 'Old Sale', packs: ['forest-scenes'], priceMinor: 299, individualTotalMinor: 399, currency: 'USD', availableUntil: '2026-01-01' },
];

describe('buildFeed', () => {
  const { feed, excluded, files } = buildFeed({ packs, bundles, now });

  it('is valid against schemas/catalog.schema.json', () => {
    expect(validateFeed(feed), JSON.stringify(validateFeed.errors)).toBe(true);
  });

  it('is a schema that refuses what a reader must not accept', () => {
    const bad = (mutate: (f: any) => void) => {
      const copy = JSON.parse(JSON.stringify(feed));
      mutate(copy);
      return validateFeed(copy);
    };
    expect(bad(() => undefined)).toBe(true);
    expect(bad((f) => (f.packs[0].price.amountMinor = 4.99))).toBe(false);
    expect(bad((f) => (f.packs[0].surprise = true))).toBe(false);
    expect(bad((f) => (f.packs[0].archive.sha256 = 'abc'))).toBe(false);
    expect(bad((f) => (f.packs[0].archive.url = '../../etc/passwd'))).toBe(false);
    expect(bad((f) => (f.packs[0].assets[0].variants[0].url = '/abs/path.webp'))).toBe(false);
    expect(bad((f) => (f.packs[0].ageRange.max = 13))).toBe(false);
    expect(bad((f) => (f.catalogVersion = 2))).toBe(false);
    expect(bad((f) => (f.generatedAt = '2026-11-26'))).toBe(false);
  });

  it('keeps the latest version of each slug by semver precedence, sorted by slug', () => {
    expect(feed.packs.map((p) => `${p.slug}@${p.version}`)).toEqual(['forest-scenes@1.0.0', 'ocean-creatures@1.10.0']);
  });

  it('leaves out packs outside their window on the publish day and says why', () => {
    expect(excluded.filter((e) => e.kind === 'pack')).toEqual([
      expect.objectContaining({ slug: 'summer-fun', reason: 'expired' }),
      expect.objectContaining({ slug: 'winter-wonders', reason: 'not-yet-available' }),
    ]);
  });

  it('leaves out bundles out of their window or with a pack missing from the feed', () => {
    expect(feed.bundles.map((b) => b.slug)).toEqual(['starter-bundle']);
    expect(excluded.filter((e) => e.kind === 'bundle')).toEqual([
      expect.objectContaining({ slug: 'old-sale', reason: 'expired' }),
      expect.objectContaining({ slug: 'winter-collection', reason: 'pack-not-in-feed', missingPacks: ['winter-wonders'] }),
    ]);
  });

  it('computes bundle savings exactly', () => {
    const b = feed.bundles[0]!;
    expect(b.savings).toEqual({ amountMinor: 199, currency: 'USD' });
    expect(b.savingsPercent).toBe('19.9');
  });

  it('uses the generation time to the second and its UTC day as the publish day', () => {
    expect(feed.generatedAt).toBe('2026-11-26T12:34:56Z');
    expect(feed.publishDate).toBe('2026-11-26');
  });

  it('gives relative URLs and lists every file they point to', () => {
    const ocean = feed.packs.find((p) => p.slug === 'ocean-creatures')!;
    expect(ocean.archive.url).toBe('packs/ocean-creatures/ocean-creatures-1.10.0.zip');
    expect(ocean.archive.signatureUrl).toBe('packs/ocean-creatures/ocean-creatures-1.10.0.zip.minisig');
    expect(ocean.assets[0]!.variants[0]!.url).toBe('packs/ocean-creatures/1.10.0/assets/one/512.webp');
    const paths = new Set(files.map((f) => f.sitePath));
    for (const p of feed.packs) {
      expect(paths.has(p.archive.url)).toBe(true);
      expect(paths.has(p.archive.signatureUrl)).toBe(true);
      for (const a of p.assets) for (const v of a.variants) expect(paths.has(v.url)).toBe(true);
    }
  });

  it('resolves URLs against --base-url, normalising the trailing slash', () => {
    const built = buildFeed({ packs, bundles, now, baseUrl: 'https://cdn.example.com/catalog' });
    expect(built.feed.baseUrl).toBe('https://cdn.example.com/catalog/');
    expect(built.feed.packs[0]!.archive.url).toBe('https://cdn.example.com/catalog/packs/forest-scenes/forest-scenes-1.0.0.zip');
    expect(validateFeed(built.feed)).toBe(true);
    expect(() => buildFeed({ packs, bundles, now, baseUrl: 'ftp://example.com/' })).toThrow(/http\(s\)/);
  });

  it('lists only the chosen market under --market, with sorted market keys otherwise', () => {
    const all = buildFeed({ packs: [packs[0]!], bundles: [], now });
    expect(Object.keys(all.feed.packs[0]!.markets)).toEqual(['GB', 'JP']);
    const gb = buildFeed({ packs: [packs[0]!], bundles: [], now, market: 'GB' });
    expect(gb.feed.packs[0]!.markets).toEqual({ GB: { currency: 'GBP', amountMinor: 449 } });
    expect(gb.feed.market).toBe('GB');
    const fr = buildFeed({ packs: [packs[0]!], bundles: [], now, market: 'FR' });
    expect(fr.feed.packs[0]!.markets).toEqual({});
  });

  it('serialises byte-identically whatever the input order', () => {
    const again = buildFeed({ packs: [...packs].reverse(), bundles: [...bundles].reverse(), now });
    expect(serialiseFeed(again.feed)).toBe(serialiseFeed(feed));
  });

  it('refuses ledger data that cannot become a safe path', () => {
    const evil = registered(manifest({ slug: 'evil-pack' }));
    evil.manifest.assets[0]!.variants![0]!.path = 'assets/../../../etc/passwd';
    expect(() => buildFeed({ packs: [evil], bundles: [], now })).toThrow(/not safe/);
  });

  it('refuses an asset without variants', () => {
    const bare = registered(manifest({ slug: 'bare-pack' }));
    delete bare.manifest.assets[1]!.variants;
    expect(() => buildFeed({ packs: [bare], bundles: [], now })).toThrow(/no variants/);
  });
});

describe('helpers', () => {
  it('reads SOURCE_DATE_EPOCH as whole seconds and refuses anything else', () => {
    expect(clockFromEnv({ SOURCE_DATE_EPOCH: '1795651200' }).toISOString()).toBe('2026-11-26T00:00:00.000Z');
    expect(() => clockFromEnv({ SOURCE_DATE_EPOCH: 'yesterday' })).toThrow(/whole seconds/);
    const fixed = new Date('2020-01-01T00:00:00Z');
    expect(clockFromEnv({}, () => fixed)).toBe(fixed);
  });

  it('treats availability windows as inclusive UTC days', () => {
    const w = { from: '2026-11-01', until: '2027-02-28' };
    expect(windowStatus(w, '2026-11-01')).toBe('available');
    expect(windowStatus(w, '2027-02-28')).toBe('available');
    expect(windowStatus(w, '2026-10-31')).toBe('not-yet-available');
    expect(windowStatus(w, '2027-03-01')).toBe('expired');
    expect(windowStatus({ from: null, until: null }, '1999-01-01')).toBe('available');
  });

  it('rounds the savings percentage half away from zero to one decimal', () => {
    expect(savingsPercent(3596, 2499)).toBe('30.5'); // the roadmap's Animal Kingdom bundle
    expect(savingsPercent(8, 7)).toBe('12.5');
    expect(savingsPercent(16, 15)).toBe('6.3'); // 6.25 → 6.3
    expect(savingsPercent(0, 0)).toBe('0.0');
  });

  it('orders versions by semver precedence', () => {
    const sorted = ['1.0.0', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta.2', '1.0.0-beta.11', '0.9.9', '1.10.0', '1.2.0'].sort(compareVersions);
    expect(sorted).toEqual(['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0', '1.2.0', '1.10.0']);
    expect(latestPerSlug([registered(manifest({ slug: 'a-pack', version: '2.0.0-rc.1' })), registered(manifest({ slug: 'a-pack', version: '1.9.9' }))])[0]!.manifest.version).toBe('2.0.0-rc.1');
  });
});
