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
 * - `sources/<h[0..2]>/<h>.json`, h = SHA-256 of a source's real path: the source's size,
 *   mtime, inode and device with its SHA-256, so an unchanged source is not read again. This
 *   index is trusted only because it lives here; nothing in a pack stands in for it.
 *
 *   The same index records the variant files packops wrote into an output folder (with their
 *   status-change time too, which no one can set back), so that an output that still holds
 *   what packops wrote is not read again to be compared.
 *
 * A hit costs a stat of the source, one small index read, and reading the entry's variant
 * bytes (each checked against its SHA-256): never a decode. `build` asks for less
 * (`get(key, { verify: false })`): the entry's meta.json and a stat of each variant file;
 * it reads each variant once, hashing it against the lock on its way into the archive, and
 * a damaged entry found there is discarded and made again (build.ts). Entry use is recorded
 * in the mtime of its `meta.json`, which `prune` reads.
 *
 * The per-asset file work is synchronous on purpose: sharp's encodes occupy libuv's thread
 * pool, and async fs calls would queue behind whole encodes, leaving the CPU idle.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, type BigIntStats } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { errnoCode } from '../shared/errors.js';
import type { ImageFormat } from '../shared/image-probe.js';

/** Bump when the layout changes: an old layout is left alone (prune can remove it). */
export const CACHE_LAYOUT = 'v1';

export interface CachedVariantMeta {
  name: string;
  format: ImageFormat;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
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

interface SourceRecord {
  path: string;
  size: number;
  mtimeNs: string;
  ino: string;
  dev: string;
  sha256: string;
  /** Output records only: the status-change time, which no one can set back. */
  ctimeNs?: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A stable key: the SHA-256 of canonical JSON (object keys sorted). */
export function cacheKey(parts: unknown): string {
  return sha256Hex(canonicalJson(parts));
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
  /** Look entries and the source index up (false for --no-cache: work is forced, results still stored). */
  read: boolean;
}

const KEY = /^[0-9a-f]{64}$/;
const ENTRY_FILE = /^[a-z0-9][a-z0-9_-]*\.(png|jpeg|webp|avif)$/;

/** meta.json: the entry's description and the SHA-256 of that description. */
function serializeMeta(meta: CacheEntryMeta): string {
  const body = canonicalJson(meta);
  return `{"sum":"${sha256Hex(body)}","meta":${body}}\n`;
}

function parseMeta(text: string, key: string): CacheEntryMeta | undefined {
  const parsed = JSON.parse(text) as { sum?: unknown; meta?: CacheEntryMeta };
  const meta = parsed?.meta;
  if (typeof parsed?.sum !== 'string' || meta === undefined || parsed.sum !== sha256Hex(canonicalJson(meta))) return undefined;
  if (meta.version !== 1 || meta.key !== key || !Array.isArray(meta.variants)) return undefined;
  for (const v of meta.variants) if (typeof v.file !== 'string' || !ENTRY_FILE.test(v.file)) return undefined;
  return meta;
}

export class AssetCache {
  readonly root: string;

  /** Why the cache folder cannot be used (then every lookup misses and nothing is stored). */
  readonly problem: string | undefined;

  private constructor(
    readonly dir: string,
    private readonly options: AssetCacheOptions,
    problem?: string,
  ) {
    this.root = join(dir, CACHE_LAYOUT);
    this.problem = problem;
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
      return new AssetCache(root, { read: false }, errnoCode(err) ?? (err as Error).message);
    }
  }

  private sourceRecordPath(path: string): string {
    const h = sha256Hex(path);
    return join(this.root, 'sources', h.slice(0, 2), `${h}.json`);
  }

  /**
   * SHA-256 of a source file: from the index when its size, mtime, inode and device are
   * unchanged (and the cache is read), otherwise by reading the file (and recording it).
   */
  async sourceDigest(path: string): Promise<{ sha256: string; bytes: number }> {
    const st = statSync(path, { bigint: true });
    const now = { path, size: Number(st.size), mtimeNs: st.mtimeNs.toString(), ino: st.ino.toString(), dev: st.dev.toString() };
    const recordPath = this.sourceRecordPath(path);
    if (this.options.read) {
      try {
        const r = JSON.parse(readFileSync(recordPath, 'utf8')) as SourceRecord;
        if (r.path === now.path && r.size === now.size && r.mtimeNs === now.mtimeNs && r.ino === now.ino && r.dev === now.dev && KEY.test(r.sha256)) {
          return { sha256: r.sha256, bytes: r.size };
        }
      } catch {
        // No record, or a damaged one: hash the file.
      }
    }
    const sha256 = sha256Hex(readFileSync(path));
    // The cache is an accelerator: a record that cannot be written costs the next run a hash.
    if (this.problem === undefined) this.writeAtomic(recordPath, `${JSON.stringify({ ...now, sha256 })}\n`);
    return { sha256, bytes: now.size };
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
   * status-change time, inode and device, and the same SHA-256 recorded. A stat and a lookup.
   */
  holds(path: string, sha256: string): boolean {
    if (!this.options.read) return false;
    try {
      const st = lstatSync(path, { bigint: true });
      if (!st.isFile()) return false;
      const r = JSON.parse(readFileSync(this.sourceRecordPath(path), 'utf8')) as SourceRecord;
      return (
        r.path === path &&
        r.sha256 === sha256 &&
        r.size === Number(st.size) &&
        r.mtimeNs === st.mtimeNs.toString() &&
        r.ctimeNs === st.ctimeNs.toString() &&
        r.ino === st.ino.toString() &&
        r.dev === st.dev.toString()
      );
    } catch {
      return false;
    }
  }

  /** Records that `path` (as `st` describes it) holds bytes with this SHA-256, written or checked by packops. */
  recordOutput(path: string, sha256: string, st: BigIntStats): void {
    if (this.problem !== undefined || !KEY.test(sha256)) return;
    const record: SourceRecord = {
      path,
      size: Number(st.size),
      mtimeNs: st.mtimeNs.toString(),
      ino: st.ino.toString(),
      dev: st.dev.toString(),
      sha256,
      ctimeNs: st.ctimeNs.toString(),
    };
    this.writeAtomic(this.sourceRecordPath(path), `${JSON.stringify(record)}\n`);
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

  private writeAtomic(path: string, text: string): void {
    const tmp = join(this.root, 'tmp', `w.${process.pid}.${randomBytes(6).toString('hex')}`);
    try {
      writeFileSync(tmp, text, { flag: 'wx' });
      mkdirSync(join(path, '..'), { recursive: true });
      renameSync(tmp, path);
    } catch {
      rmSync(tmp, { force: true });
    }
  }

  /** Kept for callers of the earlier index file; records are written as they are made. */
  async save(): Promise<void> {}
}
