// Catalog publish: a ledger of 200 registered packs (6 assets × 3 variants each, real
// signed archives, ~30 MB) published into a fresh site — archives and signatures copied
// and hash-checked, 3,600 variants extracted and hash-checked, the feed schema-checked,
// catalog.json and index.html written — against the raw file work with established tools
// (`cp` of each archive and signature, `unzip` of its variants into the same layout).
// Target: ≤ 2× the cp + unzip script; peak < 200 MiB.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, PACKOPS, report, run, WORK } from './lib.js';

const DIR = join(WORK, 'catalog');
const DB = join(DIR, 'ledger.db');
const DIST = join(DIR, 'dist');
const PACKS = 200;
const ASSETS = 6;
const PLACEHOLDER = 'moMBBwAIT7mGeHiIh4h3eHh4egiI8HcH';
const VARIANTS = [
  ['512', 'webp', 512, 14_000],
  ['256', 'webp', 256, 6_000],
  ['96', 'png', 96, 3_000],
] as const;

async function prepare(): Promise<void> {
  if (existsSync(join(DIR, 'ready'))) return;
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIST, { recursive: true });
  const { writePackArchive, archiveManifest } = await import('../src/archive/build.js');
  const { stableJson } = await import('../src/archive/integrity.js');
  const { generateSecretKey } = await import('../src/signing/minisign.js');
  const { openLedger } = await import('../src/ledger/db.js');
  const { registerPacks } = await import('../src/ledger/catalog.js');
  const key = generateSecretKey();
  const ledger = await openLedger(DB);
  const now = new Date().toISOString();
  await ledger.db.insertInto('creators').values({ id: 'bench-creator', name: 'Bench', payout_ref: null, created_at: now, updated_at: now }).execute();
  const inputs = [];
  for (let p = 0; p < PACKS; p++) {
    const slug = `bench-pack-${String(p).padStart(3, '0')}`;
    const src = join(DIR, 'src', slug);
    const lockAssets = [];
    const variants: Array<{ path: string; file: string; bytes: number; sha256: string }> = [];
    for (let a = 0; a < ASSETS; a++) {
      const id = `asset-${a}`;
      mkdirSync(join(src, 'assets', id), { recursive: true });
      const vs = VARIANTS.map(([name, format, size, bytes]) => {
        const data = randomBytes(bytes);
        const path = `assets/${id}/${name}.${format}`;
        writeFileSync(join(src, path), data);
        const v = { path, name, format, width: size, height: size, bytes, sha256: createHash('sha256').update(data).digest('hex'), placeholder: PLACEHOLDER };
        variants.push({ path, file: join(src, path), bytes, sha256: v.sha256 });
        return v;
      });
      lockAssets.push({ id, source: `assets/${id}.png`, sourceSha256: '0'.repeat(64), variants: vs });
    }
    const source = {
      schemaVersion: 1 as const,
      slug,
      version: '1.0.0',
      name: `Bench pack ${p}`,
      category: (['characters', 'environments', 'educational', 'creative_tools', 'seasonal'] as const)[p % 5]!,
      ageRange: { min: 3, max: 8 },
      creator: 'bench-creator',
      price: { amountMinor: 199 + (p % 5) * 100, currency: 'USD' },
      markets: { GB: { amountMinor: 149 + (p % 5) * 100, currency: 'GBP' } },
      cover: 'asset-0',
      assets: lockAssets.map((l) => ({ id: l.id, file: l.source, type: 'character' as const, altText: `Asset ${l.id}` })),
    };
    const { manifest } = archiveManifest(source, { version: 1, assets: lockAssets });
    const zipPath = join(DIST, `${slug}-1.0.0.zip`);
    const written = await writePackArchive({ zipPath, slug, version: '1.0.0', packJson: Buffer.from(stableJson(manifest)), variants, secretKey: key });
    inputs.push({ manifest, sha256: written.sha256, bytes: written.bytes, archivePath: zipPath, publishedAt: '2026-09-01T00:00:00Z' });
  }
  await registerPacks(ledger, inputs);
  await ledger.close();
  writeFileSync(
    join(DIR, 'baseline.sh'),
    `set -e\nrm -rf "$1"\nfor z in ${DIST}/*.zip; do\n  s=$(basename "$z" -1.0.0.zip)\n  mkdir -p "$1/packs/$s/1.0.0"\n  cp "$z" "$z.minisig" "$1/packs/$s/"\n  unzip -q -o "$z" 'assets/*' -d "$1/packs/$s/1.0.0"\ndone\n`,
  );
  writeFileSync(join(DIR, 'ready'), '');
}

export default async function catalog(): Promise<void> {
  await prepare();
  const site = join(DIR, 'site');
  const env = { SOURCE_DATE_EPOCH: '1795651200' };
  const publish = () => {
    rmSync(site, { recursive: true, force: true });
    return run('packops catalog publish', process.execPath, [PACKOPS, 'catalog', 'publish', '--out', site, '--db', DB], { env });
  };
  publish(); // warm-up (page cache)
  const ours = median('packops catalog publish', 3, publish);
  const theirs = median('cp + unzip (bash)', 3, () => run('cp + unzip (bash)', 'bash', [join(DIR, 'baseline.sh'), join(DIR, 'site-baseline')]));
  const r = ours.ms / theirs.ms;
  report({
    name: `catalog publish: ${PACKS} packs, ${PACKS * ASSETS * VARIANTS.length} variants`,
    ours,
    theirs,
    target: '≤ 2× cp + unzip, peak < 200 MiB',
    met: r <= 2 && (ours.peakMiB === undefined || ours.peakMiB < 200),
  });
}
