/**
 * The stat index: what packops learnt from reading a file, kept under the file's status,
 * like git's index. A record is (real path, size, mtime, ctime, inode, device) → facts about
 * the bytes the file held then: their SHA-256, and for a source image its header (format,
 * width, height, alpha). A record is used only while a stat of the path gives all five
 * values back unchanged; otherwise the file is read again and the record replaced.
 *
 * Why that is safe for a hostile pack: a pack's creator controls the bytes and may set the
 * mtime (`touch -d`), but not the ctime, inode or device of the copy on the building machine;
 * any write, rename over, truncate or `utimes` there sets the ctime to the current time. A
 * changed file therefore never matches its old record, and the cache key derived from the
 * SHA-256 (§5) stays a content hash: a stale variant cannot be reused.
 *
 * Racy files (git's "racily clean"): the clock that stamps ctime is coarse, so a file
 * changed in the same tick as it was read could keep its status. Facts read from a file
 * whose ctime is not at least RACY_MS older than the read are therefore not recorded (the
 * next run reads the file again); an output packops wrote itself is recorded at once (the
 * output folder is never an input of build).
 *
 * One index file per scope (a pack's real path): `<cache>/v1/index/<sha256(scope)>.json`,
 * read once per run and replaced whole (temp file + rename) when it changed: a warm run
 * costs a stat and a lookup per file, not a file read. Two runs at once: the last rename
 * wins, and either file holds only true records. Damaged or foreign: ignored (empty).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { readInputSync } from '../shared/input.js';
import type { ImageFormat } from '../shared/image-probe.js';

/** A file changed less than this long before it was read is not recorded (see above). */
export const RACY_MS = 2000;

/** An index larger than this is not one packops wrote (1,000 assets take about 1 MB). */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

export interface ProbeFacts {
  format: ImageFormat;
  width: number;
  height: number;
  hasAlpha: boolean;
  /** Frames the header declares (records written before frames were read lack it, and are probed again). */
  frames: number;
}

export interface StatFacts {
  sha256?: string;
  probe?: ProbeFacts;
}

/** [size, mtimeNs, ctimeNs, ino, dev] as decimal strings. */
type StatKey = [string, string, string, string, string];

interface StoredRecord {
  stat: StatKey;
  sha256?: string;
  probe?: ProbeFacts;
}

const SHA = /^[0-9a-f]{64}$/;
const FORMATS = new Set(['png', 'jpeg', 'webp', 'avif']);

function statKey(st: BigIntStats): StatKey {
  return [st.size.toString(), st.mtimeNs.toString(), st.ctimeNs.toString(), st.ino.toString(), st.dev.toString()];
}

function sameStat(a: StatKey, b: StatKey): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3] && a[4] === b[4];
}

function validProbe(p: unknown): p is ProbeFacts {
  const v = p as ProbeFacts | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    FORMATS.has(v.format) &&
    Number.isSafeInteger(v.width) &&
    v.width > 0 &&
    Number.isSafeInteger(v.height) &&
    v.height > 0 &&
    typeof v.hasAlpha === 'boolean' &&
    Number.isSafeInteger(v.frames) &&
    v.frames >= 1
  );
}

/** The records of an index file; anything malformed is dropped (a record is only an accelerator). */
function parseIndex(text: string): Map<string, StoredRecord> {
  const records = new Map<string, StoredRecord>();
  const doc = JSON.parse(text) as { version?: unknown; files?: unknown };
  if (doc?.version !== 1 || typeof doc.files !== 'object' || doc.files === null || Array.isArray(doc.files)) return records;
  for (const [path, raw] of Object.entries(doc.files as Record<string, unknown>)) {
    const r = raw as { stat?: unknown; sha256?: unknown; probe?: unknown } | null;
    if (typeof r !== 'object' || r === null || !Array.isArray(r.stat) || r.stat.length !== 5) continue;
    if (!r.stat.every((x) => typeof x === 'string' && /^\d+$/.test(x))) continue;
    const record: StoredRecord = { stat: r.stat as StatKey };
    if (typeof r.sha256 === 'string' && SHA.test(r.sha256)) record.sha256 = r.sha256;
    if (validProbe(r.probe)) record.probe = { format: r.probe.format, width: r.probe.width, height: r.probe.height, hasAlpha: r.probe.hasAlpha, frames: r.probe.frames };
    if (record.sha256 !== undefined || record.probe !== undefined) records.set(path, record);
  }
  return records;
}

export class StatIndex {
  private dirty = false;
  /** The index file's own status when last read or written (to notice another process's save). */
  private seen: string | undefined;

  private constructor(
    /** The index file, or undefined for one kept in memory only (the cache folder is unusable). */
    readonly file: string | undefined,
    private readonly tmpDir: string | undefined,
    private records: Map<string, StoredRecord>,
  ) {}

  /** The index of `scope` under a cache layout root (one instance per file in a process, re-read when the file changed). */
  static open(root: string | undefined, scope: string): StatIndex {
    if (root === undefined) return new StatIndex(undefined, undefined, new Map());
    const file = join(root, 'index', `${createHash('sha256').update(scope).digest('hex')}.json`);
    let index = OPEN.get(file);
    const now = fileStatus(file);
    if (index === undefined || (now !== index.seen && !index.dirty)) {
      index = new StatIndex(file, join(root, 'tmp'), now === undefined ? new Map() : load(file));
      index.seen = now;
      OPEN.set(file, index);
    }
    return index;
  }

  /** The facts recorded for `path` when `st` (a fresh stat of it) still matches their record. */
  lookup(path: string, st: BigIntStats): StatFacts | undefined {
    const r = this.records.get(path);
    if (r === undefined || !sameStat(r.stat, statKey(st))) return undefined;
    return r;
  }

  /**
   * Records facts about the bytes `path` held while `st` described it (read at `readAt`,
   * ms since the epoch; omitted for a file packops wrote itself). Facts of the same status
   * are merged; a new status replaces the old record. Racy reads are not recorded.
   */
  record(path: string, st: BigIntStats, facts: StatFacts, readAt?: number): void {
    if (readAt !== undefined && Number(st.ctimeNs / 1_000_000n) > readAt - RACY_MS) return;
    const key = statKey(st);
    const old = this.records.get(path);
    const merged: StoredRecord = old !== undefined && sameStat(old.stat, key) ? { ...old, ...facts, stat: key } : { ...facts, stat: key };
    this.records.set(path, merged);
    this.dirty = true;
  }

  /** Writes the index when it changed (temp file, then one rename); a failure only costs the next run reads. */
  save(): void {
    if (this.file === undefined || this.tmpDir === undefined) return;
    if (!this.dirty) {
      // Last use, for `assets cache prune --older-than` (which removes unused index files).
      try {
        const now = new Date();
        utimesSync(this.file, now, now);
        this.seen = fileStatus(this.file);
      } catch {
        // No index file yet (nothing recorded), or removed meanwhile.
      }
      return;
    }
    const files: Record<string, StoredRecord> = Object.create(null) as Record<string, StoredRecord>;
    for (const [path, r] of this.records) files[path] = r;
    const tmp = join(this.tmpDir, `index.${process.pid}.${randomBytes(6).toString('hex')}`);
    try {
      writeFileSync(tmp, `${JSON.stringify({ version: 1, files })}\n`, { flag: 'wx' });
      mkdirSync(join(this.file, '..'), { recursive: true });
      renameSync(tmp, this.file);
      this.dirty = false;
      this.seen = fileStatus(this.file);
    } catch {
      rmSync(tmp, { force: true });
    }
  }
}

const OPEN = new Map<string, StatIndex>();

function fileStatus(file: string): string | undefined {
  try {
    const st = statSync(file, { bigint: true });
    return statKey(st).join(':');
  } catch {
    return undefined;
  }
}

function load(file: string): Map<string, StoredRecord> {
  try {
    return parseIndex(readInputSync(file, { what: 'stat index', maxBytes: MAX_INDEX_BYTES }).toString('utf8'));
  } catch {
    return new Map();
  }
}
