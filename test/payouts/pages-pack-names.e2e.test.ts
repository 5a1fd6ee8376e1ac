// A month's statements name each pack as the catalog showed it on the month's last day (its
// live version then, §10): never by a version scheduled after the month or by a pre-release,
// and the same whenever the pages are made.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { ledgerAt, rawQuery } from '../helpers/ledgers.js';
import { STORY, addToLedger, writeLedger } from './ledger-fixture.js';

let tmp: ReturnType<typeof tempDir>;
let db: string;

const NAMES: Array<[slug: string, version: string, name: string]> = [
  ['forest-scenes', '1.0.0', 'Forest Scenes'],
  ['forest-scenes', '1.1.0', 'Forest Scenes Deluxe'], // live from 5 October
  ['forest-scenes', '2.0.0', 'Forest Scenes Next'], // scheduled for February 2027
  ['counting-garden', '1.0.0', 'Counting Garden'],
  ['counting-garden', '2.0.0-beta.1', 'Counting Garden Beta'], // a pre-release, published in October
];

beforeAll(async () => {
  tmp = tempDir('packops-pages-pack-names-');
  db = await ledgerAt(tmp.dir, 'ledger.db');
  const ledger = await writeLedger(db, STORY);
  await addToLedger(ledger, {
    packs: [
      { slug: 'forest-scenes', owner: 'ana-lima', price: 399, publishedAt: '2026-10-05T09:00:00Z', version: '1.1.0' },
      { slug: 'forest-scenes', owner: 'ana-lima', price: 399, publishedAt: '2027-02-01T00:00:00Z', version: '2.0.0' },
      { slug: 'counting-garden', owner: 'bo-chen', price: 299, publishedAt: '2026-10-03T09:00:00Z', version: '2.0.0-beta.1' },
    ],
  });
  await ledger.close();
  for (const [slug, version, name] of NAMES) await rawQuery(db, 'UPDATE packs SET name = ? WHERE slug = ? AND version = ?', [name, slug, version]);
}, 60_000);
afterAll(() => tmp.cleanup());

async function pages(period: string, out: string): Promise<{ names: Map<string, string>; html: string }> {
  const r = await runCli(['payouts', 'report', '--period', period, '--format', 'html', '--out', out, '--db', db, '--json'], { cwd: tmp.dir });
  expect(r.code, r.stderr).toBe(0);
  const doc = r.json() as { packNames: Array<{ slug: string; name: string }>; files: string[] };
  const html = doc.files.filter((f) => f.endsWith('.html')).map((f) => readFileSync(join(tmp.dir, out, period, f.split('/').pop()!), 'utf8')).join('\n');
  return { names: new Map(doc.packNames.map((p) => [p.slug, p.name])), html };
}

describe('pack names on statements', () => {
  it('names a pack by its version live on the month’s last day', async () => {
    const oct = await pages('2026-10', 'oct');
    expect(oct.names.get('forest-scenes')).toBe('Forest Scenes Deluxe');
    expect(oct.names.get('counting-garden')).toBe('Counting Garden');
    expect(oct.html).toContain('Forest Scenes Deluxe');
    expect(oct.html).toContain('Counting Garden');
    for (const later of ['Forest Scenes Next', 'Counting Garden Beta']) expect(oct.html).not.toContain(later);

    // September: 1.1.0 was not out yet.
    const sep = await pages('2026-09', 'sep');
    expect(sep.names.get('forest-scenes')).toBe('Forest Scenes');
    expect(sep.html).not.toContain('Forest Scenes Deluxe');
  }, 120_000);
});
