// The output lock (src/shared/lock.ts): one owner at a time, a dead owner's lock taken over,
// a live owner past the wait is OUTPUT_BUSY (exit 4) naming it, never a hang or exit 70.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeLock, takeLockSync } from '../../src/shared/lock.js';
import { tempDir } from '../helpers/cli.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir('packops-lock-')));
afterAll(() => cleanup());

const deadPid = () => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

describe('takeLock / takeLockSync', () => {
  it('writes the owner pid, and removes the lock on release', async () => {
    const lock = join(dir, 'a.lock');
    const release = await takeLock(lock, { waitMs: 1000, what: 'the site a' });
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid}\n`);
    release();
    expect(existsSync(lock)).toBe(false);
    takeLockSync(lock, { waitMs: 1000, what: 'the site a' })();
    expect(existsSync(lock)).toBe(false);
  });

  it('a live owner kept past the wait is OUTPUT_BUSY (exit 4) with its pid and the lock', async () => {
    const lock = join(dir, 'b.lock');
    const release = takeLockSync(lock, { waitMs: 0, what: 'the site b' });
    const refusal = { code: 'OUTPUT_BUSY', exitCode: 4, details: { pid: process.pid } };
    await expect(takeLock(lock, { waitMs: 0, what: 'the site b' })).rejects.toMatchObject(refusal);
    let thrown: unknown;
    try {
      takeLockSync(lock, { waitMs: 0, what: 'the site b' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject(refusal);
    release();
  });

  it('takes over the lock of a dead owner, and waits for a live one to release', async () => {
    const lock = join(dir, 'c.lock');
    writeFileSync(lock, `${deadPid()}\n`);
    const release = await takeLock(lock, { waitMs: 0, what: 'the site c' });
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid}\n`);
    // A second taker waits on the event loop; the first releases while it waits.
    const second = takeLock(lock, { waitMs: 60_000, what: 'the site c' });
    setTimeout(release, 50);
    (await second)();
    expect(existsSync(lock)).toBe(false);
  });
});
