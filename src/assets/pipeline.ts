/**
 * `packops assets`: every asset of a pack → the variants its type's rules name, written
 * under `<out>/assets/<id>/<variant>.<ext>`, with `<out>/assets.lock.json` describing them.
 *
 * Order of work per asset: resolve and hash the source (a size+mtime index stands in for
 * re-hashing), read its header (format, size, frames; the same index stands in for
 * re-reading) and apply validate's format and long-edge check to it, on every run, then look
 * the cache up (a hit does no image work), otherwise decode once and encode every variant.
 * A bad asset becomes a finding and never stops the others.
 */
import { availableParallelism } from 'node:os';
import { crc32 } from 'node:zlib';
import { rmdirSync, rmSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { ensureOutputDir, statOutput } from '../shared/atomic.js';
import pLimit from 'p-limit';
import { errnoCode, inputError, isPackopsError, usageError } from '../shared/errors.js';
import { isOk, withSourceText, type CheckResult, type Finding } from '../shared/findings.js';
import type { AssetsLock, LockVariant, ManifestAsset, PackManifest } from '../manifest/types.js';
import { loadPackManifest } from '../manifest/load.js';
import { displayPath } from '../shared/paths.js';
import { locateFindings } from '../manifest/position.js';
import { AssetCache, cacheKeyWith, defaultCacheDir, sha256Hex, type CacheEntryMeta } from './cache.js';
import { isVariantPath, readLock, serializeLock, sortLock, variantPath, writeOutputFile } from './lock.js';
import { animationWarning, assetShapeProblem, assetTypeRule, loadAssetRules, type VariantRule } from '../manifest/asset-rules.js';
import { classifyDecodeError, gateManifest, resolveAssetSource } from './source.js';

export interface OptimiseOptions {
  /** Output folder (default `<pack>/.packops/out`). */
  out?: string;
  /**
   * Cache folder (default: the per-user one, `defaultCacheDir(env)`). Never inside the pack:
   * a pack's own `.packops/` is creator input and is not read as a cache.
   */
  cacheDir?: string;
  /** Environment for the default cache folder (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** false: do the image work even when the cache has it (results are still stored). */
  cache?: boolean;
  /** Images in flight at once (default: the number of CPUs). */
  concurrency?: number;
  onProgress?: (done: number, total: number, label: string) => void;
  /** Base for the relative file names in findings (default: process.cwd()). */
  cwd?: string;
  /**
   * Read and check every variant of a cache hit (default true). `build` passes false: a hit
   * then costs a stat per variant, and build checks each variant's SHA-256 as it streams it
   * into the archive (a damaged entry is discarded there and made again). Outputs that do
   * not still hold what packops wrote are written from checked bytes either way.
   */
  verifyHits?: boolean;
}

export interface OptimiseStats {
  assets: number;
  variants: number;
  bytesIn: number;
  bytesOut: number;
  /** Variants restored from the cache (no image work). */
  cached: number;
  /** Variants decoded and encoded in this run. */
  encoded: number;
  ms: number;
}

/** Where build reads a variant's bytes from: a file in the trusted cache, or memory. */
export type VariantSource = { file: string; crc32?: number } | { data: Buffer };

export interface OptimiseResult {
  result: CheckResult & { variants: LockVariant[] };
  lock: AssetsLock;
  outDir: string;
  lockPath: string;
  stats: OptimiseStats;
  /**
   * Each variant's bytes by lock path, from packops's own cache (or memory when the cache
   * could not store them). Build reads these, never the output folder, which lives in the
   * pack and is an output only.
   */
  sources: ReadonlyMap<string, VariantSource>;
  /** The cache folder used, and why it was off if it was. */
  cache: { dir: string; problem?: string };
}

type AssetOutcome =
  | { ok: true; entry: AssetsLock['assets'][number]; bytesIn: number; cached: boolean; findings: Finding[]; sources: Array<[string, VariantSource]> }
  | { ok: false; findings: Finding[] };

interface AssetJob {
  asset: ManifestAsset;
  index: number;
}

export async function optimisePack(target: string, options: OptimiseOptions = {}): Promise<OptimiseResult> {
  const started = performance.now();
  const cwd = options.cwd ?? process.cwd();
  const display = (p: string) => displayPath(p, cwd);
  const loaded = await loadPackManifest(target, { cwd });
  const packDir = resolve(loaded.packDir);
  const outDir = resolve(cwd, options.out ?? join(packDir, '.packops', 'out'));
  const lockPath = join(outDir, 'assets.lock.json');
  const stats: OptimiseStats = { assets: 0, variants: 0, bytesIn: 0, bytesOut: 0, cached: 0, encoded: 0, ms: 0 };
  const cacheDir = resolve(cwd, options.cacheDir ?? defaultCacheDir(options.env ?? process.env));
  const refuse = (findings: Finding[], text = loaded.text): OptimiseResult => ({
    result: withSourceText({ target: display(packDir), ok: false, findings, variants: [] }, display(loaded.manifestPath), text),
    lock: { version: 1, assets: [] },
    outDir,
    lockPath,
    stats: { ...stats, ms: Math.round(performance.now() - started) },
    sources: new Map(),
    cache: { dir: cacheDir },
  });

  if (!loaded.ok) return refuse(loaded.findings);
  // The asset list must be sound before any file is touched (ids become folder names).
  const manifestFile = display(loaded.manifestPath);
  const gate = gateManifest(loaded.manifest, loaded.text, manifestFile);
  if (gate.blocking.length > 0) return refuse(gate.blocking);
  const manifest: PackManifest = loaded.manifest;
  if (outDir === packDir || packDir.startsWith(outDir + sep)) {
    throw usageError(`The output folder ${display(outDir)} would hold the pack's own files.`, {
      hint: 'Choose an --out folder outside the pack, or leave the default (<pack>/.packops/out).',
    });
  }

  // Nothing packops writes may pass through a link inside the pack (a `.packops` linked
  // to ~/.ssh) or inside the --out folder the user named.
  const outBase = options.out === undefined ? packDir : outDir;
  ensureOutputDir(outDir, { base: outBase, cwd });

  const rules = loadAssetRules();
  const concurrency = Math.max(1, options.concurrency ?? availableParallelism());
  const packReal = await realpath(packDir);
  const cache = await AssetCache.open(cacheDir, { read: options.cache !== false, scope: packReal });
  const encoderModule = await import('./encode.js');
  encoderModule.configureSharp(concurrency, availableParallelism());
  const fingerprint = encoderModule.encoderFingerprint();
  const previous = await readLock(lockPath, { base: outBase, cwd });

  const jobs: AssetJob[] = manifest.assets.map((asset, index) => ({ asset, index }));
  const keyers = new Map<object, (source: string) => string>();
  const limit = pLimit(concurrency);
  let done = 0;

  const processAsset = async ({ asset, index }: AssetJob): Promise<AssetOutcome> => {
    const pointer = `/assets/${index}/file`;
    const fail = (code: string, message: string, hint?: string): AssetOutcome => ({
      ok: false,
      findings: [{ code, severity: 'error', file: manifestFile, pointer, message, ...(hint ? { hint } : {}) }],
    });
    const pathFindings = gate.perAsset.get(index);
    if (pathFindings) return { ok: false, findings: pathFindings };
    const rule = assetTypeRule(rules, asset.type);
    if (rule === undefined) return fail('SCHEMA', `Asset "${asset.id}" has an unknown type "${String(asset.type)}".`);
    const resolved = await resolveAssetSource(packReal, asset);
    if (!resolved.ok) return fail(resolved.code, resolved.message, resolved.hint);
    const real = resolved.path;

    let digest: { sha256: string; bytes: number };
    try {
      digest = await cache.sourceDigest(real);
    } catch (err) {
      return fail('ASSET_CORRUPT', `Asset "${asset.id}": ${asset.file} cannot be read (${errnoCode(err) ?? 'error'}).`);
    }
    // The header (format, size, frames), from the stat index for an unchanged source: on
    // every run, cached or not, the source must pass validate's own format and long-edge
    // check (assetShapeProblem), so nothing validate refuses is decoded, encoded or restored.
    const probe = await cache.probe(real, { maxPixels: rules.maxSourcePixels });
    if (!probe.ok) return fail(probe.code, `Asset "${asset.id}" (${asset.file}): ${probe.message}`);
    const problem = assetShapeProblem(rule, asset.type, probe);
    if (problem) return fail(problem.code, `Asset "${asset.id}" (${asset.file}): ${problem.message}`, problem.hint);

    let keyOf = keyers.get(rule);
    if (keyOf === undefined) {
      // cacheKey({ source, variants, encoder }), the settings part made canonical once per type.
      keyOf = cacheKeyWith({ variants: rule.variants.map((v) => variantSettings(v, encoderModule.encoderOptions(v))), encoder: fingerprint }, 'source');
      keyers.set(rule, keyOf);
    }
    const key = keyOf(digest.sha256);

    let meta: CacheEntryMeta;
    let data: Map<string, Buffer>;
    let files: Map<string, string> | undefined;
    const verify = options.verifyHits !== false;
    let hit = await cache.get(key, { verify });
    if (hit && !verify && hit.meta.variants.some((v) => v.crc32 === undefined)) {
      // Made before CRC-32s were recorded: read and check it once, and record them.
      hit = cache.load(hit, hit.meta.variants.map((v) => v.name)) ? cache.recordCrcs(hit) : undefined;
    }
    if (hit && !verify) {
      // Only outputs that no longer hold what packops wrote need the bytes (read and checked).
      const need = hit.meta.variants.filter((v) => !cache.holds(join(outDir, variantPath(asset.id, v.name, v.format)), v.sha256)).map((v) => v.name);
      if (need.length > 0 && !cache.load(hit, need)) hit = undefined;
    }
    if (hit) {
      meta = hit.meta;
      data = hit.data;
      files = hit.files;
    } else {
      let encoded;
      try {
        encoded = await encoderModule.encodeAsset(real, rule.variants, { maxPixels: rules.maxSourcePixels });
      } catch (err) {
        const { code, reason } = classifyDecodeError(err);
        return code === 'ASSET_TOO_LARGE'
          ? fail(code, `Asset "${asset.id}": ${asset.file} is over the ${rules.maxSourcePixels}-pixel limit.`)
          : fail(code, `Asset "${asset.id}": ${asset.file} is truncated or corrupt (${reason}).`);
      }
      data = new Map(encoded.variants.map((v) => [v.rule.name, v.data]));
      meta = {
        version: 1,
        key,
        placeholder: encoded.placeholder,
        variants: encoded.variants.map((v) => ({
          name: v.rule.name,
          format: v.format,
          width: v.width,
          height: v.height,
          bytes: v.data.length,
          sha256: sha256Hex(v.data),
          crc32: crc32(v.data) >>> 0,
          file: `${v.rule.name}.${v.format}`,
        })),
      };
      // The cache is an accelerator: failing to store an entry costs the next run time only
      // (build then takes this run's bytes from memory).
      files = await cache.put(meta, data);
    }

    const findings: Finding[] = [];
    const animated = animationWarning(probe);
    if (animated) {
      findings.push({ code: animated.code, severity: 'warning', file: manifestFile, pointer, message: `Asset "${asset.id}" (${asset.file}): ${animated.message}`, hint: animated.hint });
    }
    const variants: LockVariant[] = [];
    const sources: Array<[string, VariantSource]> = [];
    for (const v of meta.variants) {
      const path = variantPath(asset.id, v.name, v.format);
      const cached = files?.get(v.name);
      sources.push([path, cached !== undefined ? { file: cached, ...(v.crc32 !== undefined ? { crc32: v.crc32 } : {}) } : { data: data.get(v.name)! }]);
      const outFile = join(outDir, path);
      const bytes = data.get(v.name);
      // An output that still holds what packops wrote (a stat and a lookup) is left alone.
      if (bytes !== undefined && !cache.holds(outFile, v.sha256)) {
        const st = await writeOutputFile(outFile, bytes, v.sha256, { sync: false, base: outBase }).catch(unwritable(outFile));
        if (st !== undefined) cache.recordOutput(outFile, v.sha256, st);
      }
      variants.push({ path, name: v.name, format: v.format, width: v.width, height: v.height, bytes: v.bytes, sha256: v.sha256, placeholder: meta.placeholder });
      const budget = rule.variants.find((r) => r.name === v.name)?.budgetBytes;
      if (budget !== undefined && v.bytes > budget) {
        findings.push({
          code: 'VARIANT_OVER_BUDGET',
          severity: 'error',
          file: manifestFile,
          pointer: `/assets/${index}`,
          message: `Asset "${asset.id}": variant ${display(join(outDir, path))} is ${v.bytes} bytes, over its ${budget}-byte budget.`,
          hint: 'Simplify the art (fewer gradients and less noise compress better) or lower the variant quality in the asset rules.',
        });
      }
    }
    return {
      ok: true,
      entry: { id: asset.id, source: asset.file, sourceSha256: digest.sha256, variants },
      bytesIn: digest.bytes,
      cached: hit !== undefined,
      findings,
      sources,
    };
  };

  const outcomes = await Promise.all(
    jobs.map((job) =>
      limit(async () => {
        const outcome = await processAsset(job);
        done += 1;
        options.onProgress?.(done, jobs.length, job.asset.id);
        return outcome;
      }),
    ),
  );

  const findings: Finding[] = [];
  const entries: AssetsLock['assets'] = [];
  const sources = new Map<string, VariantSource>();
  for (const outcome of outcomes) {
    findings.push(...outcome.findings);
    if (!outcome.ok) continue;
    entries.push(outcome.entry);
    for (const [path, source] of outcome.sources) sources.set(path, source);
    stats.assets += 1;
    stats.bytesIn += outcome.bytesIn;
    for (const v of outcome.entry.variants) {
      stats.variants += 1;
      stats.bytesOut += v.bytes;
      if (outcome.cached) stats.cached += 1;
      else stats.encoded += 1;
    }
  }
  locateFindings(loaded.text, findings);
  const lock = sortLock({ version: 1, assets: entries });
  await writeOutputFile(lockPath, Buffer.from(serializeLock(lock)), undefined, { base: outBase }).catch(unwritable(lockPath));
  pruneStale(outDir, previous, lock, cache);
  await cache.save().catch(() => undefined);

  const variants = lock.assets.flatMap((a) => a.variants);
  stats.ms = Math.round(performance.now() - started);
  return {
    result: withSourceText({ target: display(packDir), ok: isOk(findings), findings, variants }, manifestFile, loaded.text),
    lock,
    outDir,
    lockPath,
    stats,
    sources,
    cache: { dir: cache.dir, ...(cache.problem !== undefined ? { problem: cache.problem } : {}) },
  };
}

/** Turns a failed output write into an input error naming the file (exit 3), not a crash. */
function unwritable(path: string): (err: unknown) => never {
  return (err: unknown) => {
    if (isPackopsError(err)) throw err;
    throw inputError('OUTPUT_UNWRITABLE', `Cannot write ${path} (${errnoCode(err) ?? (err as Error).message}).`, {
      hint: 'Check that the output folder (--out) is writable and the disk has space.',
      cause: err,
    });
  };
}

/** What of a variant rule changes its bytes (the budget does not). */
function variantSettings(rule: VariantRule, encoder: Record<string, unknown>): Record<string, unknown> {
  return { name: rule.name, format: rule.format, width: rule.width, height: rule.height, encoder };
}

/**
 * Removes outputs an earlier run wrote that this run did not (assets removed, renamed or now
 * failing). The earlier lock is read back from the output folder, which by default is inside
 * the pack: creator input (PRODUCT.md §5), so its paths decide nothing alone. A file is
 * removed only when all of these hold, and anything else is left where it is:
 * - its lock path has the one shape packops writes (`isVariantPath`: `assets/<id>/<name>.<ext>`,
 *   no `.` or `..`, not absolute);
 * - it is a regular file reached with no link below the output folder (`statOutput`);
 * - the trusted cache's stat index records that packops wrote it there (same size, mtime,
 *   ctime, inode, device and SHA-256), which a pack cannot forge.
 * A file that cannot be removed is left too: pruning is tidying, never a reason to fail.
 */
function pruneStale(outDir: string, previous: AssetsLock | undefined, current: AssetsLock, cache: AssetCache): void {
  if (previous === undefined) return;
  const keep = new Set(current.assets.flatMap((a) => a.variants.map((v) => v.path)));
  for (const v of previous.assets.flatMap((a) => a.variants)) {
    if (keep.has(v.path) || !isVariantPath(v.path)) continue;
    const file = join(outDir, v.path);
    try {
      if (!statOutput(file, { base: outDir })?.isFile() || !cache.wrote(file, v.sha256)) continue;
      rmSync(file);
    } catch {
      continue;
    }
    try {
      rmdirSync(dirname(file)); // only when empty
    } catch {
      // Not empty, or gone.
    }
  }
}
