/**
 * Writing outputs. The one place packops makes output folders and writes output files:
 *
 * - Folders are made one component at a time (never Node's recursive mkdir, which loops
 *   forever on `/proc/...`), and every existing component must be a folder.
 * - Below the folder the user pointed at (`base`), a symbolic link is refused: packops never
 *   follows a link it finds there out of where the user pointed. The user's own path may hold
 *   links (they typed it).
 * - `/proc` and `/sys` are refused as output places.
 * - A target that exists and is not a regular file (a device node, a FIFO, a socket, a
 *   folder) is never replaced.
 * - Content goes to a temporary file beside the target, is flushed, and is renamed over the
 *   target: a failed or interrupted command never leaves a half-written file. Temporary
 *   names end in `.packops.tmp`, are removed on SIGINT/SIGTERM, and a later run may remove
 *   leftovers of a killed one (`removeStaleTemps`).
 *
 * Failures are PackopsErrors: OUTPUT_NOT_REGULAR or OUTPUT_UNWRITABLE (exit 3).
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import {
  closeSync,
  constants,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { errnoCode, inputError, PackopsError } from './errors.js';
import { fileKind } from './input.js';
import { displayPath, isInside } from './paths.js';

/** Temporary files end with this, so that a later run recognises a killed run's leftovers. */
export const TEMP_SUFFIX = '.packops.tmp';

/** statfs magic numbers of file systems that are not places for output (their files lie). */
const SPECIAL_FS = new Map<number, string>([
  [0x9fa0, '/proc'],
  [0x62656572, '/sys'],
  [0x1cd1, 'devpts'],
  [0x73636673, 'securityfs'],
  [0x64626720, 'debugfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
]);

export interface OutputPlace {
  /** Base for the paths shown in messages (default: process.cwd()). */
  cwd?: string;
  /**
   * The folder the user pointed at. Components of `base` itself may be links (the user typed
   * them); below it, every existing component must be a real folder, never a link.
   * Default: the folder being made (links are followed only on the way to it).
   */
  base?: string;
}

function unwritable(path: string, reason: string, place: OutputPlace, cause?: unknown, errno = errnoCode(cause)): PackopsError {
  const shown = displayPath(path, place.cwd ?? process.cwd());
  return inputError('OUTPUT_UNWRITABLE', `Cannot write ${shown}: ${reason}.`, {
    hint: 'Choose an output path in a folder that can be created and written.',
    details: { path: shown, ...(errno !== undefined ? { errno } : {}) },
    ...(cause !== undefined ? { cause } : {}),
  });
}

function asOutputError(err: unknown, path: string, place: OutputPlace): unknown {
  if (err instanceof PackopsError) return err;
  const code = errnoCode(err);
  if (code === undefined || !/^E[A-Z0-9]+$/.test(code)) return err;
  return unwritable((err as NodeJS.ErrnoException).path ?? path, code, place, err);
}

function refuseSpecialFs(path: string, place: OutputPlace): void {
  let type: number;
  try {
    type = statfsSync(path).type;
  } catch {
    return;
  }
  const name = SPECIAL_FS.get(type);
  if (name !== undefined) throw unwritable(path, `it is on ${name}, a special file system, not a place for output`, place);
}

/**
 * Walks the folders of `target` from the root, as every output place is reached: each
 * existing component must be a folder, and below `base` none may be a link. With `create`,
 * missing folders are made (one at a time, never Node's recursive mkdir); without, the walk
 * makes nothing and returns false at the first missing one. Never hangs.
 */
function walkFolders(target: string, base: string, place: OutputPlace, create: boolean): boolean {
  const parts = target.split(sep).filter((p) => p !== '');
  let current: string = sep;
  let lastExisting: string = sep;
  for (const part of parts) {
    current = join(current, part);
    const belowBase = current !== base && current.startsWith(base + sep);
    let info: Stats | undefined;
    try {
      info = belowBase ? lstatSync(current) : statSync(current);
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOENT') throw asOutputError(err, current, place);
    }
    if (info === undefined) {
      if (!create) return false;
      refuseSpecialFs(lastExisting, place);
      try {
        mkdirSync(current);
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw asOutputError(err, current, place);
        // Made by someone else meanwhile: check it like an existing one.
        info = belowBase ? lstatSync(current) : statSync(current);
      }
    }
    if (info !== undefined) {
      if (info.isSymbolicLink()) {
        throw unwritable(current, 'it is a symbolic link inside the output folder; packops does not follow links out of where it was pointed', place);
      }
      if (!info.isDirectory()) throw unwritable(current, `it is ${fileKind(info)}, not a folder`, place, undefined, 'ENOTDIR');
    }
    lastExisting = current;
  }
  return true;
}

/**
 * Makes the folder `dir` (and any missing parents), one component at a time. Existing
 * components must be folders; below `place.base`, they must not be links. Never hangs.
 */
export function ensureOutputDir(dir: string, place: OutputPlace = {}): void {
  const target = resolve(place.cwd ?? process.cwd(), dir);
  const base = place.base !== undefined ? resolve(place.cwd ?? process.cwd(), place.base) : target;
  walkFolders(target, base, place, true);
  refuseSpecialFs(target, place);
}

/**
 * What is at `target` inside an output place, found the way `ensureOutputDir` goes (and
 * making nothing): `target` must be inside `place.base` by name, every folder on the way
 * a real folder, and below `base` never a link. Returns the `lstat` of `target` itself (a
 * link there is reported as a link, never followed), or undefined when it or a folder on
 * the way does not exist. Throws OUTPUT_UNWRITABLE when the way leaves `base` or passes a
 * link or a file. For outputs packops may read back, replace or remove, whose names come
 * from a file that is not trusted (a lock in a pack's output folder).
 */
export function statOutput(target: string, place: OutputPlace & { base: string }): Stats | undefined {
  const cwd = place.cwd ?? process.cwd();
  const abs = resolve(cwd, target);
  const base = resolve(cwd, place.base);
  if (abs === base || !isInside(abs, base)) throw unwritable(abs, `it is not inside ${displayPath(base, cwd)}`, place);
  if (!walkFolders(dirname(abs), base, place, false)) return undefined;
  try {
    return lstatSync(abs);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw asOutputError(err, abs, place);
  }
}

/**
 * Checks that `target` may be replaced: missing, a regular file or a link (a rename replaces
 * the link itself, never what it points at). A device node, FIFO or socket is OUTPUT_NOT_REGULAR;
 * a folder in the way is OUTPUT_UNWRITABLE.
 */
export function assertReplaceable(target: string, place: OutputPlace = {}): void {
  let info: Stats;
  try {
    info = lstatSync(target);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw asOutputError(err, target, place);
  }
  if (info.isFile() || info.isSymbolicLink()) return;
  if (info.isDirectory()) throw unwritable(target, 'a folder is in the way', place, undefined, 'EISDIR');
  const shown = displayPath(target, place.cwd ?? process.cwd());
  throw inputError('OUTPUT_NOT_REGULAR', `${shown} exists and is ${fileKind(info)}; packops only replaces regular files.`, {
    hint: 'Choose another output path, or remove what is there if you mean to replace it.',
    details: { path: shown },
  });
}

/** Makes the folder of `target` and checks `target` may be replaced. */
export function prepareOutputFile(target: string, place: OutputPlace = {}): void {
  ensureOutputDir(dirname(target), { ...place, base: place.base ?? dirname(target) });
  assertReplaceable(target, place);
}

// Temporary files of this process, removed if it is interrupted.
const liveTemps = new Set<string>();
let handlersInstalled = false;

function onSignal(signal: NodeJS.Signals): void {
  for (const tmp of liveTemps) {
    try {
      rmSync(tmp, { force: true, recursive: true });
    } catch {
      // Best effort: the suffix lets a later run recognise it.
    }
  }
  liveTemps.clear();
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  process.kill(process.pid, signal);
}

/** Registers a temporary path to be removed if the process is interrupted (SIGINT, SIGTERM). */
export function trackTemp(path: string): () => void {
  if (!handlersInstalled) {
    handlersInstalled = true;
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  liveTemps.add(path);
  return () => liveTemps.delete(path);
}

/**
 * Removes leftovers of killed runs in `dir`: our temporary files (`.<name>.<pid>.<hex>.packops.tmp`)
 * whose process is gone. Never touches anything else.
 */
export function removeStaleTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^\..+\.(\d+)\.[0-9a-f]{8}\.packops\.tmp$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    try {
      const info = lstatSync(join(dir, name));
      if (info.isFile()) rmSync(join(dir, name), { force: true });
    } catch {
      // Gone already, or not ours to remove.
    }
  }
}

/** Whether a process with this id exists (one we may not signal counts: it is alive). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

export interface AtomicWriteOptions {
  /** File mode for a new file (e.g. 0o600 for secrets). */
  mode?: number;
  /**
   * Flush the data to disk before the rename (default true). false keeps the write atomic
   * (temporary file + rename: never half a file) but skips the fsync, for many small
   * outputs whose hashes are recorded elsewhere (asset variants, cache entries).
   */
  sync?: boolean;
}

export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
}

/** Where to write and how: `place` for the folder checks (see `ensureOutputDir`). */
export type WriteOptions = AtomicWriteOptions & OutputPlace;

/** Opens a new temporary file beside `target` (O_EXCL: never an existing file or link). */
function openTemp(target: string, mode: number | undefined, place: OutputPlace): { tmp: string; fd: number; untrack: () => void } {
  const tmp = tempPathFor(target);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), mode ?? 0o644);
  } catch (err) {
    throw asOutputError(err, target, place);
  }
  return { tmp, fd, untrack: trackTemp(tmp) };
}

export async function writeFileAtomic(target: string, data: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
  writeFileAtomicSync(target, data, options);
}

/**
 * `writeFileAtomic` without the libuv thread pool: for many small outputs written between
 * CPU-bound native work that occupies the pool (sharp), where each async fs call would
 * queue behind a whole image encode.
 */
export function writeFileAtomicSync(target: string, data: string | Uint8Array, options: WriteOptions = {}): void {
  prepareOutputFile(target, options);
  const { tmp, fd, untrack } = openTemp(target, options.mode, options);
  try {
    try {
      writeFileSync(fd, data);
      if (options.sync !== false) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw asOutputError(err, target, options);
  } finally {
    untrack();
  }
}

/**
 * Several files that land together or not at all, written as they become ready: each
 * `put` goes to a temporary file beside its target (flushed, off the event loop), and only
 * `commit` renames them into place, once every target has its content. Every target is
 * checked when the set is made, so a bad place fails before any work. `abort` (or a failed
 * `put`/`commit`) removes every temporary file and leaves the targets as they were.
 */
export interface StagedFiles {
  put(target: string, data: string | Uint8Array, mode?: number): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export function stageFiles(targets: readonly string[], place: OutputPlace = {}): StagedFiles {
  for (const target of targets) prepareOutputFile(target, place);
  const expected = new Set(targets);
  const staged = new Map<string, { tmp: string; untrack: () => void }>();
  const pending = new Set<string>();
  let settled = false;
  const abort = async (): Promise<void> => {
    settled = true;
    const temps = [...staged.values()];
    staged.clear();
    await Promise.all(temps.map((s) => rm(s.tmp, { force: true })));
    for (const s of temps) s.untrack();
  };
  const fail = async (err: unknown, path: string): Promise<never> => {
    await abort();
    throw asOutputError(err, path, place);
  };
  return {
    async put(target, data, mode) {
      if (settled) throw new Error('stageFiles: put after commit or abort');
      if (!expected.has(target) || staged.has(target) || pending.has(target)) throw new Error(`stageFiles: ${target} is not an expected target, or is put twice`);
      pending.add(target);
      const tmp = tempPathFor(target);
      const untrack = trackTemp(tmp);
      let handle: FileHandle | undefined;
      try {
        handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), mode ?? 0o644);
        staged.set(target, { tmp, untrack });
        await handle.writeFile(data);
        await handle.sync();
      } catch (err) {
        await handle?.close().catch(() => undefined);
        if (!staged.has(target)) untrack();
        return fail(err, target);
      } finally {
        pending.delete(target);
      }
      await handle.close();
    },
    async commit() {
      if (settled) throw new Error('stageFiles: commit after commit or abort');
      const missing = targets.filter((t) => !staged.has(t));
      if (missing.length > 0) {
        await abort();
        throw new Error(`stageFiles: commit without ${missing.length} file(s), first ${missing[0]}`);
      }
      try {
        for (const target of targets) await rename(staged.get(target)!.tmp, target);
      } catch (err) {
        return fail(err, targets[0] ?? '.');
      }
      settled = true;
      for (const s of staged.values()) s.untrack();
      staged.clear();
    },
    abort,
  };
}

/**
 * Writes several files so that either all of them land or none does: each goes to a
 * temporary file first; only when every one is written are they renamed into place.
 */
export async function writeFilesAtomic(
  files: ReadonlyArray<{ path: string; data: string | Uint8Array; mode?: number }>,
  place: OutputPlace = {},
): Promise<void> {
  const staged = stageFiles(
    files.map((f) => f.path),
    place,
  );
  for (const file of files) await staged.put(file.path, file.data, file.mode);
  await staged.commit();
}
