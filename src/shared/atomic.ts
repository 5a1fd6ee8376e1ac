/**
 * Atomic writes: content goes to a temporary file beside the target, is flushed, and is
 * renamed over the target. A failed or interrupted command never leaves a half-written file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

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
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  const handle = await open(tmp, 'wx', options.mode ?? 0o644);
  try {
    await handle.writeFile(data);
    if (options.sync !== false) await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * `writeFileAtomic` without the libuv thread pool: for many small outputs written between
 * CPU-bound native work that occupies the pool (sharp), where each async fs call would
 * queue behind a whole image encode.
 */
export function writeFileAtomicSync(target: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  mkdirSync(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  const fd = openSync(tmp, 'wx', options.mode ?? 0o644);
  try {
    writeFileSync(fd, data);
    if (options.sync !== false) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Writes several files so that either all of them land or none does: each goes to a
 * temporary file first; only when every one is written are they renamed into place.
 */
export async function writeFilesAtomic(
  files: ReadonlyArray<{ path: string; data: string | Uint8Array; mode?: number }>,
): Promise<void> {
  const staged: Array<{ tmp: string; target: string }> = [];
  try {
    for (const file of files) {
      await mkdir(dirname(file.path), { recursive: true });
      const tmp = tempPathFor(file.path);
      const handle = await open(tmp, 'wx', file.mode ?? 0o644);
      staged.push({ tmp, target: file.path });
      try {
        await handle.writeFile(file.data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  } catch (err) {
    await Promise.all(staged.map((s) => rm(s.tmp, { force: true })));
    throw err;
  }
  for (const s of staged) await rename(s.tmp, s.target);
}
