/**
 * `catalog publish`: the feed, the page and every file they point to, staged whole in a
 * temporary folder beside the target and swapped into place, so that a failed publish
 * leaves the previous site as it was. Archives are copied only when their bytes still
 * hash to what the ledger verified; thumbnails are extracted from those archives and
 * checked against the hashes their pack.json lists.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Ledger } from '../ledger/db.js';
import { ensureOutputDir } from '../shared/atomic.js';
import { conflictError, errnoCode, inputError, isPackopsError } from '../shared/errors.js';
import { inputStream, openInput, readInputSync } from '../shared/input.js';
import { takeLock } from '../shared/lock.js';
import { displayPath } from '../shared/paths.js';
import { archiveSitePath, buildFeed, serialiseFeed, type CatalogFeed, type Exclusion, type SiteFile } from './feed.js';
import { renderCatalogPage } from './html.js';
import { assertSigningKeysRecorded, copySignature } from './publish-signature.js';
import { loadStoredBundles, loadStoredPacks, type StoredPack } from './source.js';

export const CATALOG_SCHEMA_URL = new URL('../../schemas/catalog.schema.json', import.meta.url);

export interface PublishOptions {
  /** The site folder: replaced as a whole (it must be empty, missing, or an earlier site). */
  out: string;
  baseUrl?: string;
  market?: string;
  /** The clock (SOURCE_DATE_EPOCH or now); its UTC day is the publish day. */
  now: Date;
  title?: string;
  /** How long to wait for another publish into the same folder (default PUBLISH_LOCK_WAIT_MS). */
  lockWaitMs?: number;
}

/** A publish copies every archive of the catalog: the one before it may take minutes. */
export const PUBLISH_LOCK_WAIT_MS = 10 * 60_000;

export interface PublishResult {
  outDir: string;
  catalogPath: string;
  indexPath: string;
  feed: CatalogFeed;
  excluded: Exclusion[];
  /** Files written beside catalog.json (archives, signatures, thumbnails). */
  files: number;
  /** SHA-256 of catalog.json. */
  sha256: string;
}

class HashCounter extends Transform {
  readonly hash = createHash('sha256');
  /** minisign's prehash of an archive, for its detached signature (archives only). */
  readonly blake2b: Hash | undefined;
  bytes = 0;
  constructor(
    private readonly limit: number,
    prehash = false,
  ) {
    super();
    this.blake2b = prehash ? createHash('blake2b512') : undefined;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      cb(new Error(`more than the ${this.limit} bytes expected`));
      return;
    }
    this.hash.update(chunk);
    this.blake2b?.update(chunk);
    cb(null, chunk);
  }
}

/**
 * A registered file (an archive or its signature), opened through the shared input checks:
 * one swapped for a FIFO or device since it was registered is refused, never waited on.
 * Its size is bounded by the copy's own limit.
 */
function registeredFile(path: string, what: string): Readable {
  return inputStream(openInput(path, { what, maxBytes: Number.MAX_SAFE_INTEGER }), { highWaterMark: 1 << 20 });
}

/** A file that is gone: the system's ENOENT, or the input checks' PATH_NOT_FOUND. */
function isGone(err: unknown): boolean {
  return errnoCode(err) === 'ENOENT' || (isPackopsError(err) && err.code === 'PATH_NOT_FOUND');
}

/** Streams `source` to `target`, returning its SHA-256 and size (bounded by `limit`), and its BLAKE2b-512 with `prehash`. */
async function copyHashed(source: Readable, target: string, limit: number, prehash = false): Promise<{ sha256: string; bytes: number; blake2b512?: Buffer }> {
  await mkdir(dirname(target), { recursive: true });
  const counter = new HashCounter(limit, prehash);
  await pipeline(source, counter, createWriteStream(target, { flags: 'wx', mode: 0o644 }));
  return { sha256: counter.hash.digest('hex'), bytes: counter.bytes, ...(counter.blake2b ? { blake2b512: counter.blake2b.digest() } : {}) };
}

/** Copies a registered archive whose bytes still hash to what the ledger verified; returns its BLAKE2b-512 (for its signature). */
async function copyArchive(pack: StoredPack, file: Extract<SiteFile, { kind: 'archive' }>, stage: string): Promise<Buffer> {
  const where = `${pack.manifest.slug} ${pack.manifest.version}`;
  let got: { sha256: string; bytes: number; blake2b512?: Buffer };
  try {
    got = await copyHashed(registeredFile(pack.archivePath, 'archive'), join(stage, file.sitePath), Number.MAX_SAFE_INTEGER, true);
  } catch (err) {
    if (isGone(err)) {
      throw inputError('ARCHIVE_MISSING', `The archive of ${where} registered from ${pack.archivePath} no longer exists.`, {
        hint: 'Put the archive back, or build it again and register it with `packops catalog add`.',
        details: { slug: file.slug, version: file.version, archivePath: pack.archivePath },
      });
    }
    throw err;
  }
  if (got.sha256 !== file.sha256 || got.bytes !== file.bytes) {
    throw inputError('ARCHIVE_CHANGED', `The archive ${pack.archivePath} no longer matches what the ledger registered for ${where}.`, {
      hint: 'An archive is immutable once registered: restore the registered file, or release a new version.',
      details: { slug: file.slug, version: file.version, expected: file.sha256, actual: got.sha256 },
    });
  }
  return got.blake2b512!;
}

type ZipFile = import('yauzl').ZipFile;
type ZipEntry = import('yauzl').Entry;

/**
 * Extracts the named entries into the stage, checking each one's size and hash. Reads the
 * archive's staged copy, whose bytes were just checked against the ledger.
 */
async function extractVariants(
  pack: StoredPack,
  zipPath: string,
  wanted: Array<Extract<SiteFile, { kind: 'variant' }>>,
  stage: string,
): Promise<void> {
  if (wanted.length === 0) return;
  const yauzl = (await import('yauzl')).default;
  const byEntry = new Map(wanted.map((w) => [w.entry, w]));
  const done = new Set<string>();
  const zip = await new Promise<ZipFile>((ok, fail) =>
    yauzl.open(zipPath, { lazyEntries: true, autoClose: true, strictFileNames: true, validateEntrySizes: true }, (err, z) =>
      err ? fail(err) : ok(z),
    ),
  );
  const where = `${pack.manifest.slug} ${pack.manifest.version}`;
  await new Promise<void>((ok, fail) => {
    zip.on('error', fail);
    zip.on('end', () => ok());
    zip.on('entry', (entry: ZipEntry) => {
      const want = byEntry.get(entry.fileName);
      if (!want || done.has(entry.fileName)) {
        zip.readEntry();
        return;
      }
      done.add(entry.fileName);
      zip.openReadStream(entry, (err, stream) => {
        if (err) return fail(err);
        copyHashed(stream, join(stage, want.sitePath), want.bytes)
          .catch((e: unknown) => {
            throw inputError('ARCHIVE_CHANGED', `${want.entry} in the archive of ${where} cannot be extracted: ${(e as Error).message}.`, {
              details: { slug: want.slug, version: want.version, entry: want.entry },
            });
          })
          .then((got) => {
            if (got.sha256 !== want.sha256 || got.bytes !== want.bytes) {
              throw inputError('ARCHIVE_CHANGED', `${want.entry} in the archive of ${where} does not match its pack.json.`, {
                details: { slug: want.slug, version: want.version, entry: want.entry },
              });
            }
            zip.readEntry();
          })
          .catch(fail);
      });
    });
    zip.readEntry();
  }).finally(() => zip.close());
  const missing = wanted.filter((w) => !done.has(w.entry)).map((w) => w.entry);
  if (missing.length > 0) {
    throw inputError('ARCHIVE_CHANGED', `The archive of ${where} lacks ${missing.join(', ')}, which its pack.json lists.`, {
      details: { slug: pack.manifest.slug, version: pack.manifest.version, missing },
    });
  }
}

/** Checks the feed against schemas/catalog.schema.json before anything is written. */
export async function checkFeedSchema(feed: CatalogFeed): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  const { Ajv2020 } = await import('ajv/dist/2020.js');
  const addFormats = (await import('ajv-formats')).default as unknown as (ajv: InstanceType<typeof Ajv2020>) => void;
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(await readFile(CATALOG_SCHEMA_URL, 'utf8')) as object);
  if (validate(feed)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim());
}

/**
 * The marker publish writes into every site it makes, listing every file it wrote. A folder
 * is replaced only when it holds this marker and nothing the marker does not list: publish
 * never deletes a file it did not write (a stray catalog.json does not make a folder a site).
 */
export const SITE_MARKER = '.packops-site.json';
const MAX_MARKER_BYTES = 16 * 1024 * 1024;

interface SiteMarker {
  version: 1;
  files: string[];
}

function siteMarker(files: string[]): string {
  const sorted = [...new Set(files)].sort();
  return `${JSON.stringify({ version: 1, files: sorted } satisfies SiteMarker, null, 2)}\n`;
}

function readSiteMarker(outDir: string): Set<string> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(readInputSync(join(outDir, SITE_MARKER), { what: 'site marker', maxBytes: MAX_MARKER_BYTES }).toString('utf8'));
  } catch (err) {
    if (isPackopsError(err) && err.code === 'PATH_NOT_FOUND') return undefined;
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
  const marker = value as Partial<SiteMarker> | null;
  if (marker?.version !== 1 || !Array.isArray(marker.files) || !marker.files.every((f) => typeof f === 'string')) return undefined;
  return new Set(marker.files);
}

/** Every file (and link, FIFO...) below `dir`, as POSIX paths relative to it; folders are walked, links never followed. */
async function siteFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await siteFiles(dir, rel)));
    else out.push(rel);
  }
  return out;
}

async function prepareTarget(outDir: string): Promise<'new' | 'replace'> {
  let info;
  try {
    info = await lstat(outDir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 'new';
    throw err;
  }
  if (!info.isDirectory()) throw inputError('OUTPUT_NOT_DIRECTORY', `${outDir} exists and is not a folder (a file or a link).`);
  const entries = await readdir(outDir);
  if (entries.length === 0) return 'new';
  const listed = readSiteMarker(outDir);
  if (listed === undefined) {
    throw conflictError('OUTPUT_NOT_EMPTY', `${outDir} is not empty and is not a site catalog publish made (no ${SITE_MARKER}): refusing to replace it.`, {
      hint: 'catalog publish replaces its output folder as a whole; point --out at a new or empty folder, or at a site it published.',
      details: { path: outDir },
    });
  }
  const foreign = (await siteFiles(outDir)).filter((f) => f !== SITE_MARKER && !listed.has(f));
  if (foreign.length > 0) {
    throw conflictError('OUTPUT_NOT_EMPTY', `${outDir} holds ${foreign.length} file(s) catalog publish did not write (${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}): refusing to replace it.`, {
      hint: 'Move those files out of the site folder, or publish into another folder.',
      details: { path: outDir, foreign: foreign.slice(0, 100) },
    });
  }
  return 'replace';
}

export async function publishCatalog(ledger: Ledger, options: PublishOptions): Promise<PublishResult> {
  if (options.market !== undefined && !/^[A-Z]{2}$/.test(options.market)) {
    throw inputError('MARKET_INVALID', `--market takes an ISO 3166-1 alpha-2 country code such as GB, not "${options.market}".`);
  }
  const outDir = resolve(options.out);
  const stored = await loadStoredPacks(ledger);
  const bundles = await loadStoredBundles(ledger);
  const build = buildFeed({ packs: stored, bundles, now: options.now, market: options.market, baseUrl: options.baseUrl });
  const problems = await checkFeedSchema(build.feed);
  if (problems.length > 0) {
    throw inputError('CATALOG_DATA_INVALID', `The catalog built from the ledger does not match schemas/catalog.schema.json: ${problems.slice(0, 5).join('; ')}.`, {
      details: { problems },
    });
  }
  assertSigningKeysRecorded(build.files, stored);
  const text = serialiseFeed(build.feed);
  const html = renderCatalogPage(build.feed, { title: options.title });
  ensureOutputDir(dirname(outDir));
  // Two publishes into one folder (two CI jobs, two `release --publish`) take turns: the
  // second sees the first's finished site and replaces it, never a half-made folder.
  const release = await takeLock(join(dirname(outDir), `.${basename(outDir)}.publish.packops.lock`), {
    waitMs: options.lockWaitMs ?? PUBLISH_LOCK_WAIT_MS,
    what: `the site ${displayPath(outDir)}`,
  });
  try {
    await writeSite(outDir, build, stored, text, html);
  } finally {
    release();
  }
  return {
    outDir,
    catalogPath: join(outDir, 'catalog.json'),
    indexPath: join(outDir, 'index.html'),
    feed: build.feed,
    excluded: build.excluded,
    files: build.files.length,
    sha256: createHash('sha256').update(text).digest('hex'),
  };
}

/** Stages the whole site beside `outDir` and swaps it into place (under the site's lock). */
async function writeSite(outDir: string, build: ReturnType<typeof buildFeed>, stored: StoredPack[], text: string, html: string): Promise<void> {
  const mode = await prepareTarget(outDir);
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const stage = join(dirname(outDir), `.${basename(outDir)}.${tag}.staging`);
  const old = join(dirname(outDir), `.${basename(outDir)}.${tag}.old`);
  await mkdir(stage);
  try {
    const bySlugVersion = new Map(stored.map((p) => [`${p.manifest.slug}@${p.manifest.version}`, p]));
    const packOf = (f: SiteFile) => bySlugVersion.get(`${f.slug}@${f.version}`)!;
    // feed.ts lists each archive before its signature: the signature is checked against the
    // bytes just copied (and hashed) into the stage.
    const digests = new Map<string, Buffer>();
    for (const file of build.files) {
      if (file.kind === 'archive') digests.set(file.sitePath, await copyArchive(packOf(file), file, stage));
      else if (file.kind === 'signature') {
        const archive = file.sitePath.slice(0, -'.minisig'.length);
        await copySignature(packOf(file), file, stage, digests.get(archive)!, join(stage, archive));
      }
    }
    const variantsByPack = new Map<StoredPack, Array<Extract<SiteFile, { kind: 'variant' }>>>();
    for (const file of build.files) {
      if (file.kind !== 'variant') continue;
      const pack = packOf(file);
      variantsByPack.set(pack, [...(variantsByPack.get(pack) ?? []), file]);
    }
    for (const [pack, files] of variantsByPack) {
      const staged = join(stage, archiveSitePath(pack.manifest.slug, pack.manifest.version));
      await extractVariants(pack, staged, files, stage);
    }
    await writeFile(join(stage, 'index.html'), html, { flag: 'wx' });
    await writeFile(join(stage, 'catalog.json'), text, { flag: 'wx' });
    // Last: the list of everything this publish wrote, so that the next one knows the folder.
    await writeFile(join(stage, SITE_MARKER), siteMarker(await siteFiles(stage)), { flag: 'wx' });
    if (mode === 'replace') {
      await rename(outDir, old);
      try {
        await rename(stage, outDir);
      } catch (err) {
        await rename(old, outDir);
        throw err;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      await rmdir(outDir).catch((err: unknown) => {
        if (errnoCode(err) !== 'ENOENT') throw err; // never anything but an empty folder
      });
      await rename(stage, outDir);
    }
  } catch (err) {
    await rm(stage, { recursive: true, force: true });
    throw err;
  }
}
