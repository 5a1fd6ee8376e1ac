// Asset pipeline: `packops assets` on 200 generated full-size images (100 photos 3000×2000
// JPEG as backgrounds, 100 cut-outs 2048×2048 PNG with alpha) against
//   - bench/assets-bare.js: bare sharp, same operations, same concurrency, decode once and
//     encode every variant from the resized pixels (target: packops ≤ 1.15× its time);
//   - sharp-cli (`sharp` bin): one invocation per variant over all inputs (target: packops
//     at least 1.5× faster);
//   - packops again with a warm cache (target: < 5% of the cold run);
//   - sharp-cli again on print-size art (20 photos 4000×3000, 20 cut-outs 4096×4096), where
//     decoding once saves the most.
// Then peak memory on 500 large images (4000×3000 JPEG, 50 distinct files named 10 times
// each, --no-cache). Inputs are generated once into bench/.work and reused.
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { median, PACKOPS, report, ROOT, run, WORK, type Measurement } from './lib.js';
import { mulberry32 as random } from '../test/helpers/random.js';

const PACK = join(WORK, 'assets-200');
const BIG = join(WORK, 'assets-500-large');
const PRINT = join(WORK, 'assets-print');
const SHARP_CLI = join(ROOT, 'node_modules', '.bin', 'sharp');
const BARE = join(ROOT, 'bench', 'assets-bare.js');
const CONCURRENCY = availableParallelism();
/** Full-size art as a content team delivers it: camera photos and cut-outs drawn at 2048 px. */
const PHOTO = { width: 3000, height: 2000 };
const CUTOUT = 2048;


const colour = (r: () => number) => `hsl(${Math.floor(r() * 360)},${50 + Math.floor(r() * 40)}%,${35 + Math.floor(r() * 35)}%)`;

/** A photo-like scene: gradient sky, hills, sun, shapes, and fine grain (so it compresses like a photo). */
async function photo(path: string, seed: number, width: number, height: number): Promise<void> {
  const r = random(seed);
  const shapes = Array.from({ length: 14 }, () => {
    const cx = Math.floor(r() * width);
    const cy = Math.floor(r() * height);
    return `<ellipse cx="${cx}" cy="${cy}" rx="${Math.floor(40 + r() * width * 0.15)}" ry="${Math.floor(30 + r() * height * 0.12)}" fill="${colour(r)}" opacity="0.8"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${colour(r)}"/><stop offset="1" stop-color="${colour(r)}"/></linearGradient></defs>
    <rect width="${width}" height="${height}" fill="url(#s)"/>
    <ellipse cx="${width * 0.3}" cy="${height}" rx="${width * 0.6}" ry="${height * 0.4}" fill="${colour(r)}"/>
    <ellipse cx="${width * 0.8}" cy="${height * 1.05}" rx="${width * 0.5}" ry="${height * 0.35}" fill="${colour(r)}"/>
    ${shapes}</svg>`;
  const grain = await sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 6 } } })
    .png()
    .toBuffer();
  await sharp(Buffer.from(svg)).composite([{ input: grain, blend: 'soft-light' }]).flatten({ background: '#fff' }).jpeg({ quality: 88 }).toFile(path);
}

/** A cut-out: a character-like blob with eyes on a transparent square. */
async function cutout(path: string, seed: number, size: number): Promise<void> {
  const r = random(seed);
  const c = size / 2;
  const body = `<ellipse cx="${c}" cy="${c * 1.1}" rx="${size * (0.3 + r() * 0.12)}" ry="${size * (0.28 + r() * 0.12)}" fill="${colour(r)}"/>`;
  const bits = Array.from({ length: 6 }, () => `<circle cx="${Math.floor(size * (0.2 + r() * 0.6))}" cy="${Math.floor(size * (0.25 + r() * 0.6))}" r="${Math.floor(size * (0.03 + r() * 0.07))}" fill="${colour(r)}"/>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">
    <defs><radialGradient id="g"><stop offset="0" stop-color="#fff" stop-opacity="0.6"/><stop offset="1" stop-color="#fff" stop-opacity="0"/></radialGradient></defs>
    ${body}${bits}<ellipse cx="${c}" cy="${c}" rx="${size * 0.25}" ry="${size * 0.2}" fill="url(#g)"/>
    <circle cx="${c - size * 0.08}" cy="${c * 0.95}" r="${size * 0.03}" fill="#1d1d2b"/><circle cx="${c + size * 0.08}" cy="${c * 0.95}" r="${size * 0.03}" fill="#1d1d2b"/></svg>`;
  await sharp(Buffer.from(svg)).png().toFile(path);
}

function manifest(slug: string, assets: Array<{ id: string; file: string; type: string }>): string {
  return `${JSON.stringify(
    {
      schemaVersion: 1,
      slug,
      version: '1.0.0',
      name: `Benchmark ${slug}`,
      description: 'Generated art for the asset pipeline benchmark, photos and cut-outs.',
      category: 'characters',
      ageRange: { min: 3, max: 8 },
      creator: 'ana-lima',
      price: { amountMinor: 0, currency: 'USD' },
      assets: assets.map((a) => ({ ...a, altText: `Benchmark image ${a.id}` })),
    },
    null,
    2,
  )}\n`;
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

/** Generates the files that are missing (so an interrupted generation resumes), then the manifests. */
export async function generate(): Promise<void> {
  const ids = Array.from({ length: 100 }, (_, i) => String(i + 1).padStart(3, '0'));
  mkdirSync(join(PACK, 'assets'), { recursive: true });
  const missing = ids.filter((id) => !existsSync(join(PACK, 'assets', `photo-${id}.jpg`)) || !existsSync(join(PACK, 'assets', `cutout-${id}.png`)));
  if (missing.length > 0) console.log(`  generating ${missing.length * 2} images into bench/.work/assets-200 (once)…`);
  await inBatches(missing, 2, async (id) => {
    const photoPath = join(PACK, 'assets', `photo-${id}.jpg`);
    const cutoutPath = join(PACK, 'assets', `cutout-${id}.png`);
    if (!existsSync(photoPath)) await photo(photoPath, Number(id), PHOTO.width, PHOTO.height);
    if (!existsSync(cutoutPath)) await cutout(cutoutPath, 1000 + Number(id), CUTOUT);
  });
  const assets = ids.flatMap((id) => [
    { id: `photo-${id}`, file: `assets/photo-${id}.jpg`, type: 'background' },
    { id: `cutout-${id}`, file: `assets/cutout-${id}.png`, type: 'character' },
  ]);
  writeFileSync(join(PACK, 'pack.json'), manifest('bench-200', assets));

  mkdirSync(join(BIG, 'assets'), { recursive: true });
  const files = Array.from({ length: 50 }, (_, i) => `assets/large-${String(i + 1).padStart(2, '0')}.jpg`);
  const bigMissing = files.filter((f) => !existsSync(join(BIG, f)));
  if (bigMissing.length > 0) console.log(`  generating ${bigMissing.length} large photos (4000×3000) into bench/.work/assets-500-large (once)…`);
  await inBatches(bigMissing, 2, (file) => photo(join(BIG, file), 5000 + files.indexOf(file), 4000, 3000));
  const bigAssets = Array.from({ length: 500 }, (_, i) => ({
    id: `large-${String(i + 1).padStart(3, '0')}`,
    file: files[i % files.length]!,
    type: 'background',
  }));
  writeFileSync(join(BIG, 'pack.json'), manifest('bench-500-large', bigAssets));
}

const scratch = (name: string) => {
  const dir = join(WORK, 'assets-runs', name);
  rmSync(dir, { recursive: true, force: true });
  return dir;
};

function packopsCold(): Measurement {
  const out = scratch('packops-out');
  const cache = scratch('packops-cache');
  return run('packops assets (cold cache)', process.execPath, [PACKOPS, 'assets', PACK, '--out', out, '--cache-dir', cache, '--concurrency', String(CONCURRENCY)]);
}

function bare(): Measurement {
  return run('bare sharp script', process.execPath, [BARE, PACK, scratch('bare-out'), String(CONCURRENCY)]);
}

/** sharp-cli: one invocation per variant rule, each over every input of that type. */
function sharpCli(pack: string, photos: string[], cutouts: string[]): Measurement {
  const out = scratch('sharp-cli-out');
  mkdirSync(out, { recursive: true });
  const inPack = (files: string[]) => files.map((f) => join(pack, f));
  const jobs: Array<{ inputs: string[]; name: string; format: string; box: number; extra: string[] }> = [
    { inputs: inPack(photos), name: '2048', format: 'webp', box: 2048, extra: ['-q', '80', '--effort', '4'] },
    { inputs: inPack(photos), name: '1024', format: 'webp', box: 1024, extra: ['-q', '80', '--effort', '4'] },
    { inputs: inPack(photos), name: '256', format: 'webp', box: 256, extra: ['-q', '75', '--effort', '4'] },
    { inputs: inPack(cutouts), name: '512', format: 'webp', box: 512, extra: ['-q', '80', '--effort', '4'] },
    { inputs: inPack(cutouts), name: '256', format: 'webp', box: 256, extra: ['-q', '80', '--effort', '4'] },
    { inputs: inPack(cutouts), name: '96', format: 'png', box: 96, extra: ['-c', '9', '--adaptiveFiltering'] },
  ];
  let ms = 0;
  let peak = 0;
  for (const job of jobs) {
    const m = run(`sharp-cli ${job.name}.${job.format}`, SHARP_CLI, [
      '-i', ...job.inputs,
      '-o', join(out, `{name}-${job.name}.${job.format}`),
      '-f', job.format, ...job.extra, '--autoOrient',
      'resize', String(job.box), String(job.box), '--fit', 'inside', '--withoutEnlargement',
    ]);
    ms += m.ms;
    peak = Math.max(peak, m.peakMiB ?? 0);
  }
  return { label: 'sharp-cli (6 invocations, one per variant)', ms, peakMiB: peak || undefined };
}

/** The print-size set: 20 photos 4000×3000 (from the large set) and 20 cut-outs 4096×4096. */
async function generatePrint(): Promise<{ photos: string[]; cutouts: string[] }> {
  mkdirSync(join(PRINT, 'assets'), { recursive: true });
  const ids = Array.from({ length: 20 }, (_, i) => String(i + 1).padStart(2, '0'));
  const photos = ids.map((id) => `assets/photo-${id}.jpg`);
  const cutouts = ids.map((id) => `assets/cutout-${id}.png`);
  ids.forEach((id, i) => {
    if (!existsSync(join(PRINT, photos[i]!))) copyFileSync(join(BIG, 'assets', `large-${id}.jpg`), join(PRINT, photos[i]!));
  });
  await inBatches(ids, 2, async (id) => {
    const path = join(PRINT, 'assets', `cutout-${id}.png`);
    if (!existsSync(path)) await cutout(path, 9000 + Number(id), 4096);
  });
  writeFileSync(
    join(PRINT, 'pack.json'),
    manifest('bench-print', [
      ...photos.map((file, i) => ({ id: `photo-${ids[i]}`, file, type: 'background' })),
      ...cutouts.map((file, i) => ({ id: `cutout-${ids[i]}`, file, type: 'character' })),
    ]),
  );
  return { photos, cutouts };
}

export default async function assets(): Promise<void> {
  await generate();
  // Warm-up (file-system cache, lazy library loading), not measured.
  run('warm-up', process.execPath, [PACKOPS, '--version']);

  const n = 3;
  const ours: Measurement[] = [];
  const theirs: Measurement[] = [];
  for (let i = 0; i < n; i++) {
    // Interleaved, so that load from other processes hits both sides alike.
    ours.push(packopsCold());
    theirs.push(bare());
  }
  const oursMedian = median('packops assets (cold cache)', n, () => ours.shift()!);
  const bareMedian = median('bare sharp script', n, () => theirs.shift()!);
  report({
    name: `assets: 200 images × 3 variants, concurrency ${CONCURRENCY}, packops vs bare sharp`,
    ours: oursMedian,
    theirs: bareMedian,
    target: '≤ 1.15×',
    met: oursMedian.ms / bareMedian.ms <= 1.15,
  });

  const ids = Array.from({ length: 100 }, (_, i) => String(i + 1).padStart(3, '0'));
  const cli = sharpCli(PACK, ids.map((id) => `assets/photo-${id}.jpg`), ids.map((id) => `assets/cutout-${id}.png`));
  report({
    name: 'assets: packops vs sharp-cli (same 200 images)',
    ours: oursMedian,
    theirs: cli,
    target: '≤ 0.67× (at least 1.5× faster)',
    met: oursMedian.ms * 1.5 <= cli.ms,
  });

  // Decoding once pays most where decoding costs most: print-size sources.
  const print = await generatePrint();
  const printOurs = median('packops assets (cold cache)', n, () =>
    run('packops assets (cold cache)', process.execPath, [PACKOPS, 'assets', PRINT, '--out', scratch('print-out'), '--cache-dir', scratch('print-cache'), '--concurrency', String(CONCURRENCY)]),
  );
  const printCli = median('sharp-cli (6 invocations, one per variant)', n, () => sharpCli(PRINT, print.photos, print.cutouts));
  report({
    name: 'assets: packops vs sharp-cli, print-size art (20 photos 4000×3000, 20 cut-outs 4096×4096)',
    ours: printOurs,
    theirs: printCli,
    target: '≤ 0.67× (at least 1.5× faster)',
    met: printOurs.ms * 1.5 <= printCli.ms,
  });

  // Warm: the last cold run's output and cache are still there.
  const warmOut = join(WORK, 'assets-runs', 'packops-out');
  const warmCache = join(WORK, 'assets-runs', 'packops-cache');
  const warm = median('packops assets (warm cache)', n, () =>
    run('packops assets (warm cache)', process.execPath, [PACKOPS, 'assets', PACK, '--out', warmOut, '--cache-dir', warmCache]),
  );
  report({ name: 'assets: warm cache vs cold', ours: warm, theirs: oursMedian, target: '< 5% (0.05×)', met: warm.ms < 0.05 * oursMedian.ms });

  const big = run('packops assets, 500 × 4000×3000 JPEG, --no-cache', process.execPath, [
    PACKOPS, 'assets', BIG, '--no-cache', '--out', scratch('big-out'), '--cache-dir', scratch('big-cache'), '--concurrency', String(CONCURRENCY),
  ]);
  const bigBare = run('bare sharp script, same 500', process.execPath, [BARE, BIG, scratch('big-bare-out'), String(CONCURRENCY)]);
  report({
    name: 'assets: peak memory on 500 large images (RSS, GNU time)',
    ours: big,
    theirs: bigBare,
    target: 'bounded: peak RSS stated, no growth with the pack size',
    met: big.peakMiB === undefined || big.peakMiB < 1024,
    extra: `200-image pack peak: ${oursMedian.peakMiB?.toFixed(0) ?? '?'} MiB; 500-image pack peak: ${big.peakMiB?.toFixed(0) ?? '?'} MiB`,
  });
}
