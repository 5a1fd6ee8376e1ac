/**
 * Plain typed inputs for the feed, page and report unit tests: manifests as the ledger
 * stores them (each asset carrying its variants), without files or a database.
 */
import { createHash } from 'node:crypto';
import type { PackManifest } from '../../src/manifest/types.js';
import type { RegisteredPack } from '../../src/catalog/feed.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

// A real ThumbHash (base64) of a small blue image, so the page can render a placeholder.
export const PLACEHOLDER = 'moMBBwAIT7mGeHiIh4h3eHh4egiI8HcH';

export function manifest(over: Partial<PackManifest> & { slug: string }): PackManifest {
  const assetIds = ['one', 'two'];
  return {
    schemaVersion: 1,
    version: '1.0.0',
    name: `Pack ${over.slug}`,
    category: 'characters',
    ageRange: { min: 3, max: 8 },
    creator: 'ana-lima',
    price: { amountMinor: 499, currency: 'USD' },
    cover: 'one',
    assets: assetIds.map((id) => ({
      id,
      file: `assets/${id}.png`,
      type: 'character' as const,
      altText: `The ${id} of ${over.slug}`,
      variants: [
        { path: `assets/${id}/512.webp`, name: '512', format: 'webp' as const, width: 512, height: 512, bytes: 2000, sha256: sha(`${over.slug}/${id}/512`), placeholder: PLACEHOLDER },
        { path: `assets/${id}/256.webp`, name: '256', format: 'webp' as const, width: 256, height: 256, bytes: 900, sha256: sha(`${over.slug}/${id}/256`), placeholder: PLACEHOLDER },
        { path: `assets/${id}/96.png`, name: '96', format: 'png' as const, width: 96, height: 96, bytes: 400, sha256: sha(`${over.slug}/${id}/96`), placeholder: PLACEHOLDER },
      ],
    })),
    ...over,
  };
}

export function registered(m: PackManifest, publishedAt = '2026-10-01T00:00:00.000Z'): RegisteredPack {
  return { manifest: m, sha256: sha(`${m.slug}@${m.version}`), bytes: 12345, publishedAt };
}
