import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { ledgerAt } from '../helpers/ledgers.js';
import type { Ledger } from '../../src/ledger/db.js';
import {
  charmPrice,
  createBundle,
  createSeasonalBundle,
  discountedPrice,
  listBundles,
  parseDiscount,
} from '../../src/pricing/bundles.js';
import { savingsPercent } from '../../src/shared/money.js';
import { quoteInstitution } from '../../src/pricing/institution.js';
import { fixtureManifest, seedLedger } from '../ledger/seed.js';
import { registerPacks } from '../../src/ledger/catalog.js';

describe('bundle arithmetic', () => {
  it('matches the roadmap: Animal Kingdom Complete, 2499 against 3596, saves 30.5%', () => {
    expect(savingsPercent(3596, 2499)).toBe('30.5');
    // 3596 × 0.70 = 2517.2 → 2517, charmed down to 2499.
    expect(discountedPrice(3596, parseDiscount('0.30'))).toBe(2517);
    expect(charmPrice(2517)).toBe(2499);
  });

  it('rounds half away from zero, exactly (no binary floating point)', () => {
    // 1197 × 0.75 = 897.75 → 898; 10 × 0.25 discount = 7.5 → 8; 0.1 + 0.2 style traps: 3 × (1 − 0.15) = 2.55 → 3.
    expect(discountedPrice(1197, parseDiscount('0.25'))).toBe(898);
    expect(discountedPrice(10, parseDiscount('0.25'))).toBe(8);
    expect(discountedPrice(3, parseDiscount('0.15'))).toBe(3);
    expect(discountedPrice(1, parseDiscount('0.5'))).toBe(1);
    expect(savingsPercent(1000, 999)).toBe('0.1');
    expect(savingsPercent(2000, 1999)).toBe('0.1'); // 0.05 → 0.1, half away from zero
  });

  it('charms down to the nearest …99 and leaves a price with none below it', () => {
    expect([899, 900, 958, 1000, 1099, 99, 98, 0].map(charmPrice)).toEqual([899, 899, 899, 999, 1099, 99, 98, 0]);
  });

  it('refuses a discount outside [0, 1)', () => {
    for (const bad of ['1', '1.5', '-0.1', '30%', 'abc']) expect(() => parseDiscount(bad)).toThrow(expect.objectContaining({ code: 'DISCOUNT_INVALID' }));
  });
});

describe('bundles in the ledger', () => {
  let tmp: ReturnType<typeof tempDir>;
  let ledger: Ledger;
  beforeEach(async () => {
    tmp = tempDir();
    ledger = await seedLedger(await ledgerAt(tmp.dir, 'l.db'));
  });
  afterEach(async () => {
    await ledger.close();
    tmp.cleanup();
  });

  it('stores the individual total, price, savings and each item at its price (the seeded starter bundle)', async () => {
    const [b] = await listBundles(ledger);
    expect(b).toMatchObject({
      slug: 'starter-bundle', individualTotalMinor: 1197, priceMinor: 799, savingsMinor: 398, savingsPercent: '33.2', discount: '0.25', charm: true,
      items: [
        { pack: 'ocean-creatures', priceMinor: 499 },
        { pack: 'forest-scenes', priceMinor: 399 },
        { pack: 'counting-garden', priceMinor: 299 },
      ],
    });
  });

  it('takes a fixed price; same bundle again is unchanged, a different one under the slug is a conflict', async () => {
    const o = { slug: 'nature-duo', name: 'Nature Duo', packs: ['forest-scenes', 'counting-garden'], priceMinor: 549 };
    expect(await createBundle(ledger, o)).toMatchObject({ status: 'created', bundle: { individualTotalMinor: 698, priceMinor: 549, savingsPercent: '21.3' } });
    expect(await createBundle(ledger, o)).toMatchObject({ status: 'unchanged' });
    await expect(createBundle(ledger, { ...o, priceMinor: 500 })).rejects.toMatchObject({ code: 'BUNDLE_EXISTS', exitCode: 4 });
    await expect(createBundle(ledger, { ...o, slug: 'x-duo', packs: ['forest-scenes', 'dragons'] })).rejects.toMatchObject({ code: 'PACK_UNKNOWN', exitCode: 3 });
    await expect(createBundle(ledger, { ...o, slug: 'y-duo', priceMinor: 5000 })).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });
    await expect(createBundle(ledger, { ...o, slug: 'ocean-creatures' })).rejects.toMatchObject({ code: 'BUNDLE_SLUG_TAKEN', exitCode: 4 });
  });

  it('makes the seasonal collection of packs tagged and available on the day, for 60 days', async () => {
    const r = await createSeasonalBundle(ledger, { season: 'winter', discount: '0.25', today: '2026-12-01' });
    // winter-wonders (199) is the only winter pack; 199 × 0.75 = 149.25 → 149.
    expect(r.bundle).toMatchObject({
      slug: 'winter-collection', name: 'Winter Collection', kind: 'seasonal', season: 'winter',
      individualTotalMinor: 199, priceMinor: 149, availableFrom: '2026-12-01', availableUntil: '2027-01-30',
      items: [{ pack: 'winter-wonders', priceMinor: 199 }],
    });
    // Summer: ocean-creatures is available from 2026-06-01 with no end, but published (live)
    // only from 2026-09-01: on 2026-07-01 no summer pack is in the catalog yet.
    await expect(createSeasonalBundle(ledger, { season: 'Summer', discount: '0.25', today: '2026-07-01', days: 30 })).rejects.toMatchObject({ code: 'BUNDLE_EMPTY' });
    const summer = await createSeasonalBundle(ledger, { season: 'Summer', discount: '0.25', today: '2026-09-01', days: 30 });
    expect(summer.bundle).toMatchObject({ slug: 'summer-collection', name: 'Summer Collection', priceMinor: 374, availableUntil: '2026-10-01' });
  });

  it('refuses an empty collection with BUNDLE_EMPTY (exit 4) instead of a free bundle', async () => {
    // winter-wonders is not available before 2026-11-01; nothing is tagged "monsoon".
    await expect(createSeasonalBundle(ledger, { season: 'winter', discount: '0.25', today: '2026-10-31' })).rejects.toMatchObject({ code: 'BUNDLE_EMPTY', exitCode: 4 });
    await expect(createSeasonalBundle(ledger, { season: 'monsoon', discount: '0.25', today: '2026-10-31' })).rejects.toMatchObject({ code: 'BUNDLE_EMPTY' });
    expect(await listBundles(ledger)).toHaveLength(1);
  });
});

describe('bundles are priced from each pack\'s live version (§8, §10)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let ledger: Ledger;
  const at = (day: string) => () => new Date(`${day}T12:00:00Z`);
  /** Registers another version of a seeded fixture pack at a price. */
  async function version(slug: string, v: string, amountMinor: number, publishedAt: string, tags?: string[]) {
    const m = fixtureManifest(slug);
    await registerPacks(ledger, [
      {
        manifest: { ...m, version: v, price: { ...m.price, amountMinor }, ...(tags ? { tags } : {}) },
        sha256: `${slug}-${v}`.padEnd(64, '0').slice(0, 64),
        bytes: 1000,
        archivePath: `/archives/${slug}-${v}.zip`,
        publishedAt,
      },
    ]);
  }
  beforeEach(async () => {
    tmp = tempDir();
    ledger = await seedLedger(await ledgerAt(tmp.dir, 'l.db'));
    await version('forest-scenes', '2.0.0-beta.1', 50, '2026-09-15T00:00:00Z'); // a beta at 50
    await version('forest-scenes', '1.1.0', 999, '2027-03-01T00:00:00Z'); // scheduled at 999
  });
  afterEach(async () => {
    await ledger.close();
    tmp.cleanup();
  });

  it('create: neither the pre-release nor the scheduled version, until its day', async () => {
    const o = { name: 'Duo', packs: ['ocean-creatures', 'forest-scenes'], discount: '0.10' };
    const duo = await createBundle(ledger, { ...o, slug: 'duo', now: at('2026-10-01') });
    // 499 + 399 = 898; × 0.90 = 808.2 → 808 (the beta made it 549 → 494).
    expect(duo.bundle).toMatchObject({ individualTotalMinor: 898, priceMinor: 808, items: [{ pack: 'ocean-creatures', priceMinor: 499 }, { pack: 'forest-scenes', priceMinor: 399 }] });
    const later = await createBundle(ledger, { ...o, slug: 'duo-later', now: at('2027-03-01') });
    expect(later.bundle).toMatchObject({ individualTotalMinor: 1498, items: [{ priceMinor: 499 }, { pack: 'forest-scenes', priceMinor: 999 }] });
    // The stored weights are what payouts split by: read back, not recomputed.
    const stored = await listBundles(ledger, at('2026-10-01'));
    expect(stored.find((b) => b.slug === 'duo')!.items.map((i) => i.priceMinor)).toEqual([499, 399]);
  });

  it('create: a pack with no live version that day is PACK_NOT_LIVE (exit 4), and nothing is stored', async () => {
    // Before any forest-scenes release is published:
    await expect(createBundle(ledger, { slug: 'early', name: 'Early', packs: ['ocean-creatures', 'forest-scenes'], priceMinor: 500, now: at('2026-08-31') })).rejects.toMatchObject({
      code: 'PACK_NOT_LIVE',
      exitCode: 4,
      message: expect.stringMatching(/No live version on 2026-08-31 .*forest-scenes \(no version published yet, highest registered 2\.0\.0-beta\.1\)/),
    });
    // A pack registered only as a pre-release:
    const m = fixtureManifest('counting-garden');
    await registerPacks(ledger, [{ manifest: { ...m, slug: 'beta-garden', version: '0.1.0-rc.1', storeProductIds: {} }, sha256: 'b'.repeat(64), bytes: 1, archivePath: '/a.zip', publishedAt: '2026-09-01T00:00:00Z' }]);
    const err = await createBundle(ledger, { slug: 'rc-duo', name: 'RC', packs: ['ocean-creatures', 'beta-garden'], priceMinor: 500, now: at('2026-10-01') }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PACK_NOT_LIVE', details: { day: '2026-10-01', packs: [{ slug: 'beta-garden', version: '0.1.0-rc.1', reason: 'pre-release' }] } });
    expect((await listBundles(ledger)).map((b) => b.slug)).toEqual(['starter-bundle']);
  });

  it('seasonal: the live version\'s price, tags and window on --today; a pack with none is left out', async () => {
    const autumn = await createSeasonalBundle(ledger, { season: 'autumn', discount: '0.25', today: '2026-10-01' });
    // forest-scenes 1.0.0 at 399: 399 × 0.75 = 299.25 → 299 (the beta at 50 gave 38).
    expect(autumn.bundle).toMatchObject({ individualTotalMinor: 399, priceMinor: 299, items: [{ pack: 'forest-scenes', priceMinor: 399 }] });
    // A scheduled version that adds a tag counts from its day on, at its price.
    await version('ocean-creatures', '1.2.0', 599, '2026-12-01T00:00:00Z', ['ocean', 'animals', 'autumn']);
    const before = await createSeasonalBundle(ledger, { season: 'autumn', discount: '0.25', today: '2026-11-30', slug: 'autumn-a' });
    expect(before.bundle.items.map((i) => i.pack)).toEqual(['forest-scenes']);
    const on = await createSeasonalBundle(ledger, { season: 'autumn', discount: '0.25', today: '2026-12-01', slug: 'autumn-b' });
    expect(on.bundle.items).toEqual([
      { pack: 'forest-scenes', name: 'Forest Scenes', priceMinor: 399 },
      { pack: 'ocean-creatures', name: 'Ocean Creatures', priceMinor: 599 },
    ]);
  });
});

describe('institution quotes (roadmap _determineInstitutionPricing)', () => {
  it('public school: $2.99 a student, minimum 25 seats, volume discounts at 100/500/1000', () => {
    expect(quoteInstitution('public_school', 10)).toMatchObject({ billed: 25, subtotalMinor: 7475, discountMinor: 0, totalMinor: 7475, discountRate: null });
    expect(quoteInstitution('public_school', 99)).toMatchObject({ subtotalMinor: 29601, discountMinor: 0 });
    // 120 × 299 = 35880; 15% = 5382.
    expect(quoteInstitution('public_school', 120)).toMatchObject({ subtotalMinor: 35880, discountRate: '0.15', discountMinor: 5382, totalMinor: 30498 });
    // 501 × 299 = 149799; 25% = 37449.75 → 37450.
    expect(quoteInstitution('public_school', 501)).toMatchObject({ subtotalMinor: 149799, discountMinor: 37450, totalMinor: 112349 });
    // 1000 × 299 = 299000; 35% = 104650.
    expect(quoteInstitution('public_school', 1000)).toMatchObject({ discountRate: '0.35', discountMinor: 104650, totalMinor: 194350 });
  });

  it('private school: $4.99, minimum 10, 10% at 50, 20% at 200, 30% at 500', () => {
    expect(quoteInstitution('private_school', 3)).toMatchObject({ billed: 10, totalMinor: 4990 });
    // 55 × 499 = 27445; 10% = 2744.5 → 2745.
    expect(quoteInstitution('private_school', 55)).toMatchObject({ subtotalMinor: 27445, discountMinor: 2745, totalMinor: 24700 });
    // 250 × 499 = 124750; 20% = 24950.
    expect(quoteInstitution('private_school', 250)).toMatchObject({ discountMinor: 24950, totalMinor: 99800 });
    expect(quoteInstitution('private_school', 500)).toMatchObject({ discountRate: '0.30', discountMinor: 74850, totalMinor: 174650 });
  });

  it('daycare: $199.99 site licence with 50 students, $2.99 each after', () => {
    expect(quoteInstitution('daycare', 40)).toMatchObject({ subtotalMinor: 19999, discountMinor: 0, totalMinor: 19999 });
    const q = quoteInstitution('daycare', 73);
    expect(q).toMatchObject({ subtotalMinor: 19999 + 23 * 299, totalMinor: 26876 });
    expect(q.lines.map((l) => l.amountMinor)).toEqual([19999, 6877]);
  });

  it('refuses a count whose amounts would not be exact integers', () => {
    expect(() => quoteInstitution('daycare', Number.MAX_SAFE_INTEGER)).toThrow(RangeError);
  });

  it('homeschool group: $79.99 a family, minimum 5 families, 20% group discount', () => {
    // 8 × 7999 = 63992; 20% = 12798.4 → 12798.
    expect(quoteInstitution('homeschool_group', 8)).toMatchObject({ unit: 'families', subtotalMinor: 63992, discountMinor: 12798, totalMinor: 51194 });
    // 3 families are billed as the minimum 5: 39995; 20% = 7999.
    expect(quoteInstitution('homeschool_group', 3)).toMatchObject({ billed: 5, subtotalMinor: 39995, discountMinor: 7999, totalMinor: 31996 });
  });
});
