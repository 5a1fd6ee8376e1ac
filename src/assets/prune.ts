/**
 * `packops assets cache prune`: the assets cache only grows otherwise. Entries not used for
 * `olderThanDays` are removed, then the least recently used ones until the cache holds at
 * most `maxBytes`. An entry's last use is the mtime of its meta.json (a hit touches it).
 *
 * Safe beside running packops processes: an entry is moved into tmp/ with one rename and
 * then deleted, so a reader sees a whole entry or none (a miss, re-made). Stat-index files
 * (and older per-file source records) follow the same age rule; staging leftovers of killed
 * runs older than an hour go.
 */
import { readdirSync, renameSync, rmSync, statSync, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { errnoCode } from '../shared/errors.js';
import { CACHE_LAYOUT } from './cache.js';

export interface PruneOptions {
  /** Remove entries last used more than this many days ago. */
  olderThanDays?: number;
  /** Then remove least recently used entries until at most this many bytes remain. */
  maxBytes?: number;
  /** The clock (tests pass a fixed one). */
  now?: Date;
}

export interface PruneCounts {
  entries: number;
  bytes: number;
}

export interface PruneResult {
  cacheDir: string;
  removed: PruneCounts;
  kept: PruneCounts;
  /** Stat-index files and older per-file source records removed (tiny; counted apart from entries). */
  sourceRecordsRemoved: number;
}

interface EntryInfo {
  dir: string;
  bytes: number;
  lastUsed: number;
}

const DAY_MS = 86_400_000;
const STALE_TEMP_MS = 3_600_000;

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Sizes and last use of every entry under objects/. */
function scanEntries(root: string): EntryInfo[] {
  const entries: EntryInfo[] = [];
  const objects = join(root, 'objects');
  for (const shard of list(objects)) {
    for (const key of list(join(objects, shard))) {
      const dir = join(objects, shard, key);
      let bytes = 0;
      let newest = 0;
      for (const name of list(dir)) {
        const st = statOrUndefined(join(dir, name));
        if (!st?.isFile()) continue;
        bytes += st.size;
        newest = Math.max(newest, st.mtimeMs);
      }
      const meta = statOrUndefined(join(dir, 'meta.json'));
      entries.push({ dir, bytes, lastUsed: meta?.mtimeMs ?? newest });
    }
  }
  return entries;
}

/** Takes a folder out of the cache with one rename, then deletes it. False if it was gone. */
function remove(root: string, dir: string): boolean {
  const trash = join(root, 'tmp', `prune.${process.pid}.${randomBytes(6).toString('hex')}`);
  try {
    renameSync(dir, trash);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
  rmSync(trash, { recursive: true, force: true });
  return true;
}

export function pruneCache(cacheDir: string, options: PruneOptions): PruneResult {
  const root = join(cacheDir, CACHE_LAYOUT);
  const now = (options.now ?? new Date()).getTime();
  const cutoff = options.olderThanDays !== undefined ? now - options.olderThanDays * DAY_MS : undefined;
  const removed: PruneCounts = { entries: 0, bytes: 0 };
  const kept: PruneCounts = { entries: 0, bytes: 0 };

  // Oldest first, so the size limit drops the least recently used.
  const entries = scanEntries(root).sort((a, b) => a.lastUsed - b.lastUsed || (a.dir < b.dir ? -1 : 1));
  let total = entries.reduce((n, e) => n + e.bytes, 0);
  for (const e of entries) {
    const tooOld = cutoff !== undefined && e.lastUsed < cutoff;
    const tooBig = options.maxBytes !== undefined && total > options.maxBytes;
    if ((tooOld || tooBig) && remove(root, e.dir)) {
      removed.entries += 1;
      removed.bytes += e.bytes;
      total -= e.bytes;
    } else {
      kept.entries += 1;
      kept.bytes += e.bytes;
    }
  }

  let sourceRecordsRemoved = 0;
  if (cutoff !== undefined) {
    // Stat-index files (one per pack, rewritten by each run that learnt something) and the
    // per-file records of earlier versions follow the same age rule.
    const index = join(root, 'index');
    for (const name of list(index)) {
      const st = statOrUndefined(join(index, name));
      if (st?.isFile() && st.mtimeMs < cutoff) {
        rmSync(join(index, name), { force: true });
        sourceRecordsRemoved += 1;
      }
    }
    const sources = join(root, 'sources');
    for (const shard of list(sources)) {
      for (const name of list(join(sources, shard))) {
        const path = join(sources, shard, name);
        const st = statOrUndefined(path);
        if (st?.isFile() && st.mtimeMs < cutoff) {
          rmSync(path, { force: true });
          sourceRecordsRemoved += 1;
        }
      }
    }
  }
  // Staging folders and files of runs that were killed (a live run's are minutes old at most).
  const tmp = join(root, 'tmp');
  for (const name of list(tmp)) {
    const st = statOrUndefined(join(tmp, name));
    if (st && now - st.mtimeMs > STALE_TEMP_MS) rmSync(join(tmp, name), { recursive: true, force: true });
  }
  return { cacheDir, removed, kept, sourceRecordsRemoved };
}
