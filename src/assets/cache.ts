/**
 * The variant cache of `packops assets`. An entry holds every variant of one source, keyed
 * by SHA-256 of (source bytes' SHA-256, the variant settings, sharp/libvips versions). A
 * size+mtime+inode index stands in for re-hashing unchanged sources, so a warm run reads
 * no image and decodes nothing. Entries are checked against their recorded SHA-256 when
 * restored: a damaged entry is a miss, never a wrong output.
 *
 * The per-asset file work (hashing a source, reading and writing entries) is synchronous on
 * purpose: sharp's encodes occupy libuv's thread pool, and async fs calls would queue
 * behind whole encodes, leaving the CPU idle between images.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeFileAtomicSync } from '../shared/atomic.js';
import type { ImageFormat } from './rules.js';

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
}

interface IndexRecord {
  size: number;
  mtimeNs: string;
  ino: number;
  sha256: string;
}

interface IndexFile {
  version: 1;
  sources: Record<string, IndexRecord>;
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

export interface AssetCacheOptions {
  /** Look entries and the source index up (false for --no-cache: work is forced, results still stored). */
  read: boolean;
}

export class AssetCache {
  private index: IndexFile = { version: 1, sources: {} };
  private indexChanged = false;

  private constructor(
    readonly dir: string,
    private readonly options: AssetCacheOptions,
  ) {}

  static async open(dir: string, options: AssetCacheOptions): Promise<AssetCache> {
    const cache = new AssetCache(dir, options);
    // Loaded even under --no-cache (which only stops trusting it), so that saving it
    // keeps the records of other packs sharing the cache folder.
    try {
      const parsed = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as IndexFile;
      if (parsed?.version === 1 && typeof parsed.sources === 'object' && parsed.sources !== null) cache.index = parsed;
    } catch {
      // No index yet, or an unreadable one: every source is hashed again.
    }
    return cache;
  }

  /**
   * SHA-256 of a source file: from the index when size, mtime and inode are unchanged
   * (and the cache is read), otherwise by reading the file.
   */
  async sourceDigest(path: string): Promise<{ sha256: string; bytes: number }> {
    const st = statSync(path, { bigint: true });
    const record = this.index.sources[path];
    const mtimeNs = st.mtimeNs.toString();
    if (
      this.options.read &&
      record !== undefined &&
      record.size === Number(st.size) &&
      record.mtimeNs === mtimeNs &&
      record.ino === Number(st.ino)
    ) {
      return { sha256: record.sha256, bytes: record.size };
    }
    const sha256 = sha256Hex(readFileSync(path));
    this.index.sources[path] = { size: Number(st.size), mtimeNs, ino: Number(st.ino), sha256 };
    this.indexChanged = true;
    return { sha256, bytes: Number(st.size) };
  }

  private entryDir(key: string): string {
    return join(this.dir, 'objects', key.slice(0, 2), key);
  }

  /** The entry for `key` with every variant's bytes verified, or undefined (a miss). */
  async get(key: string): Promise<CacheEntry | undefined> {
    if (!this.options.read) return undefined;
    const dir = this.entryDir(key);
    try {
      const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as CacheEntryMeta;
      if (meta.version !== 1 || meta.key !== key || !Array.isArray(meta.variants)) return undefined;
      const data = new Map<string, Buffer>();
      for (const v of meta.variants) {
        const bytes = readFileSync(join(dir, v.file));
        if (bytes.length !== v.bytes || sha256Hex(bytes) !== v.sha256) return undefined;
        data.set(v.name, bytes);
      }
      return { meta, data };
    } catch {
      return undefined;
    }
  }

  /** Stores an entry: the variant files first, meta.json last (its presence marks a whole entry). */
  async put(meta: CacheEntryMeta, data: ReadonlyMap<string, Uint8Array>): Promise<void> {
    const dir = this.entryDir(meta.key);
    for (const v of meta.variants) {
      const bytes = data.get(v.name);
      if (bytes === undefined) throw new Error(`cache entry ${meta.key} lacks variant ${v.name}`);
      // No fsync: an entry is verified against its SHA-256 whenever it is read.
      writeFileAtomicSync(join(dir, v.file), bytes, { sync: false });
    }
    writeFileAtomicSync(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`, { sync: false });
  }

  /** Writes the source index if it changed. */
  async save(): Promise<void> {
    if (!this.indexChanged) return;
    const sorted = Object.fromEntries(Object.entries(this.index.sources).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    await writeFileAtomic(join(this.dir, 'index.json'), `${JSON.stringify({ version: 1, sources: sorted }, null, 2)}\n`);
    this.indexChanged = false;
  }
}
