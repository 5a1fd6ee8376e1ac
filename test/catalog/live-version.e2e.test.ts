// The feed holds each slug's latest version published by the publish day, by semver
// precedence (1.10.0 > 1.9.0): a future published_at and a pre-release never replace it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { epochOf, workspace, type Workspace } from './workspace.js';

let ws: Workspace;

async function release(version: string, publishedAt: string): Promise<void> {
  const path = join(ws.dir, 'packs/counting-garden/pack.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8'));
  manifest.version = version;
  writeFileSync(path, JSON.stringify(manifest, null, 2));
  const r = await ws.run(['release', 'packs/counting-garden', '--key', 'keys/packops.key', '--published-at', publishedAt, '--json']);
  expect(r.code, r.stderr).toBe(0);
}

beforeAll(async () => {
  ws = await workspace(['counting-garden', 'forest-scenes']);
  await release('1.9.0', '2026-09-01T09:00:00Z');
  await release('1.10.0', '2026-09-02T09:00:00Z');
  await release('1.11.0-beta.1', '2026-09-03T09:00:00Z');
  await release('2.0.0', '2026-10-02T00:00:00Z'); // scheduled: the day after the publish day
  // A pack whose only version is scheduled for later.
  const r = await ws.run(['release', 'packs/forest-scenes', '--key', 'keys/packops.key', '--published-at', '2027-01-01T00:00:00Z', '--json']);
  expect(r.code, r.stderr).toBe(0);
}, 240_000);
afterAll(() => ws.cleanup());

describe('catalog publish picks the live version', () => {
  it('1.10.0 on 2026-10-01: not the pre-release, not the scheduled 2.0.0; the unpublished pack is left out', async () => {
    const r = await ws.run(['catalog', 'publish', '--out', 'site', '--json'], { SOURCE_DATE_EPOCH: epochOf('2026-10-01') });
    expect(r.code, r.stderr).toBe(0);
    const feed = JSON.parse(readFileSync(join(ws.dir, 'site', 'catalog.json'), 'utf8'));
    expect(feed.packs.map((p: { slug: string; version: string }) => `${p.slug}@${p.version}`)).toEqual(['counting-garden@1.10.0']);
    expect(r.json().excluded).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'pack', slug: 'forest-scenes', reason: 'not-yet-published' })]));
    expect(r.stderr).toMatch(/left out pack forest-scenes 1\.0\.0: no version of it is published by 2026-10-01/);
  }, 120_000);

  it('on the scheduled day, 2.0.0 is live', async () => {
    const r = await ws.run(['catalog', 'publish', '--out', 'site2', '--json'], { SOURCE_DATE_EPOCH: epochOf('2026-10-02') });
    expect(r.code, r.stderr).toBe(0);
    const feed = JSON.parse(readFileSync(join(ws.dir, 'site2', 'catalog.json'), 'utf8'));
    expect(feed.packs.map((p: { slug: string; version: string }) => `${p.slug}@${p.version}`)).toEqual(['counting-garden@2.0.0']);
  }, 120_000);
});

describe('catalog report counts the live version, as the feed does', () => {
  it('on 2026-10-01: 1.10.0 (not the pre-release, not the scheduled 2.0.0); the unpublished pack is listed apart', async () => {
    const r = await ws.run(['catalog', 'report', '--json'], { SOURCE_DATE_EPOCH: epochOf('2026-10-01') });
    expect(r.code, r.stderr).toBe(0);
    const doc = r.json();
    expect(doc.day).toBe('2026-10-01');
    expect(doc.packs.map((p: { slug: string; version: string }) => `${p.slug}@${p.version}`)).toEqual(['counting-garden@1.10.0']);
    expect(doc.totals.packs).toBe(1);
    expect(doc.notLive).toEqual([{ slug: 'forest-scenes', version: '1.0.0', reason: 'not-yet-published' }]);
    expect(r.stderr).toMatch(/forest-scenes 1\.0\.0 is not counted: no version of it is published by 2026-10-01/);
  }, 120_000);

  it('on the scheduled day it counts 2.0.0', async () => {
    const r = await ws.run(['catalog', 'report', '--json'], { SOURCE_DATE_EPOCH: epochOf('2026-10-02') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().packs.map((p: { slug: string; version: string }) => `${p.slug}@${p.version}`)).toEqual(['counting-garden@2.0.0']);
  }, 120_000);
});
