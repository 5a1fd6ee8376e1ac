/**
 * Builds a small catalog site on disk from plain inputs (real WebP/PNG images made with
 * sharp, laid out where the feed's URLs point), for the page and browser tests that must
 * not depend on the ledger.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import { buildFeed, serialiseFeed, type RegisteredBundle, type RegisteredPack } from '../../src/catalog/feed.js';
import { renderCatalogPage } from '../../src/catalog/html.js';
import type { PackManifest } from '../../src/manifest/types.js';

const COLOURS = [
  { r: 30, g: 110, b: 200 },
  { r: 40, g: 150, b: 70 },
  { r: 220, g: 120, b: 30 },
  { r: 160, g: 60, b: 180 },
];

async function variant(colour: { r: number; g: number; b: number }, size: number, format: 'webp' | 'png') {
  const img = sharp({ create: { width: size, height: size, channels: 4, background: { ...colour, alpha: 1 } } });
  const data = await (format === 'webp' ? img.webp() : img.png()).toBuffer();
  const small = await sharp(data).resize(32, 32).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    data,
    sha256: createHash('sha256').update(data).digest('hex'),
    placeholder: Buffer.from(rgbaToThumbHash(small.info.width, small.info.height, small.data)).toString('base64'),
  };
}

export interface SitePack {
  slug: string;
  name: string;
  category: PackManifest['category'];
  ageRange: { min: number; max: number };
  altText?: string;
}

export async function writeSite(dir: string, packs: SitePack[], bundles: RegisteredBundle[] = []): Promise<{ html: string }> {
  const registeredPacks: RegisteredPack[] = [];
  for (const [i, p] of packs.entries()) {
    const files: Array<{ path: string; data: Buffer }> = [];
    const variants = [];
    for (const [name, size, format] of [['256', 256, 'webp'], ['96', 96, 'png']] as const) {
      const v = await variant(COLOURS[i % COLOURS.length]!, size, format);
      const path = `assets/cover/${name}.${format}`;
      files.push({ path, data: v.data });
      variants.push({ path, name, format, width: size, height: size, bytes: v.data.length, sha256: v.sha256, placeholder: v.placeholder });
    }
    for (const f of files) {
      const target = join(dir, 'packs', p.slug, '1.0.0', f.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, f.data);
    }
    registeredPacks.push({
      manifest: {
        schemaVersion: 1,
        slug: p.slug,
        version: '1.0.0',
        name: p.name,
        category: p.category,
        ageRange: p.ageRange,
        creator: 'ana-lima',
        price: { amountMinor: 299 + 100 * i, currency: 'USD' },
        cover: 'cover',
        assets: [{ id: 'cover', file: 'assets/cover.png', type: 'character', altText: p.altText ?? `Cover of ${p.name}`, variants }],
      },
      sha256: 'a'.repeat(64),
      bytes: 1000,
      publishedAt: '2026-10-01T00:00:00.000Z',
    });
  }
  const { feed } = buildFeed({ packs: registeredPacks, bundles, now: new Date('2026-11-26T00:00:00Z') });
  const html = renderCatalogPage(feed);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.html'), html);
  writeFileSync(join(dir, 'catalog.json'), serialiseFeed(feed));
  return { html };
}
