/**
 * A lock file beside an output, so that two packops processes writing the same output (two
 * CI jobs building one archive, publishing one site) take turns instead of interleaving.
 *
 * The lock is a file created with O_EXCL holding its owner's pid. A lock whose owner is
 * gone (killed with SIGKILL while it held it) is taken over: it is moved aside and removed
 * only if it still names the dead owner (another process may have taken it over meanwhile;
 * then it is put back). A live owner is waited for, up to the caller's wait; past it the
 * caller gets OUTPUT_BUSY (exit 4) naming the owner and the lock file, never a hang.
 *
 * `takeLockSync` is for callers whose steps must not yield to the event loop (build's
 * install); `takeLock` waits without blocking it (a publish holds its lock for as long as
 * copying the site takes).
 */
import { closeSync, constants, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { processAlive } from './atomic.js';
import { conflictError, errnoCode, type PackopsError } from './errors.js';
import { displayPath } from './paths.js';

export interface LockOptions {
  /** How long to wait for a live owner, in milliseconds. */
  waitMs: number;
  /** What the lock guards, for the message: "the archive dist/x-1.0.0.zip", "the site site/". */
  what: string;
}

/** Releases a lock that was taken. */
export type ReleaseLock = () => void;

const POLL_MS = 20;

function ownerOf(lock: string): number | undefined {
  try {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** One attempt: the release when the lock was taken, else the owner seen (if any). */
function attempt(lock: string): { release: ReleaseLock } | { owner: number | undefined } {
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
    return { release: () => rmSync(lock, { force: true }) };
  }
  const owner = ownerOf(lock);
  if (owner !== undefined && !processAlive(owner)) {
    // Its owner was killed while holding it: move it aside and check it is still the dead
    // one's before removing it (another process may have taken it over; then put it back).
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
      // Taken over or removed by someone else: the next attempt sees.
    }
    return attempt(lock);
  }
  return { owner };
}

function busy(lock: string, owner: number | undefined, options: LockOptions): PackopsError {
  const shown = displayPath(lock);
  return conflictError(
    'OUTPUT_BUSY',
    `Another packops process (pid ${owner ?? '?'}) is still writing ${options.what} after ${Math.round(options.waitMs / 1000)} s (lock ${shown}).`,
    {
      hint: `Run again once it has finished. If no packops process is running, remove ${shown}.`,
      details: { lock: shown, ...(owner !== undefined ? { pid: owner } : {}) },
    },
  );
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Takes the lock at `lock`, blocking the thread while a live owner holds it. */
export function takeLockSync(lock: string, options: LockOptions): ReleaseLock {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const got = attempt(lock);
    if ('release' in got) return got.release;
    if (Date.now() > deadline) throw busy(lock, got.owner, options);
    sleepSync(POLL_MS);
  }
}

/** Takes the lock at `lock`, waiting (without blocking the event loop) while a live owner holds it. */
export async function takeLock(lock: string, options: LockOptions): Promise<ReleaseLock> {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const got = attempt(lock);
    if ('release' in got) return got.release;
    if (Date.now() > deadline) throw busy(lock, got.owner, options);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
