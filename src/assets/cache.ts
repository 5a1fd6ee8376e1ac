/**
 * The variant cache of `packops assets` (and of `build` and `release`, which run it).
 *
 * Trust: the cache is packops's own, in a folder packops wrote itself, outside any pack
 * (`defaultCacheDir`: `$PACKOPS_CACHE_DIR`, else `$XDG_CACHE_HOME/packops`, else
 * `~/.cache/packops`; `--cache-dir` moves it). A pack folder is a creator's input and
 * anything in it, a `.packops/cache` included, is never read as a cache.
 *
 * Layout under `<dir>/v1/`:
 * - `objects/<k[0..2]>/<key>/`: one entry per source and settings, keyed by SHA-256 of
 *   (the source's SHA-256, every variant's settings, sharp/libvips versions). It holds the
 *   variant files and `meta.json`, which records each variant's size and SHA-256 and its own
 *   SHA-256 (`sum`). An entry is staged in `tmp/` and renamed into place whole: readers
 *   never see half an entry, and two processes storing the same key keep one (the first
 *   rename wins, the other's copy is dropped). A damaged entry (any byte off) is a miss: it
 *   is moved aside and made again.
 * - `index/<sha256(pack real path)>.json`: the stat index (stat-index.ts): per file, its
 *   size, mtime, ctime, inode and device with the SHA-256 (and, for a source image, the
 *   header) of the bytes it held, so that an unchanged file is not read again; the variant
 *   files packops wrote into an output folder are recorded the same way, so that an output
 *   that still holds what packops wrote is not read again to be compared. This index is
 *   trusted only because it lives here; nothing in a pack stands in for it.
 *
 * A hit costs a stat of the source, a lookup in the index, and reading the entry's variant
 * bytes (each checked against its SHA-256): never a decode. `build` asks for less
 * (`get(key, { verify: false })`): the entry's meta.json and a stat of each variant file;
 * it reads each variant once, checking its SHA-256 on its way into the archive (whose zip
 * header takes the CRC-32 recorded in meta.json), and a damaged entry found there is
 * discarded and made again (build.ts). Entry use is recorded
 * in the mtime of its `meta.json`, which `prune` reads.
 *
 * The per-asset file work is synchronous on purpose: sharp's encodes occupy libuv's thread
 * pool, and async fs calls would queue behind whole encodes, leaving the CPU idle.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, type BigIntStats } from 'node:fs';
import { homedir } from 'node:os';
import { crc32 } from 'node:zlib';
import { isAbsolute, join, resolve } from 'node:path';
import { errnoCode } from '../shared/errors.js';
import { probeImage, type ImageFormat, type ProbeOptions, type ProbeResult } from '../shared/image-probe.js';
import { StatIndex } from './stat-index.js';

/** Bump when the layout changes: an old layout is left alone (prune can remove it). */
export const CACHE_LAYOUT = 'v1';

export interface CachedVariantMeta {
  name: string;
  format: ImageFormat;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
  /**
   * The file's CRC-32, recorded when the entry is made (a fact about bytes of this SHA-256,
   * like the size): build writes the zip header from it and reads the file once. Entries
   * made before it was recorded lack it.
   */
  crc32?: number;
  /** File name inside the entry folder. */
  file: string;
}

export interface CacheEntryMeta {
  version: 1;
  key: string;
  placeholder: string;
  variants: CachedVariantMeta[];
}

export interface CacheEntry {
  meta: CacheEntryMeta;
  /** Variant bytes by variant name, each verified against its SHA-256. */
  data: Map<string, Buffer>;
  /** Where each variant's bytes are in the cache, by variant name (for build to stream). */
  files: Map<string, string>;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A stable key: the SHA-256 of canonical JSON (object keys sorted). */
export function cacheKey(parts: unknown): string {
  return sha256Hex(canonicalJson(parts));
}

/**
 * `cacheKey({ ...parts, [field]: value })` for many values of one field: the rest is made
 * canonical once (a pack's assets of one type share their settings).
 */
export function cacheKeyWith(parts: Record<string, unknown>, field: string): (value: string) => string {
  const mark = `\u0000${randomBytes(8).toString('hex')}\u0000`;
  const text = canonicalJson({ ...parts, [field]: mark });
  const at = text.indexOf(JSON.stringify(mark));
  const before = text.slice(0, at);
  const after = text.slice(at + JSON.stringify(mark).length);
  return (value) => sha256Hex(`${before}${JSON.stringify(value)}${after}`);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The per-user cache folder: `$PACKOPS_CACHE_DIR`, else `$XDG_CACHE_HOME/packops` (when it
 * is an absolute path, as the XDG spec requires), else `~/.cache/packops`.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  if (env.PACKOPS_CACHE_DIR) return resolve(env.PACKOPS_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'packops');
  return join(home, '.cache', 'packops');
}

export interface AssetCacheOptions {
  /** Look entries and the stat index up (false for --no-cache: work is forced, results still stored). */
  read: boolean;
  /**
   * Whose stat index to use: a pack's real path (one index file per pack). Without it, the
   * index lives in memory for this run only.
   */
  scope?: string;
  /** The clock for the racy-file rule (stat-index.ts; tests pass a fixed one). */
  clock?: () => number;
}

const KEY = /^[0-9a-f]{64}$/;
const ENTRY_FILE = /^[a-z0-9][a-z0-9_-]*\.(png|jpeg|webp|avif)$/;

/** meta.json: the entry's description and the SHA-256 of that description. */
function serializeMeta(meta: CacheEntryMeta): string {
  const body = canonicalJson(meta);
  return `{"sum":"${sha256Hex(body)}","meta":${body}}\n`;
}

const META_HEAD = '{"sum":"';
const META_MID = '","meta":';

/**
 * meta.json as serializeMeta writes it, its sum checked over the very bytes of the
 * description (any other spelling is damage: a miss, and the entry is made again).
 */
function parseMeta(text: string, key: string): CacheEntryMeta | undefined {
  const bodyAt = META_HEAD.length + 64 + META_MID.length;
  if (!text.startsWith(META_HEAD) || text.slice(META_HEAD.length + 64, bodyAt) !== META_MID || !text.endsWith('}\n')) return undefined;
  const body = text.slice(bodyAt, -2);
  if (text.slice(META_HEAD.length, META_HEAD.length + 64) !== sha256Hex(body)) return undefined;
  const meta = JSON.parse(body) as CacheEntryMeta;
  if (meta?.version !== 1 || meta.key !== key || !Array.isArray(meta.variants)) return undefined;
  for (const v of meta.variants) {
    if (typeof v.file !== 'string' || !ENTRY_FILE.test(v.file)) return undefined;
    if (v.crc32 !== undefined && !(Number.isInteger(v.crc32) && v.crc32 >= 0 && v.crc32 <= 0xffffffff)) return undefined;
  }
  return meta;
}

export class AssetCache {
  readonly root: string;

  /** Why the cache folder cannot be used (then every lookup misses and nothing is stored). */
  readonly problem: string | undefined;

  private readonly index: StatIndex;
  private readonly clock: () => number;

  private constructor(
    readonly dir: string,
    private readonly options: AssetCacheOptions,
    problem?: string,
  ) {
    this.root = join(dir, CACHE_LAYOUT);
    this.problem = problem;
    this.index = StatIndex.open(problem === undefined && options.scope !== undefined ? this.root : undefined, options.scope ?? '');
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Opens (and creates) the cache folder. One that cannot be made or written leaves the
   * cache off for this run (`problem` says why): the work is done, nothing is stored.
   */
  static async open(dir: string, options: AssetCacheOptions): Promise<AssetCache> {
    const root = resolve(dir);
    try {
      mkdirSync(join(root, CACHE_LAYOUT, 'tmp'), { recursive: true, mode: 0o700 });
      return new AssetCache(root, options);
    } catch (err) {
      return new AssetCache(root, { ...options, read: false }, errnoCode(err) ?? (err as Error).message);
    }
  }

  /**
   * SHA-256 of a source file: from the stat index when its size, mtime, ctime, inode and
   * device are unchanged (and the cache is read), otherwise by reading the file (and
   * recording it, unless it changed too recently to tell: stat-index.ts).
   */
  async sourceDigest(path: string): Promise<{ sha256: string; bytes: number }> {
    const st = statSync(path, { bigint: true });
    if (this.options.read) {
      const known = this.index.lookup(path, st)?.sha256;
      if (known !== undefined) return { sha256: known, bytes: Number(st.size) };
    }
    const readAt = this.clock();
    const sha256 = sha256Hex(readFileSync(path));
    this.index.record(path, st, { sha256 }, readAt);
    return { sha256, bytes: Number(st.size) };
  }

  /**
   * `probeImage` with the stat index in front: the header facts of an unchanged source are
   * taken from its record (the pixel limit applied to them again), others are read and
   * recorded. Only successful probes with the extension check on are recorded.
   */
  async probe(path: string, options: ProbeOptions): Promise<ProbeResult> {
    let st: BigIntStats | undefined;
    try {
      st = statSync(path, { bigint: true });
    } catch {
      // probeImage says what is wrong with the path.
    }
    const useIndex = st !== undefined && st.isFile() && options.checkExtension !== false;
    if (useIndex && this.options.read) {
      const known = this.index.lookup(path, st!)?.probe;
      if (known !== undefined && known.width * known.height <= options.maxPixels) return { ok: true, ...known, bytes: Number(st!.size) };
    }
    const readAt = this.clock();
    const result = await probeImage(path, options);
    if (useIndex && result.ok && result.bytes === Number(st!.size)) {
      this.index.record(path, st!, { probe: { format: result.format, width: result.width, height: result.height, hasAlpha: result.hasAlpha, frames: result.frames } }, readAt);
    }
    return result;
  }

  entryDir(key: string): string {
    if (!KEY.test(key)) throw new RangeError(`not a cache key: ${key}`);
    return join(this.root, 'objects', key.slice(0, 2), key);
  }

  /**
   * The entry for `key`, or undefined (a miss). With `verify` (the default) every variant's
   * bytes are read and checked against their SHA-256 (`data`); without, only their sizes are
   * checked (a stat each) and `data` is empty: the caller reads and checks them (`load`).
   */
  async get(key: string, { verify = true }: { verify?: boolean } = {}): Promise<CacheEntry | undefined> {
    if (!this.options.read) return undefined;
    const dir = this.entryDir(key);
    let meta: CacheEntryMeta | undefined;
    try {
      meta = parseMeta(readFileSync(join(dir, 'meta.json'), 'utf8'), key);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
    }
    const data = new Map<string, Buffer>();
    const files = new Map<string, string>();
    try {
      if (meta === undefined) throw new Error('damaged meta.json');
      for (const v of meta.variants) {
        const file = join(dir, v.file);
        if (verify) {
          const bytes = readFileSync(file);
          if (bytes.length !== v.bytes || sha256Hex(bytes) !== v.sha256) throw new Error(`damaged ${v.file}`);
          data.set(v.name, bytes);
        } else {
          const st = statSync(file);
          if (!st.isFile() || st.size !== v.bytes) throw new Error(`damaged ${v.file}`);
        }
        files.set(v.name, file);
      }
    } catch {
      this.discard(dir);
      return undefined;
    }
    const stamp = new Date();
    try {
      utimesSync(join(dir, 'meta.json'), stamp, stamp); // last use, for prune
    } catch {
      // Pruned meanwhile: the bytes are already read and verified.
    }
    return { meta, data, files };
  }

  /**
   * Stores an entry whole: staged in tmp/, then one rename. Returns where each variant's
   * bytes now are (by variant name), or undefined when the entry could not be stored.
   */
  async put(meta: CacheEntryMeta, data: ReadonlyMap<string, Uint8Array>): Promise<Map<string, string> | undefined> {
    if (this.problem !== undefined) return undefined;
    const dir = this.entryDir(meta.key);
    const stage = join(this.root, 'tmp', `${meta.key.slice(0, 16)}.${process.pid}.${randomBytes(6).toString('hex')}`);
    try {
      mkdirSync(stage, { recursive: true });
      for (const v of meta.variants) {
        const bytes = data.get(v.name);
        if (bytes === undefined || !ENTRY_FILE.test(v.file)) throw new Error(`cache entry ${meta.key} lacks variant ${v.name}`);
        writeFileSync(join(stage, v.file), bytes, { flag: 'wx' });
      }
      writeFileSync(join(stage, 'meta.json'), serializeMeta(meta), { flag: 'wx' });
      mkdirSync(join(dir, '..'), { recursive: true });
      try {
        renameSync(stage, dir);
      } catch (err) {
        // Another process stored this key first (entries are immutable): keep theirs.
        if (errnoCode(err) !== 'ENOTEMPTY' && errnoCode(err) !== 'EEXIST') throw err;
        rmSync(stage, { recursive: true, force: true });
      }
      return new Map(meta.variants.map((v) => [v.name, join(dir, v.file)]));
    } catch {
      rmSync(stage, { recursive: true, force: true });
      return undefined;
    }
  }

  /**
   * Reads the named variants of an entry got without `verify` into its `data`, each checked
   * against its SHA-256. false: the entry is damaged, and has been discarded (treat as a miss).
   */
  load(entry: CacheEntry, names: Iterable<string>): boolean {
    const byName = new Map(entry.meta.variants.map((v) => [v.name, v]));
    try {
      for (const name of names) {
        const v = byName.get(name);
        const file = entry.files.get(name);
        if (v === undefined || file === undefined) throw new Error(`no variant ${name}`);
        const bytes = readFileSync(file);
        if (bytes.length !== v.bytes || sha256Hex(bytes) !== v.sha256) throw new Error(`damaged ${v.file}`);
        entry.data.set(name, bytes);
      }
      return true;
    } catch {
      this.discard(this.entryDir(entry.meta.key));
      return false;
    }
  }

  /**
   * Records the CRC-32 of every variant of an entry made before they were recorded, from
   * its bytes read and checked by `load` (all of them). meta.json is replaced whole (one
   * rename; readers see the old or the new one, both true); an entry removed meanwhile is
   * left removed. Returns the entry with its new meta.
   */
  recordCrcs(entry: CacheEntry): CacheEntry {
    const variants = entry.meta.variants.map((v) => {
      const bytes = entry.data.get(v.name);
      return v.crc32 !== undefined || bytes === undefined ? v : { ...v, crc32: crc32(bytes) >>> 0 };
    });
    const meta: CacheEntryMeta = { ...entry.meta, variants };
    if (this.problem === undefined) {
      const tmp = join(this.root, 'tmp', `m.${process.pid}.${randomBytes(6).toString('hex')}`);
      try {
        writeFileSync(tmp, serializeMeta(meta), { flag: 'wx' });
        renameSync(tmp, join(this.entryDir(meta.key), 'meta.json'));
      } catch {
        rmSync(tmp, { force: true });
      }
    }
    return { ...entry, meta };
  }

  /** Discards the entry holding `file` (a variant file found damaged by its reader), if it is one. */
  discardEntryOf(file: string): boolean {
    const objects = join(this.root, 'objects');
    const rel = file.startsWith(`${objects}/`) ? file.slice(objects.length + 1).split('/') : [];
    if (rel.length !== 3 || !KEY.test(rel[1]!)) return false;
    this.discard(this.entryDir(rel[1]!));
    return true;
  }

  /**
   * Whether `path` still holds what packops wrote there (`recordOutput`): same size, mtime,
   * ctime, inode and device, and the same SHA-256 recorded. A stat and a lookup.
   */
  holds(path: string, sha256: string): boolean {
    return this.options.read && this.wrote(path, sha256);
  }

  /**
   * Whether the stat index records that packops wrote (or checked) `path` with bytes of this
   * SHA-256 and the file is unchanged since (a regular file, not a link). Unlike `holds`, it
   * answers with the cache off for reading too: it decides which stale outputs packops may
   * remove (only its own), not whether work can be skipped.
   */
  wrote(path: string, sha256: string): boolean {
    try {
      const st = lstatSync(path, { bigint: true });
      return st.isFile() && this.index.lookup(path, st)?.sha256 === sha256;
    } catch {
      return false;
    }
  }

  /** Records that `path` (as `st` describes it) holds bytes with this SHA-256, written or checked by packops. */
  recordOutput(path: string, sha256: string, st: BigIntStats): void {
    if (this.problem !== undefined || !KEY.test(sha256)) return;
    this.index.record(path, st, { sha256 });
  }

  /** Moves a damaged entry out of the way (one rename), then removes it. */
  private discard(dir: string): void {
    const trash = join(this.root, 'tmp', `discard.${process.pid}.${randomBytes(6).toString('hex')}`);
    try {
      renameSync(dir, trash);
      rmSync(trash, { recursive: true, force: true });
    } catch {
      // Gone already (another process discarded or pruned it).
    }
  }

  /** Writes the stat index if it changed (once per run). */
  async save(): Promise<void> {
    this.index.save();
  }
}
