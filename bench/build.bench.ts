// `packops build` with a warm variant cache: the WHOLE CLI (validate, assets from the cache,
// zip, INTEGRITY.json, both signatures) on a generated pack of 1,000 background photos
// (~350 MB of JPEG sources, ~570 MB of WebP variants), against `zip -r -q` of the same
// variant files and `sha256sum` of them, in the same run. Targets (issue 15): faster than
// zip -r, ≤ 1.5× sha256sum, peak RSS < 200 MiB.
//
// BUILD_BENCH_SCALE (default 1) shrinks the pack (0.2: 200 assets) while iterating.
// The sources are 40 distinct generated photos, each named by 25 assets (distinct files,
// identical bytes), so that filling the cache costs 40 encodes rather than 1,000: the cache
// then holds 40 entries, the pack's output folder and the archive hold every asset's
// variants (the same bytes per copy). Inputs, the cache and a key are generated once into
// bench/.work/build and reused.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { median, PACKOPS, report, run, WORK, type Measurement } from './lib.js';

const DIR = join(WORK, 'build');
const BASE = join(DIR, 'base');
const CACHE = join(DIR, 'cache');
const KEYS = join(DIR, 'keys');
const DISTINCT = 40;
const FULL_ASSETS = 1000;
const SCALE = Number(process.env.BUILD_BENCH_SCALE ?? 1);

/** A photo-like 2048×2048 JPEG: smooth grain that WebP keeps (variants bigger than sources, as in the issue). */
async function basePhoto(path: string): Promise<void> {
  const noise = await sharp({ create: { width: 512, height: 512, channels: 3, background: '#6a8', noise: { type: 'gaussian', mean: 128, sigma: 14 } } })
    .png()
    .toBuffer();
  await sharp(noise).resize(2048, 2048, { kernel: 'cubic' }).jpeg({ quality: 55 }).toFile(path);
}

function manifest(slug: string, count: number): string {
  const assets = Array.from({ length: count }, (_, i) => {
    const id = `bg-${String(i + 1).padStart(4, '0')}`;
    return { id, file: `assets/${id}.jpg`, type: 'background', altText: `Benchmark background ${i + 1}` };
  });
  return `${JSON.stringify(
    {
      schemaVersion: 1,
      slug,
      version: '1.0.0',
      name: `Benchmark ${slug}`,
      description: 'Generated photos for the build benchmark (warm variant cache).',
      category: 'environments',
      ageRange: { min: 3, max: 8 },
      creator: 'ana-lima',
      price: { amountMinor: 0, currency: 'USD' },
      assets,
    },
    null,
    2,
  )}\n`;
}

/** The pack (sources copied from the distinct base photos), the key, and a warm cache. */
async function prepare(count: number): Promise<string> {
  mkdirSync(BASE, { recursive: true });
  for (let i = 0; i < DISTINCT; i++) {
    const path = join(BASE, `base-${String(i).padStart(2, '0')}.jpg`);
    if (!existsSync(path)) await basePhoto(path);
  }
  if (!existsSync(join(KEYS, 'packops.key'))) {
    run('keys', process.execPath, [PACKOPS, 'keys', 'generate', '--out', KEYS, '--unencrypted']);
  }
  const pack = join(DIR, `pack-${count}`);
  if (!existsSync(join(pack, 'pack.json'))) {
    console.log(`  generating a ${count}-asset pack into bench/.work/build (once)…`);
    mkdirSync(join(pack, 'assets'), { recursive: true });
    for (let i = 0; i < count; i++) {
      copyFileSync(join(BASE, `base-${String(i % DISTINCT).padStart(2, '0')}.jpg`), join(pack, 'assets', `bg-${String(i + 1).padStart(4, '0')}.jpg`));
    }
    writeFileSync(join(pack, 'pack.json'), manifest(`bench-build-${count}`, count));
  }
  // Fill the cache (and the pack's output folder): the cold run, not measured.
  run('packops assets (fill the cache)', process.execPath, [PACKOPS, 'assets', pack, '--cache-dir', CACHE]);
  return pack;
}

function totalBytes(dir: string): { files: string[]; bytes: number } {
  const files: string[] = [];
  let bytes = 0;
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const abs = join(d, name);
      const st = statSync(abs);
      if (st.isDirectory()) walk(abs, rel ? `${rel}/${name}` : name);
      else {
        files.push(rel ? `${rel}/${name}` : name);
        bytes += st.size;
      }
    }
  };
  walk(dir, '');
  return { files, bytes };
}

export default async function build(): Promise<void> {
  const count = Math.max(DISTINCT, Math.round(FULL_ASSETS * SCALE));
  const pack = await prepare(count);
  const outFolder = join(pack, '.packops', 'out');
  const variants = totalBytes(join(outFolder, 'assets'));
  const sources = totalBytes(join(pack, 'assets'));
  const paths = variants.files.map((f) => `assets/${f}`);
  const dist = join(DIR, 'dist');
  const theirZip = join(DIR, 'zip-r.zip');
  const env = { PACKOPS_SECRET_KEY: undefined };
  const buildArgs = [PACKOPS, 'build', pack, '--key', join(KEYS, 'packops.key'), '--out', dist, '--cache-dir', CACHE, '--json'];
  // Warm-up: page cache, and the first build after `assets` (not measured).
  run('warm-up build', process.execPath, buildArgs, { env });
  run('warm-up sha256sum', 'sha256sum', paths, { cwd: outFolder });

  const n = 3;
  const ours: Measurement[] = [];
  const zips: Measurement[] = [];
  const shas: Measurement[] = [];
  for (let i = 0; i < n; i++) {
    // Interleaved, so that load from other processes hits every side alike.
    ours.push(run('packops build (warm cache)', process.execPath, buildArgs, { env }));
    rmSync(theirZip, { force: true });
    zips.push(run('zip -r -q (the variants)', 'zip', ['-r', '-q', theirZip, 'assets'], { cwd: outFolder }));
    shas.push(run('sha256sum (the variants)', 'sha256sum', paths, { cwd: outFolder }));
  }
  rmSync(theirZip, { force: true });
  rmSync(dist, { recursive: true, force: true });
  const oursM = median('packops build (warm cache)', n, () => ours.shift()!);
  const zipM = median('zip -r -q (the variants)', n, () => zips.shift()!);
  const shaM = median('sha256sum (the variants)', n, () => shas.shift()!);
  const mib = (b: number) => (b / 1048576).toFixed(0);
  const rate = (m: Measurement) => `${(variants.bytes / 1048576 / (m.ms / 1000)).toFixed(0)} MiB/s`;
  const peakOk = oursM.peakMiB === undefined || oursM.peakMiB < 200;
  report({
    name: `build, warm cache: ${count} assets, ${mib(sources.bytes)} MiB sources, ${variants.files.length} variants ${mib(variants.bytes)} MiB: packops vs zip -r`,
    ours: oursM,
    theirs: zipM,
    target: '< 1× (faster than zip -r)',
    met: oursM.ms < zipM.ms,
    extra: `packops ${rate(oursM)}, zip -r ${rate(zipM)}`,
  });
  report({
    name: 'build, warm cache: packops vs sha256sum of the same variants',
    ours: oursM,
    theirs: shaM,
    target: '≤ 1.5×, peak RSS < 200 MiB',
    met: oursM.ms / shaM.ms <= 1.5 && peakOk,
    extra: `sha256sum ${rate(shaM)}; packops peak ${oursM.peakMiB?.toFixed(0) ?? '?'} MiB (${peakOk ? 'under' : 'OVER'} 200)`,
  });
}
