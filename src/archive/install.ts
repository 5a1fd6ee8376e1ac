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
 * The lock (`.<zip>.install.packops.lock`, holding its owner's pid) keeps two builds of the
 * same archive into one folder (two CI jobs) from interleaving those steps. A lock whose
 * owner is gone (SIGKILL during an install) is taken over.
 *
 * Test hook: PACKOPS_TEST_INSTALL_PAUSE_MS=<ms> waits that long once both temporary files
 * are complete (asynchronously: a SIGTERM then removes them), and again before each of the
 * three steps (synchronously, as the steps run), so that tests can kill the process at each
 * point (test/archive/killed-build.e2e.test.ts). It does nothing else and is read only here.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync, constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from '../shared/errors.js';
import { processAlive } from '../shared/atomic.js';

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

function ownerOf(lock: string): number | undefined {
  try {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the install lock of `zipPath` (waiting for a live owner), returns its release. */
function takeLock(zipPath: string): () => void {
  const lock = lockPathFor(zipPath);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o644);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return () => rmSync(lock, { force: true });
    }
    const owner = ownerOf(lock);
    if (owner !== undefined && !processAlive(owner)) {
      // Its owner was killed mid-install: move the lock aside and check it is still the
      // dead one's (another build may have taken it over meanwhile; then put it back).
      const aside = `${lock}.${process.pid}.${randomBytes(4).toString('hex')}`;
      try {
        renameSync(lock, aside);
        if (ownerOf(aside) === owner) rmSync(aside, { force: true });
        else {
          try {
            renameSync(aside, lock);
          } catch {
            rmSync(aside, { force: true });
          }
        }
      } catch {
        // Taken over or removed by someone else: try again.
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`another packops process (pid ${owner ?? '?'}) holds ${lock}`);
    }
    // A live owner (or one still writing its pid): installs take milliseconds.
    sleepSync(20);
  }
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
  const release = takeLock(zip.path);
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
