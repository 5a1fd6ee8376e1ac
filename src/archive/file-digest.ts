/**
 * SHA-256 and BLAKE2b-512 (minisign's prehash) of a whole file in one read: `verify` hashes
 * the archive it is given, `--rebuild` the one it made.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import type { OpenedInput } from '../shared/input.js';

const CHUNK = 1024 * 1024;

export interface FileDigest {
  sha256: string;
  blake2b512: Buffer;
  bytes: number;
}

/** Anything else that takes the file's bytes in the same read (a legacy signature's check). */
export interface ByteSink {
  /** Called with each chunk in order; the chunk's memory is reused after the call returns. */
  update(chunk: Uint8Array): void;
}

/**
 * SHA-256 and BLAKE2b-512 (minisign's prehash) of a file, in one read. `path` is a file
 * packops wrote itself (read to its end), or an input already opened by src/shared/input.ts
 * (its checks and size cap hold; it is read from byte 0 up to the size it had when opened,
 * and left open). `sinks` are fed the same bytes.
 */
export async function hashFile(path: string | OpenedInput, sinks: readonly ByteSink[] = []): Promise<FileDigest> {
  if (typeof path !== 'string') return hashFd(path.fd, path.size, sinks);
  const fd = openSync(path, 'r');
  try {
    return hashFd(fd, Number.POSITIVE_INFINITY, sinks);
  } finally {
    closeSync(fd);
  }
}

/** Hashes `fd` from byte 0 until `limit` bytes or its end, whichever comes first. */
function hashFd(fd: number, limit: number, sinks: readonly ByteSink[]): FileDigest {
  const sha = createHash('sha256');
  const b2 = createHash('blake2b512');
  const buf = Buffer.allocUnsafe(CHUNK);
  let bytes = 0;
  while (bytes < limit) {
    const n = readSync(fd, buf, 0, Math.min(CHUNK, limit - bytes), bytes);
    if (n === 0) break;
    const chunk = buf.subarray(0, n);
    sha.update(chunk);
    b2.update(chunk);
    for (const sink of sinks) sink.update(chunk);
    bytes += n;
  }
  return { sha256: sha.digest('hex'), blake2b512: b2.digest(), bytes };
}
