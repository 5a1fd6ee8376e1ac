// The baseline of bench/assets.bench.ts: the same variant set as `packops assets`, done the
// best way bare sharp allows and nothing more (no manifest checks, header probe, hashing,
// cache, lock file or placeholders). Per image: decode once (auto-oriented, sRGB, resized
// once to the largest box, raw pixels), then encode every variant from those pixels, the
// variants side by side. Same concurrency and libvips settings as packops.
//
//   node bench/assets-bare.js <pack-dir> <out-dir> <concurrency>
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import sharp from 'sharp';

const [packDir, outDir, concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg ?? availableParallelism());
const rules = JSON.parse(await readFile(new URL('../schemas/asset-rules.json', import.meta.url), 'utf8'));
const manifest = JSON.parse(await readFile(join(packDir, 'pack.json'), 'utf8'));
sharp.cache(false);
sharp.concurrency(Math.max(1, Math.floor(availableParallelism() / concurrency)));

const encoders = {
  webp: (p, v) => p.webp({ quality: v.quality ?? 80, effort: 4 }),
  avif: (p, v) => p.avif({ quality: v.quality ?? 50, effort: 4 }),
  jpeg: (p, v) => p.jpeg({ quality: v.quality ?? 82, mozjpeg: true }),
  png: (p) => p.png({ compressionLevel: 9, adaptiveFiltering: true }),
};

const limit = pLimit(concurrency);
await Promise.all(
  manifest.assets.map((asset) =>
    limit(async () => {
      const variants = rules.types[asset.type].variants;
      const width = Math.max(...variants.map((v) => v.width));
      const height = Math.max(...variants.map((v) => v.height));
      const { data, info } = await sharp(join(packDir, asset.file), { sequentialRead: true })
        .autoOrient()
        .resize({ width, height, fit: 'inside', withoutEnlargement: true })
        .toColourspace('srgb')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
      await mkdir(join(outDir, asset.id), { recursive: true });
      // Every variant encoded side by side from the same pixels (as packops does).
      await Promise.all(
        variants.map(async (v) => {
          let p = sharp(data, raw);
          if (info.width > v.width || info.height > v.height) p = p.resize({ width: v.width, height: v.height, fit: 'inside' });
          await writeFile(join(outDir, asset.id, `${v.name}.${v.format}`), await encoders[v.format](p, v).toBuffer());
        }),
      );
    }),
  ),
);
