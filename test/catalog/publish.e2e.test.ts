/**
 * catalog publish, diff and report through the built CLI, on fixture packs released into
 * a real SQLite ledger: the feed is checked by a separately compiled Ajv 2020 validator,
 * published twice for byte-identity, filtered by availability, and every file it points
 * to is checked on disk against its hash. The page is opened in headless Chromium.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../src/ledger/db.js';
import { registerPack } from '../../src/ledger/catalog.js';
import { FIXTURES, ROOT } from '../helpers/cli.js';
import { cardStates, loadAllImages, openFilePage } from './browser.js';
import { epochOf, workspace, type Workspace } from './workspace.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validateFeed = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schemas', 'catalog.schema.json'), 'utf8')) as object);

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const NOV = epochOf('2026-11-26');
const OCT = epochOf('2026-10-15');

let ws: Workspace;

beforeAll(async () => {
  ws = await workspace(['ocean-creatures', 'forest-scenes', 'counting-garden', 'winter-wonders']);
  const r = await ws.run(['release', ...ws.packs, '--key', 'keys/packops.key', '--published-at', '2026-09-01T00:00:00Z']);
  if (r.code !== 0) throw new Error(`release failed\n${r.stderr}`);
  for (const args of [
    ['bundles', 'create', 'starter-bundle', '--name', 'Starter Bundle', '--packs', 'ocean-creatures,forest-scenes,counting-garden', '--discount', '0.25', '--charm'],
    ['bundles', 'seasonal', 'winter', '--discount', '0.25', '--today', '2026-11-26'],
  ]) {
    const b = await ws.run(args);
    if (b.code !== 0) throw new Error(`${args.join(' ')} failed\n${b.stderr}`);
  }
}, 180_000);

afterAll(() => ws?.cleanup());

describe('catalog publish', () => {
  it('writes a schema-valid feed with every file it points to, hashes matching', async () => {
    const r = await ws.run(['catalog', 'publish', '--out', 'site', '--json'], { SOURCE_DATE_EPOCH: NOV });
    expect(r.code, r.stderr).toBe(0);
    const summary = r.json();
    expect(summary).toMatchObject({ ok: true, publishDate: '2026-11-26', generatedAt: '2026-11-26T00:00:00Z', excluded: [] });
    expect(summary.packs.map((p: { slug: string }) => p.slug)).toEqual(['counting-garden', 'forest-scenes', 'ocean-creatures', 'winter-wonders']);
    expect(summary.bundles).toEqual(['starter-bundle', 'winter-collection']);

    const site = join(ws.dir, 'site');
    const feed = JSON.parse(readFileSync(join(site, 'catalog.json'), 'utf8'));
    expect(validateFeed(feed), JSON.stringify(validateFeed.errors, null, 2)).toBe(true);
    expect(summary.sha256).toBe(sha256(join(site, 'catalog.json')));
    // A second, separate validator: ajv-cli as a person would run it on a feed.
    const cli = spawnSync(
      join(ROOT, 'node_modules', '.bin', 'ajv'),
      ['validate', '--spec=draft2020', '-c', 'ajv-formats', '-s', join(ROOT, 'schemas', 'catalog.schema.json'), '-d', join(site, 'catalog.json')],
      { encoding: 'utf8' },
    );
    expect(cli.status, cli.stderr + cli.stdout).toBe(0);

    const ocean = feed.packs.find((p: { slug: string }) => p.slug === 'ocean-creatures');
    expect(ocean).toMatchObject({
      version: '1.0.0',
      creator: 'ocean-team',
      price: { amountMinor: 499, currency: 'USD' },
      markets: { GB: { amountMinor: 449, currency: 'GBP' }, JP: { amountMinor: 750, currency: 'JPY' } },
      availability: { from: '2026-06-01', until: null },
      storeProductIds: { appstore: 'com.wondernest.pack.ocean', googleplay: 'pack_ocean' },
      cover: 'whale',
      publishedAt: '2026-09-01T00:00:00.000Z',
    });
    expect(feed.bundles[0]).toMatchObject({
      slug: 'starter-bundle',
      packs: ['ocean-creatures', 'forest-scenes', 'counting-garden'],
      price: { amountMinor: 799, currency: 'USD' },
      individualTotal: { amountMinor: 1197, currency: 'USD' },
      savings: { amountMinor: 398, currency: 'USD' },
      savingsPercent: '33.2',
    });

    let files = 0;
    for (const pack of feed.packs) {
      const zip = join(site, pack.archive.url);
      expect(sha256(zip)).toBe(pack.archive.sha256);
      expect(statSync(zip).size).toBe(pack.archive.bytes);
      // The archive is the very one released into dist/.
      expect(sha256(join(ws.dir, 'dist', `${pack.slug}-${pack.version}.zip`))).toBe(pack.archive.sha256);
      expect(existsSync(join(site, pack.archive.signatureUrl))).toBe(true);
      for (const asset of pack.assets) {
        expect(asset.altText).toBeTruthy();
        for (const v of asset.variants) {
          expect(sha256(join(site, v.url)), v.url).toBe(v.sha256);
          expect(statSync(join(site, v.url)).size).toBe(v.bytes);
          files++;
        }
      }
    }
    expect(files).toBeGreaterThan(40);
  });

  it('copies signatures the standard minisign tool verifies', () => {
    const zip = join(ws.dir, 'site', 'packs', 'ocean-creatures', 'ocean-creatures-1.0.0.zip');
    const r = spawnSync('minisign', ['-V', '-p', join(ws.dir, 'keys', 'packops.pub'), '-m', zip], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('slug=ocean-creatures version=1.0.0');
  });

  it('gives a byte-identical catalog.json (and page) for the same ledger and SOURCE_DATE_EPOCH', async () => {
    const r = await ws.run(['catalog', 'publish', '--out', 'site-again'], { SOURCE_DATE_EPOCH: NOV });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(ws.dir, 'site-again', 'catalog.json'))).toEqual(readFileSync(join(ws.dir, 'site', 'catalog.json')));
    expect(readFileSync(join(ws.dir, 'site-again', 'index.html'))).toEqual(readFileSync(join(ws.dir, 'site', 'index.html')));
  });

  it('leaves out packs outside their availability window, and the bundles that need them, and says so', async () => {
    const r = await ws.run(['catalog', 'publish', '--out', 'site-oct', '--json'], { SOURCE_DATE_EPOCH: OCT });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().excluded).toEqual([
      { kind: 'pack', slug: 'winter-wonders', version: '1.0.0', reason: 'not-yet-available', availability: { from: '2026-11-01', until: '2027-02-28' } },
      { kind: 'bundle', slug: 'winter-collection', reason: 'not-yet-available', availability: { from: '2026-11-26', until: '2027-01-25' } },
    ]);
    expect(r.stderr).toContain('left out pack winter-wonders 1.0.0: it is not available yet on 2026-10-15');
    const feed = JSON.parse(readFileSync(join(ws.dir, 'site-oct', 'catalog.json'), 'utf8'));
    expect(feed.packs.map((p: { slug: string }) => p.slug)).not.toContain('winter-wonders');
    expect(existsSync(join(ws.dir, 'site-oct', 'packs', 'winter-wonders'))).toBe(false);

    const later = await ws.run(['catalog', 'publish', '--out', 'site-mar', '--json'], { SOURCE_DATE_EPOCH: epochOf('2027-03-01') });
    expect(later.json().excluded.map((e: { slug: string; reason: string }) => `${e.slug}:${e.reason}`)).toEqual([
      'winter-wonders:expired',
      'winter-collection:expired',
    ]);
  });

  it('resolves URLs against --base-url and keeps the site browsable from disk', async () => {
    const r = await ws.run(['catalog', 'publish', '--out', 'site-cdn', '--base-url', 'https://cdn.example.com/packs', '--market', 'GB'], { SOURCE_DATE_EPOCH: NOV });
    expect(r.code, r.stderr).toBe(0);
    const feed = JSON.parse(readFileSync(join(ws.dir, 'site-cdn', 'catalog.json'), 'utf8'));
    expect(validateFeed(feed), JSON.stringify(validateFeed.errors)).toBe(true);
    expect(feed.baseUrl).toBe('https://cdn.example.com/packs/');
    expect(feed.packs[0].archive.url).toMatch(/^https:\/\/cdn\.example\.com\/packs\/packs\/counting-garden\/counting-garden-1\.0\.0\.zip$/);
    expect(feed.market).toBe('GB');
    expect(feed.packs.find((p: { slug: string }) => p.slug === 'ocean-creatures').markets).toEqual({ GB: { amountMinor: 449, currency: 'GBP' } });
    const html = readFileSync(join(ws.dir, 'site-cdn', 'index.html'), 'utf8');
    expect(html).toContain('src="packs/ocean-creatures/1.0.0/assets/whale/256.webp"');
    expect(html).toContain('4.49 GBP');
  });

  it('refuses bad flags and a folder that is not a catalog site, leaving it untouched', async () => {
    const bad = await ws.run(['catalog', 'publish', '--out', 'x', '--market', 'gb', '--json']);
    expect(bad.code).toBe(3);
    expect(bad.json().error.code).toBe('MARKET_INVALID');
    const url = await ws.run(['catalog', 'publish', '--out', 'x', '--base-url', 'ftp://example.com/', '--json']);
    expect(url.code).toBe(3);
    expect(url.json().error.code).toBe('BASE_URL_INVALID');

    mkdirSync(join(ws.dir, 'precious'));
    writeFileSync(join(ws.dir, 'precious', 'notes.txt'), 'keep me');
    const r = await ws.run(['catalog', 'publish', '--out', 'precious', '--json']);
    expect(r.code).toBe(4);
    expect(r.json().error.code).toBe('OUTPUT_NOT_EMPTY');
    expect(readFileSync(join(ws.dir, 'precious', 'notes.txt'), 'utf8')).toBe('keep me');

    const none = await ws.run(['catalog', 'publish', '--out', 'x', '--json'], { PACKOPS_DB: join(ws.dir, 'nowhere.db') });
    expect(none.code).toBe(3);
    expect(none.json().error.code).toBe('PATH_NOT_FOUND');
    expect(existsSync(join(ws.dir, 'nowhere.db'))).toBe(false);
  });

  it('refuses an archive changed after registration and keeps the previous site whole', async () => {
    const zip = join(ws.dir, 'dist', 'forest-scenes-1.0.0.zip');
    const original = readFileSync(zip);
    const before = readFileSync(join(ws.dir, 'site', 'catalog.json'));
    const tampered = Buffer.from(original);
    const at = tampered.length - 30;
    tampered[at] = tampered[at]! ^ 0xff;
    writeFileSync(zip, tampered);
    try {
      const r = await ws.run(['catalog', 'publish', '--out', 'site', '--json'], { SOURCE_DATE_EPOCH: epochOf('2026-11-27') });
      expect(r.code).toBe(3);
      expect(r.json().error).toMatchObject({ code: 'ARCHIVE_CHANGED', details: { slug: 'forest-scenes', version: '1.0.0' } });
      expect(readFileSync(join(ws.dir, 'site', 'catalog.json'))).toEqual(before);
      expect(sha256(join(ws.dir, 'site', 'packs', 'forest-scenes', 'forest-scenes-1.0.0.zip'))).toBe(createHash('sha256').update(original).digest('hex'));
    } finally {
      writeFileSync(zip, original);
    }
  });
  it('checks every extracted variant against the pack.json the ledger holds', async () => {
    // A ledger whose stored pack.json lists a variant the (untouched, signed) archive lacks.
    const db = join(ws.dir, 'lying.db');
    const imp = await ws.run(['creators', 'import', join(FIXTURES, 'ledger', 'creators.json')], { PACKOPS_DB: db });
    expect(imp.code, imp.stderr).toBe(0);
    const real = JSON.parse(readFileSync(join(ws.dir, 'site', 'catalog.json'), 'utf8')).packs.find((p: { slug: string }) => p.slug === 'forest-scenes');
    const ledger = await openLedger(db);
    try {
      const main = await openLedger(ws.db);
      const row = await main.db.selectFrom('packs').selectAll().where('slug', '=', 'forest-scenes').executeTakeFirstOrThrow();
      await main.close();
      const manifest = JSON.parse(row.manifest);
      const first = manifest.assets[0].variants[0];
      manifest.assets[0].variants.push({ ...first, name: 'ghost', path: `assets/${manifest.assets[0].id}/ghost.webp` });
      await registerPack(ledger, { manifest, sha256: real.archive.sha256, bytes: real.archive.bytes, archivePath: row.archive_path, publishedAt: '2026-09-01T00:00:00Z', signingKey: row.signing_key! });
    } finally {
      await ledger.close();
    }
    const r = await ws.run(['catalog', 'publish', '--out', 'site-lying', '--json'], { PACKOPS_DB: db, SOURCE_DATE_EPOCH: NOV });
    expect(r.code).toBe(3);
    expect(r.json().error).toMatchObject({ code: 'ARCHIVE_CHANGED', details: { slug: 'forest-scenes', missing: [expect.stringContaining('ghost.webp')] } });
    expect(existsSync(join(ws.dir, 'site-lying'))).toBe(false);
    expect(readdirSync(ws.dir).filter((n) => n.endsWith('.staging') || n.endsWith('.old'))).toEqual([]);
  });
});

describe('catalog diff', () => {
  it('lists what changed between two published feeds, in every format', async () => {
    const json = await ws.run(['catalog', 'diff', 'site-oct/catalog.json', 'site/catalog.json', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const d = json.json();
    expect(d.changed).toBe(true);
    expect(d.packs.added).toEqual([{ slug: 'winter-wonders', version: '1.0.0', name: 'Winter Wonders', price: { amountMinor: 199, currency: 'USD' } }]);
    expect(d.bundles.added.map((b: { slug: string }) => b.slug)).toEqual(['winter-collection']);
    expect(d.packs.removed).toEqual([]);

    const gb = await ws.run(['catalog', 'diff', 'site/catalog.json', 'site-cdn/catalog.json', '--format', 'md']);
    expect(gb.code).toBe(0);
    expect(gb.stdout).toContain('### Packs re-priced');
    expect(gb.stdout).toContain('| `ocean-creatures` | JP | 750 JPY | — |');

    const table = await ws.run(['catalog', 'diff', 'site/catalog.json', 'site-again/catalog.json']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('No changes.');
  });

  it('exits 3 when an input is missing, not JSON or not a catalog', async () => {
    writeFileSync(join(ws.dir, 'broken.json'), '{"packs": [');
    writeFileSync(join(ws.dir, 'other.json'), '{"items": []}');
    for (const [file, code] of [['missing.json', 'PATH_NOT_FOUND'], ['broken.json', 'CATALOG_UNREADABLE'], ['other.json', 'CATALOG_INVALID']]) {
      const r = await ws.run(['catalog', 'diff', 'site/catalog.json', file!, '--json']);
      expect(r.code, file).toBe(3);
      expect(r.json().error.code).toBe(code);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('catalog report', () => {
  it('reports the library against the launch plan with ratings from imported reviews', async () => {
    const imp = await ws.run(['ledger', 'import', 'reviews', join(FIXTURES, 'ledger', 'reviews.csv')]);
    expect(imp.code, imp.stderr).toBe(0);
    const r = await ws.run(['catalog', 'report', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = r.json();
    expect(report.totals).toMatchObject({ packs: 4, planned: 25 });
    expect(report.categories.map((c: { category: string; packs: number; planned: number }) => [c.category, c.packs, c.planned])).toEqual([
      ['characters', 1, 8],
      ['environments', 1, 6],
      ['educational', 1, 5],
      ['creative_tools', 0, 4],
      ['seasonal', 1, 2],
    ]);
    const reviews = readFileSync(join(FIXTURES, 'ledger', 'reviews.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    for (const pack of report.packs) {
      const mine = reviews.filter((row) => row[1] === pack.slug).map((row) => Number(row[2]));
      expect(pack.reviews, pack.slug).toBe(mine.length);
      if (mine.length > 0) {
        const sum = mine.reduce((a, b) => a + b, 0);
        expect(pack.flagged, pack.slug).toBe(sum < 4 * mine.length);
        expect(Number(pack.averageRating)).toBeCloseTo(sum / mine.length, 2);
      }
    }
    const md = await ws.run(['catalog', 'report', '--format', 'md']);
    expect(md.stdout).toContain('| creative_tools | 0 | 4 | 4 short |');
    // The same report as one self-contained page on the page kit.
    const html = await ws.run(['catalog', 'report', '--format', 'html']);
    expect(html.code, html.stderr).toBe(0);
    expect(html.stdout).toMatch(/^<!doctype html>/);
    expect(html.stdout).toMatch(/<th scope="row">Creative tools<\/th><td class="num">0<\/td><td class="num">4<\/td><td><span class="flag">4 short<\/span><\/td>/);
    for (const pack of report.packs) expect(html.stdout).toContain(`<span class="note">${pack.slug}</span>`);
    expect(html.stdout).toContain('$4.99');
    expect(html.stdout).not.toMatch(/<script|(src|href)=/);
  });
});

describe('the published page in headless Chromium', () => {
  it('shows every released pack with its cover loaded, and the filters work', async () => {
    const opened = await openFilePage(join(ws.dir, 'site', 'index.html'));
    try {
      await loadAllImages(opened.page);
      const cards = await cardStates(opened.page);
      expect(cards.map((c) => c.slug)).toEqual(['counting-garden', 'forest-scenes', 'ocean-creatures', 'winter-wonders']);
      for (const c of cards) expect(c, c.slug).toMatchObject({ visible: true, imageLoaded: true });
      expect(await opened.page.locator('li.bundle').count()).toBe(2);
      if (process.env.UPDATE_SCREENSHOT === '1') {
        await opened.page.screenshot({ path: join(ROOT, 'fixtures', 'catalog-screenshot.png'), fullPage: true });
      }
      await opened.page.selectOption('#filter-category', 'seasonal');
      expect((await cardStates(opened.page)).filter((c) => c.visible).map((c) => c.slug)).toEqual(['winter-wonders']);
      for (const url of opened.requests) expect(url).toMatch(/^(file:|data:)/);
      expect(opened.consoleErrors).toEqual([]);
    } finally {
      await opened.close();
    }
  });
});
