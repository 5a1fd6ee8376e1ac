/**
 * `packops build`: a validated pack → `dist/<slug>-<version>.zip` and its detached
 * `.minisig`. Inside: `INTEGRITY.json`, `INTEGRITY.json.minisig`, the variants and the
 * normalised `pack.json`, sorted by path, fixed timestamps and modes, images stored and
 * JSON deflated at a fixed level. Nothing else from the pack folder can enter: the entry
 * list is built from assets.lock.json and the manifest, never from a directory listing.
 *
 * The variants are streamed once each: SHA-256 and CRC-32 on the way into the zip. Because
 * INTEGRITY.json sorts first, its hashes come from assets.lock.json and every streamed file
 * is checked against them as it is written; a file that changed since the lock aborts the
 * build and nothing is left behind.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fsyncSync, openSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { displayPath } from '../shared/paths.js';
import { assertReplaceable, ensureOutputDir, removeStaleTemps, tempPathFor, trackTemp } from '../shared/atomic.js';
import { installArchive, pauseBeforeInstall } from './install.js';
import { streamDigest } from './stream-digest.js';
import { sourceDateEpochFrom } from '../shared/source-date.js';
import { ExitCode, PackopsError, inputError, isPackopsError } from '../shared/errors.js';
import { isOk, makeReport, type CheckReport } from '../shared/findings.js';
import type { AssetsLock, LockVariant, PackManifest } from '../manifest/types.js';
import type { OptimiseResult } from '../assets/pipeline.js';
import type { ProbeOptions } from '../shared/image-probe.js';
import { prehash, signMessage, type SecretKey } from '../signing/minisign.js';
import {
  INTEGRITY_JSON,
  INTEGRITY_SIG,
  PACK_JSON,
  archiveName,
  byPath,
  integrityDocument,
  serializeIntegrity,
  stableJson,
  trustedCommentFor,
  unsafeEntryName,
} from './integrity.js';
import { ZIP_EPOCH, ZipSourceMismatchError, writeZip, type ZipEntryInput } from './zip-writer.js';

export interface ArchiveEntry {
  path: string;
  size: number;
  sha256: string;
}

/** A file to place in the archive: its entry path and where its bytes are (on disk, or in memory). */
export interface VariantFile {
  path: string;
  file?: string;
  data?: Buffer;
  bytes: number;
  sha256: string;
  /** The file's CRC-32 when known (recorded by the variant cache): then it is read once, straight into the zip. */
  crc32?: number;
}

export interface WriteArchiveOptions {
  zipPath: string;
  /** Where the detached signature goes (default `<zip>.minisig`); ignored without a key. */
  sigPath?: string;
  slug: string;
  version: string;
  /** The pack.json bytes placed in the archive. */
  packJson: Uint8Array;
  variants: readonly VariantFile[];
  /** The signing key. Without it, `integritySignature` must be given and no detached signature is written. */
  secretKey?: SecretKey;
  /** A ready INTEGRITY.json.minisig (a rebuild reuses the one of the archive it checks). */
  integritySignature?: string;
  /** Entry timestamps, seconds since the epoch (default 1980-01-01). */
  sourceDateEpoch?: number;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Environment (the install step's test hook reads it; default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface WriteArchiveResult {
  zipPath: string;
  sigPath?: string;
  sha256: string;
  bytes: number;
  entries: ArchiveEntry[];
}

/**
 * The archive core: INTEGRITY.json and its signature, the zip (temp file), the detached
 * signature (temp file), then both renamed into place. Used by build, by `verify
 * --rebuild` and by the benchmark.
 */
export async function writePackArchive(opts: WriteArchiveOptions): Promise<WriteArchiveResult> {
  const comment = trustedCommentFor(opts.slug, opts.version);
  for (const v of opts.variants) {
    const why = unsafeEntryName(v.path);
    if (why !== undefined || v.path === PACK_JSON || v.path === INTEGRITY_JSON || v.path === INTEGRITY_SIG) {
      throw inputError('VARIANT_PATH_UNSAFE', `The variant path "${v.path}" cannot be an archive entry${why ? `: ${why}` : ''}.`);
    }
  }
  const packSha = createHash('sha256').update(opts.packJson).digest('hex');
  const files = [{ path: PACK_JSON, size: opts.packJson.length, sha256: packSha }, ...opts.variants.map((v) => ({ path: v.path, size: v.bytes, sha256: v.sha256 }))];
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw inputError('VARIANT_PATH_DUPLICATE', `Two archive entries would be named ${f.path}.`);
    seen.add(f.path);
  }
  const integrity = Buffer.from(serializeIntegrity(integrityDocument(files)), 'utf8');
  let integritySig: string;
  if (opts.secretKey) integritySig = signMessage(opts.secretKey, prehash(integrity), { trustedComment: comment });
  else if (opts.integritySignature !== undefined) integritySig = opts.integritySignature;
  else throw new RangeError('writePackArchive needs a secret key or a ready integrity signature');

  const entries = [
    { name: INTEGRITY_JSON, data: integrity, method: 'deflate' } satisfies ZipEntryInput,
    { name: INTEGRITY_SIG, data: Buffer.from(integritySig, 'utf8'), method: 'deflate' } satisfies ZipEntryInput,
    { name: PACK_JSON, data: opts.packJson, method: 'deflate' } satisfies ZipEntryInput,
    // Variants are streamed from disk and stored; only image formats are variants.
    ...opts.variants.map((v): ZipEntryInput =>
      v.file !== undefined
        ? { name: v.path, file: v.file, method: 'store', expect: { size: v.bytes, sha256: v.sha256, ...(v.crc32 !== undefined ? { crc32: v.crc32 } : {}) } }
        : { name: v.path, data: v.data!, method: 'store' },
    ),
  ].sort((a: ZipEntryInput, b: ZipEntryInput) => byPath({ path: a.name }, { path: b.name }));

  const total = opts.variants.reduce((s, v) => s + v.bytes, 0);
  const zipTmp = tempPathFor(opts.zipPath);
  const sigPath = opts.secretKey ? (opts.sigPath ?? `${opts.zipPath}.minisig`) : undefined;
  const sigTmp = sigPath ? tempPathFor(sigPath) : undefined;
  // Removed on SIGINT/SIGTERM; after a SIGKILL, the next build here removes them.
  const untrack = [trackTemp(zipTmp), ...(sigTmp ? [trackTemp(sigTmp)] : [])];
  removeStaleTemps(dirname(opts.zipPath));
  const hasher = streamDigest();
  try {
    // The archive's bytes are hashed as they are written (the signature needs BLAKE2b-512 of
    // the whole file), on a second thread: never read back.
    await writeZip(zipTmp, entries, {
      mtime: opts.sourceDateEpoch ?? ZIP_EPOCH,
      onBytes: (n) => opts.onProgress?.(n, total),
      ring: hasher,
    });
    const digest = await hasher.digest();
    if (opts.secretKey && sigPath && sigTmp) {
      const sig = signMessage(opts.secretKey, digest.blake2b512, { trustedComment: comment });
      writeFlushed(sigTmp, sig);
      await pauseBeforeInstall(opts.env);
      installArchive({ tmp: zipTmp, path: opts.zipPath }, { tmp: sigTmp, path: sigPath }, opts.env);
    } else {
      installArchive({ tmp: zipTmp, path: opts.zipPath }, undefined, opts.env);
    }
    return {
      zipPath: opts.zipPath,
      ...(sigPath ? { sigPath } : {}),
      sha256: digest.sha256,
      bytes: digest.bytes,
      entries: files.sort(byPath),
    };
  } catch (err) {
    hasher.close();
    await rm(zipTmp, { force: true });
    if (sigTmp) await rm(sigTmp, { force: true });
    if (err instanceof ZipSourceMismatchError) {
      throw inputError('VARIANT_CHANGED', `${err.file} changed after assets.lock.json was written (entry ${err.entry}).`, {
        hint: 'Run `packops assets <pack> --no-cache` to rewrite the variants, then build again.',
        details: { entry: err.entry, file: err.file, expected: err.expected, actual: err.actual },
      });
    }
    throw err;
  } finally {
    for (const u of untrack) u();
  }
}

/** A new file (O_EXCL), written and flushed. */
function writeFlushed(path: string, text: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o644);
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}


/** The pack.json of an archive: the source manifest, each asset given its variants, stable JSON. */
export function archiveManifest(manifest: PackManifest, lock: AssetsLock): { manifest: PackManifest; variants: LockVariant[] } {
  const byId = new Map(lock.assets.map((a) => [a.id, a]));
  const variants: LockVariant[] = [];
  const assets = manifest.assets.map((asset) => {
    const locked = byId.get(asset.id);
    if (!locked || locked.variants.length === 0) {
      throw inputError('VARIANTS_MISSING', `assets.lock.json has no variants for asset "${asset.id}".`, {
        hint: 'Run `packops assets <pack>` and build again.',
      });
    }
    const sorted = [...locked.variants].sort(byPath);
    variants.push(...sorted);
    const { variants: _old, ...source } = asset;
    return { ...source, variants: sorted };
  });
  return { manifest: { ...manifest, assets }, variants };
}

export interface BuildOptions {
  secretKey: SecretKey;
  /** Folder for the archive (default `dist/` under `cwd`). */
  outDir?: string;
  /** Entry timestamps (default: SOURCE_DATE_EPOCH from `env`, else 1980-01-01). */
  sourceDateEpoch?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Asset pipeline output folder (default `<pack>/.packops/out`). */
  assetsOut?: string;
  /** Asset pipeline cache folder, and whether to use it (default: the per-user cache, on). */
  cacheDir?: string;
  cache?: boolean;
  onProgress?: (phase: 'validate' | 'assets' | 'archive', done: number, total: number) => void;
}

export interface BuildResult {
  zipPath: string;
  sigPath: string;
  sha256: string;
  bytes: number;
  manifest: PackManifest;
  entries: ArchiveEntry[];
  keyId: string;
}

/**
 * Thrown when the pack has findings (validation or assets): exit 1, with the check report
 * in `report` so the CLI can print it like `validate` does.
 */
export class BuildRefusedError extends PackopsError {
  constructor(readonly report: CheckReport) {
    const count = report.results.reduce((n, r) => n + r.findings.filter((f) => f.severity === 'error').length, 0);
    super('BUILD_REFUSED', ExitCode.findings, `The pack has ${count} error${count === 1 ? '' : 's'}; no archive was written.`, {
      hint: 'Fix the findings (packops validate shows them all) and build again.',
      details: { report },
    });
  }
}


export async function buildArchive(target: string, options: BuildOptions): Promise<BuildResult> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const sourceDateEpoch = options.sourceDateEpoch ?? sourceDateEpochFrom(env);
  const { validatePack } = await import('../manifest/validate.js');
  options.onProgress?.('validate', 0, 1);
  // Every check but the full decode: the asset pipeline decodes what the cache does not
  // vouch for (a cache entry exists only for source bytes that decoded), so an unchanged
  // source costs a stat and a lookup, and a changed one is decoded once, not twice.
  // Image headers come from the asset cache's stat index for unchanged sources (a stat and
  // a lookup); the index is shared with the asset pipeline below, which saves it.
  const { AssetCache, defaultCacheDir } = await import('../assets/cache.js');
  const cacheDir = resolve(cwd, options.cacheDir ?? defaultCacheDir(env));
  const caches = new Map<string, ReturnType<typeof AssetCache.open>>();
  const probe = async (path: string, probeOptions: ProbeOptions, packRoot: string) => {
    let cache = caches.get(packRoot);
    if (cache === undefined) {
      cache = AssetCache.open(cacheDir, { read: options.cache !== false, scope: packRoot });
      caches.set(packRoot, cache);
    }
    return (await cache).probe(path, probeOptions);
  };
  const validation = await validatePack(target, { files: true, cwd, decode: false, probe });
  if (!validation.ok || validation.manifest === undefined) throw new BuildRefusedError(makeReport([validation]));
  const { optimisePack } = await import('../assets/pipeline.js');
  const optimise = () =>
    optimisePack(target, {
      cwd,
      ...(options.assetsOut !== undefined ? { out: options.assetsOut } : {}),
      cacheDir,
      ...(options.cache !== undefined ? { cache: options.cache } : {}),
      env,
      // Hits are not read here: each variant is read once, checked against the lock's
      // SHA-256 on its way into the archive.
      verifyHits: false,
      onProgress: (done, total) => options.onProgress?.('assets', done, total),
    });
  for (let attempt = 1; ; attempt++) {
    const optimised = await optimise();
    if (!optimised.result.ok || !isOk(optimised.result.findings)) throw new BuildRefusedError(makeReport([optimised.result]));
    try {
      return await writeCheckedArchive(validation.manifest, optimised, { ...options, sourceDateEpoch });
    } catch (err) {
      // A cache entry damaged since it was stored (a disk error, a hand edit) is found as the
      // archive is written: discard it and build once more (the asset is made again).
      const file = isPackopsError(err) && err.code === 'VARIANT_CHANGED' ? (err.details as { file?: unknown } | undefined)?.file : undefined;
      if (attempt > 1 || typeof file !== 'string') throw err;
      const cache = await AssetCache.open(optimised.cache.dir, { read: true });
      if (!cache.discardEntryOf(file)) throw err;
    }
  }
}

/**
 * The archive step alone, for a pack already validated and optimised (release runs those
 * steps itself and must not run them twice): writes the zip and its signature.
 */
export async function writeCheckedArchive(
  source: PackManifest,
  optimised: Pick<OptimiseResult, 'lock' | 'sources'>,
  options: Pick<BuildOptions, 'secretKey' | 'outDir' | 'cwd' | 'env' | 'sourceDateEpoch' | 'onProgress'>,
): Promise<BuildResult> {
  const cwd = options.cwd ?? process.cwd();
  const sourceDateEpoch = options.sourceDateEpoch ?? sourceDateEpochFrom(options.env ?? process.env);
  const { manifest, variants } = archiveManifest(source, optimised.lock);
  const outDir = resolve(cwd, options.outDir ?? 'dist');
  const zipPath = join(outDir, archiveName(source.slug, source.version));
  const unwritable = (err: unknown): never => {
    // A folder that cannot be made or written (a file in the way, read-only, full) is the
    // user's input error (exit 3), not an internal one; nothing half-written is left.
    if (isPackopsError(err)) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const path = (err as NodeJS.ErrnoException).path;
    if (code !== undefined && (path === undefined || path === outDir || path.startsWith(`${outDir}/`) || outDir.startsWith(`${path}/`))) {
      throw inputError('OUTPUT_UNWRITABLE', `Cannot write the archive into ${displayPath(outDir, cwd)} (${code}).`, {
        hint: 'Give --out a folder that can be created and written.',
        details: { path: outDir },
      });
    }
    throw err;
  };
  // One component at a time (never a hang under /proc); an existing device node, FIFO or
  // folder where the zip or its signature goes is refused, never replaced.
  ensureOutputDir(outDir, { cwd });
  assertReplaceable(zipPath, { cwd });
  assertReplaceable(`${zipPath}.minisig`, { cwd });
  const written = await writePackArchive({
    zipPath,
    slug: source.slug,
    version: source.version,
    packJson: Buffer.from(stableJson(manifest), 'utf8'),
    // The variants come from packops's own cache (or memory), never from the output folder
    // in the pack: that folder is an output, and anything in a pack is creator input.
    variants: variants.map((v) => {
      const source = optimised.sources.get(v.path);
      if (source === undefined) throw new RangeError(`no trusted bytes for ${v.path}`);
      return { path: v.path, ...source, bytes: v.bytes, sha256: v.sha256 };
    }),
    secretKey: options.secretKey,
    env: options.env ?? process.env,
    ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}),
    onProgress: (done, total) => options.onProgress?.('archive', done, total),
  }).catch(unwritable);
  return {
    zipPath: written.zipPath,
    sigPath: written.sigPath ?? `${zipPath}.minisig`,
    sha256: written.sha256,
    bytes: written.bytes,
    manifest,
    entries: written.entries,
    keyId: options.secretKey.keyId,
  };
}
