// Archive build: ~300 MB of already-optimised (incompressible) variants. packops' archive
// core (SHA-256 of every file, CRC-32, zip, INTEGRITY.json and both minisign signatures)
// against `zip -r -q` on the same files, and against `sha256sum` of all files, the
// near-physical floor. Targets: faster than zip -r; ≤ 1.5× sha256sum; peak < 200 MiB.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, report, ROOT, run, WORK } from './lib.js';

const DIR = join(WORK, 'archive');
const OUT = join(DIR, 'out');
const LOCK = join(DIR, 'variants.json');
const FILES = 600;
const FILE_BYTES = 512 * 1024; // 600 × 512 KiB = 300 MiB

interface Variant {
  path: string;
  bytes: number;
  sha256: string;
}

/** Generates the variants once (random bytes: WebP-named, incompressible) and their lock. */
function prepare(): Variant[] {
  if (existsSync(LOCK)) return JSON.parse(readFileSync(LOCK, 'utf8')) as Variant[];
  rmSync(DIR, { recursive: true, force: true });
  const variants: Variant[] = [];
  for (let i = 0; i < FILES; i++) {
    const id = `asset-${String(Math.floor(i / 3)).padStart(3, '0')}`;
    const path = `assets/${id}/${['512.webp', '256.webp', '96.png'][i % 3]}`;
    const data = randomBytes(FILE_BYTES - (i % 7) * 1000);
    mkdirSync(join(OUT, 'assets', id), { recursive: true });
    writeFileSync(join(OUT, path), data);
    variants.push({ path, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  }
  writeFileSync(LOCK, JSON.stringify(variants));
  return variants;
}

/** The packops side: a fresh process importing the built archive core (as `build` runs it). */
function packopsScript(zipPath: string): string {
  const build = pathToFileURL(join(ROOT, 'dist', 'archive', 'build.js')).href;
  const minisign = pathToFileURL(join(ROOT, 'dist', 'signing', 'minisign.js')).href;
  return `
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
const { writePackArchive } = await import(${JSON.stringify(build)});
const { generateSecretKey } = await import(${JSON.stringify(minisign)});
const variants = JSON.parse(readFileSync(${JSON.stringify(LOCK)}, 'utf8'));
const zipPath = ${JSON.stringify(zipPath)};
rmSync(zipPath, { force: true });
const manifest = { schemaVersion: 1, slug: 'bench-pack', version: '1.0.0', assets: variants.map((v) => ({ id: v.path.split('/')[1], variants: [v] })) };
await writePackArchive({
  zipPath,
  slug: 'bench-pack',
  version: '1.0.0',
  packJson: Buffer.from(JSON.stringify(manifest)),
  variants: variants.map((v) => ({ path: v.path, file: join(${JSON.stringify(OUT)}, v.path), bytes: v.bytes, sha256: v.sha256 })),
  secretKey: generateSecretKey(),
});
`;
}

export default function archive(): void {
  const variants = prepare();
  const totalMiB = variants.reduce((s, v) => s + v.bytes, 0) / 1048576;
  const paths = variants.map((v) => v.path);
  const ourZip = join(DIR, 'packops.zip');
  const theirZip = join(DIR, 'zip-r.zip');
  const n = 3;
  // Warm the page cache so every contender reads from memory.
  run('warm-up', 'sha256sum', paths, { cwd: OUT });
  const ours = median('packops (hash + sign + zip)', n, () =>
    run('packops (hash + sign + zip)', process.execPath, ['--input-type=module', '-e', packopsScript(ourZip)]),
  );
  const zip = median('zip -r -q', n, () => {
    rmSync(theirZip, { force: true });
    return run('zip -r -q', 'zip', ['-r', '-q', theirZip, 'assets'], { cwd: OUT });
  });
  const sha = median('sha256sum (all files)', n, () => run('sha256sum (all files)', 'sha256sum', paths, { cwd: OUT }));
  // The inputs stay for the next run; the two 300 MB outputs do not.
  rmSync(ourZip, { force: true });
  rmSync(theirZip, { force: true });
  const mbps = (ms: number) => `${(totalMiB / (ms / 1000)).toFixed(0)} MiB/s`;
  const peakOk = ours.peakMiB === undefined || ours.peakMiB < 200;
  report({
    name: `archive build, ${totalMiB.toFixed(0)} MiB in ${variants.length} variants: packops vs zip -r`,
    ours,
    theirs: zip,
    target: '< 1× (faster than zip -r)',
    met: ours.ms < zip.ms,
    extra: `packops ${mbps(ours.ms)}, zip -r ${mbps(zip.ms)}`,
  });
  report({
    name: 'archive build: packops vs sha256sum of the same files (the floor)',
    ours,
    theirs: sha,
    target: '≤ 1.5×, peak < 200 MiB',
    met: ours.ms / sha.ms <= 1.5 && peakOk,
    extra: `sha256sum ${mbps(sha.ms)}; packops peak ${ours.peakMiB?.toFixed(0) ?? '?'} MiB (${peakOk ? 'under' : 'OVER'} 200)`,
  });
}
