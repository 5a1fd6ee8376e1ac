/**
 * Installing a built archive and its detached signature, so that a reader of the output
 * folder never sees a zip beside a signature of another zip.
 *
 * Both are written to temporary files beside their targets (`.<name>.<pid>.<hex>.packops.tmp`,
 * removed on SIGINT/SIGTERM; a later build removes those of a killed one) and flushed; then,
 * under the folder's install lock:
 *
 *   1. the predecessor's `.minisig` is removed (if any),
 *   2. the new zip is renamed into place,
 *   3. the new `.minisig` is renamed into place.
 *
 * At every instant the pair is either matching (old or new) or the zip has no signature,
 * which `verify` reports as SIGNATURE_MISSING: a build killed at any point never leaves a
 * zip that looks complete beside a signature that is not its own. The three steps are
 * synchronous, so a SIGINT/SIGTERM (handled between event-loop turns) never lands between
 * them; SIGKILL may, and leaves one of the states above.
 *
 * The lock (`.<zip>.install.packops.lock`, holding its owner's pid; src/shared/lock.ts) keeps
 * two builds of the same archive into one folder (two CI jobs) from interleaving those steps.
 * A lock whose owner is gone (SIGKILL during an install) is taken over; one a live process
 * keeps past the wait is OUTPUT_BUSY (exit 4).
 *
 * Test hook: PACKOPS_TEST_INSTALL_PAUSE_MS=<ms> waits that long once both temporary files
 * are complete (asynchronously: a SIGTERM then removes them), and again before each of the
 * three steps (synchronously, as the steps run), so that tests can kill the process at each
 * point (test/archive/killed-build.e2e.test.ts). It does nothing else and is read only here.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, constants } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from '../shared/errors.js';
import { takeLockSync } from '../shared/lock.js';
import { displayPath } from '../shared/paths.js';

/** How long a build waits for another one installing the same archive (they take milliseconds). */
const LOCK_WAIT_MS = 60_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function pauseForTests(env: NodeJS.ProcessEnv): void {
  const ms = Number(env.PACKOPS_TEST_INSTALL_PAUSE_MS);
  if (Number.isFinite(ms) && ms > 0) sleepSync(Math.min(ms, 10_000));
}

/** The test hook's wait before the install (see above); resolves at once without it. */
export async function pauseBeforeInstall(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const ms = Number(env.PACKOPS_TEST_INSTALL_PAUSE_MS);
  if (Number.isFinite(ms) && ms > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(ms, 10_000)));
}

function lockPathFor(zipPath: string): string {
  return join(dirname(zipPath), `.${basename(zipPath)}.install.packops.lock`);
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    // Not every file system lets a folder be flushed; the renames are done either way.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Moves the flushed temporary zip (and signature) into place in the order above. Without a
 * signature (a rebuild compares bytes and signs nothing), only the zip is renamed.
 */
export function installArchive(
  zip: { tmp: string; path: string },
  sig: { tmp: string; path: string } | undefined,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const release = takeLockSync(lockPathFor(zip.path), { waitMs: LOCK_WAIT_MS, what: `the archive ${displayPath(zip.path)}` });
  try {
    if (sig) {
      pauseForTests(env);
      try {
        unlinkSync(sig.path);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
      }
    }
    pauseForTests(env);
    renameSync(zip.tmp, zip.path);
    if (sig) {
      pauseForTests(env);
      renameSync(sig.tmp, sig.path);
    }
    fsyncDir(dirname(zip.path));
  } finally {
    release();
  }
}
