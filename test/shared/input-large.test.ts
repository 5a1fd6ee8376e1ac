// readInputSync on files past one read's limit (readSync takes a signed 32-bit length, so a
// single read of more than 2 GiB − 1 threw): it reads in chunks of at most 1 GiB, and a file
// larger than one Buffer can hold is INPUT_TOO_LARGE before anything is allocated. Sparse
// files: the holes cost no disk. Only a file system without sparse files leaves this out.
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { constants } from 'node:buffer';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readInputSync } from '../../src/shared/input.js';
import { isPackopsError } from '../../src/shared/errors.js';
import { tempDir } from '../helpers/cli.js';

const tmp = tempDir('packops-input-large-');
afterAll(() => tmp.cleanup());

/** A sparse file of `size` bytes with `tail` at its end; false when the file system keeps no holes. */
function sparseFile(name: string, size: number, tail: Buffer): string | false {
  const path = join(tmp.dir, name);
  const fd = openSync(path, 'w');
  writeSync(fd, tail, 0, tail.length, size - tail.length);
  closeSync(fd);
  if (statSync(path).blocks * 512 > 64 * 1024 * 1024) {
    console.warn('input-large: this file system does not keep sparse files; the cases past 2 GiB are not run here.');
    return false;
  }
  return path;
}

describe('readInputSync past 2 GiB', () => {
  it('reads a 2 GiB + 1 MiB file whole, in chunks', () => {
    const size = 2049 * 1024 * 1024;
    const path = sparseFile('big.bin', size, Buffer.from('END'));
    if (!path) return;
    const buf = readInputSync(path, { what: 'test input', maxBytes: 3 * 1024 ** 3 });
    expect(buf.length).toBe(size);
    expect(buf.subarray(size - 3).toString()).toBe('END');
    expect(buf[2 ** 31]).toBe(0);
  }, 120_000);

  it('refuses a file larger than one Buffer can hold, INPUT_TOO_LARGE before reading', () => {
    const size = constants.MAX_LENGTH + 1;
    const path = sparseFile('huge.bin', size, Buffer.from('!'));
    if (!path) return;
    let err: unknown;
    try {
      readInputSync(path, { what: 'test input', maxBytes: Number.MAX_SAFE_INTEGER });
    } catch (e) {
      err = e;
    }
    expect(isPackopsError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'INPUT_TOO_LARGE' });
    expect((err as Error).message).toMatch(/more than can be read into memory at once/);
  });
});
