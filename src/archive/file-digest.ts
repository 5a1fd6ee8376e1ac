/**
 * SHA-256 and BLAKE2b-512 (minisign's prehash) of a whole file in one read: `verify` hashes
 * the archive it is given, `--rebuild` the one it made.
 */
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { OpenedInput } from '../shared/input.js';

const CHUNK = 1024 * 1024;

/**
 * SHA-256 and BLAKE2b-512 (minisign's prehash) of a file, in one read. `path` is a file
 * packops wrote itself, or an input already opened by src/shared/input.ts (its checks and
 * size cap hold; it is read from byte 0 up to the size it had when opened, and left open).
 */
export async function hashFile(path: string | OpenedInput): Promise<{ sha256: string; blake2b512: Buffer; bytes: number }> {
  if (typeof path !== 'string') return hashOpened(path);
  const fh = await open(path, 'r');
  try {
    const sha = createHash('sha256');
    const b2 = createHash('blake2b512');
    const buf = Buffer.allocUnsafe(CHUNK);
    let bytes = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      sha.update(chunk);
      b2.update(chunk);
      bytes += bytesRead;
    }
    return { sha256: sha.digest('hex'), blake2b512: b2.digest(), bytes };
  } finally {
    await fh.close();
  }
}

function hashOpened(input: OpenedInput): { sha256: string; blake2b512: Buffer; bytes: number } {
  const sha = createHash('sha256');
  const b2 = createHash('blake2b512');
  const buf = Buffer.allocUnsafe(CHUNK);
  let bytes = 0;
  while (bytes < input.size) {
    const n = readSync(input.fd, buf, 0, Math.min(CHUNK, input.size - bytes), bytes);
    if (n === 0) break;
    const chunk = buf.subarray(0, n);
    sha.update(chunk);
    b2.update(chunk);
    bytes += n;
  }
  return { sha256: sha.digest('hex'), blake2b512: b2.digest(), bytes };
}
