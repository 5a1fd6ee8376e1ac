// The one live-version rule (§10) the catalog and bundle pricing share.
import { describe, expect, it } from 'vitest';
import { highestPerSlug, liveOn, mayBeLive, type VersionKey } from '../../src/shared/live-version.js';

const v = (slug: string, version: string, publishedAt: string): VersionKey => ({ slug, version, publishedAt });
const id = (k: VersionKey) => k;
const names = (ks: VersionKey[]) => ks.map((k) => `${k.slug}@${k.version}`);

describe('mayBeLive', () => {
  it('is published by the end of the day (UTC) and not a pre-release', () => {
    expect(mayBeLive(v('a', '1.0.0', '2026-10-01T23:59:59Z'), '2026-10-01')).toBe(true);
    expect(mayBeLive(v('a', '1.0.0', '2026-10-02T00:00:00Z'), '2026-10-01')).toBe(false);
    expect(mayBeLive(v('a', '2.0.0-beta.1', '2026-09-15T00:00:00Z'), '2026-10-01')).toBe(false);
    expect(mayBeLive(v('a', '2.0.0+build.7', '2026-09-15T00:00:00Z'), '2026-10-01')).toBe(true); // build metadata is no pre-release
  });
});

describe('liveOn', () => {
  const versions = [
    v('forest-scenes', '1.0.0', '2026-09-01T00:00:00Z'),
    v('forest-scenes', '2.0.0-beta.1', '2026-09-15T00:00:00Z'), // a beta beside the release
    v('forest-scenes', '1.1.0', '2027-03-01T00:00:00Z'), // scheduled for later
    v('ocean-creatures', '1.9.0', '2026-09-01T00:00:00Z'),
    v('ocean-creatures', '1.10.0', '2026-09-02T00:00:00Z'), // semver order, not text order
    v('beta-only', '0.9.0-rc.1', '2026-09-01T00:00:00Z'),
    v('later', '1.0.0', '2026-12-24T00:00:00Z'),
  ];

  it('picks the highest version published by the day that is not a pre-release', () => {
    const { live } = liveOn(versions, '2026-10-01', id);
    expect(names(live)).toEqual(['forest-scenes@1.0.0', 'ocean-creatures@1.10.0']);
  });

  it('a scheduled version becomes live on its day, not before', () => {
    expect(names(liveOn(versions, '2027-02-28', id).live)).toContain('forest-scenes@1.0.0');
    expect(names(liveOn(versions, '2027-03-01', id).live)).toContain('forest-scenes@1.1.0');
  });

  it('lists slugs with no live version apart, with why, naming their highest version', () => {
    const { notLive } = liveOn(versions, '2026-10-01', id);
    expect(notLive.map(({ slug, version, reason }) => ({ slug, version, reason }))).toEqual([
      { slug: 'beta-only', version: '0.9.0-rc.1', reason: 'pre-release' },
      { slug: 'later', version: '1.0.0', reason: 'not-yet-published' },
    ]);
    expect(notLive[1]!.entry).toBe(versions[6]);
  });

  it('returns the entries given (any shape, through the key function), sorted by slug in code-point order', () => {
    const rows = [
      { name: 'Zed', k: v('zed', '1.0.0', '2026-01-01T00:00:00Z') },
      { name: 'Éclair', k: v('éclair', '1.0.0', '2026-01-01T00:00:00Z') },
      { name: 'Apple', k: v('apple', '1.0.0', '2026-01-01T00:00:00Z') },
    ];
    expect(liveOn(rows, '2026-01-01', (r) => r.k).live.map((r) => r.name)).toEqual(['Apple', 'Zed', 'Éclair']);
  });

  it('highestPerSlug ignores publication: the registered maximum (for names only)', () => {
    expect(names(highestPerSlug(versions, id))).toEqual(['beta-only@0.9.0-rc.1', 'forest-scenes@2.0.0-beta.1', 'later@1.0.0', 'ocean-creatures@1.10.0']);
  });
});
