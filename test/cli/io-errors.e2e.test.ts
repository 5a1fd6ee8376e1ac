// A file the system refuses (here a symbolic-link loop) that no command maps to a code of
// its own is an input error (exit 3, IO_ERROR) at the one error boundary, never exit 70.
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(async () => {
  tmp = tempDir('packops-io-');
  symlinkSync('loop', join(tmp.dir, 'loop'));
  const keys = await runCli(['keys', 'generate', '--unencrypted', '--out', 'k', '--json'], { cwd: tmp.dir });
  expect(keys.code, keys.stderr).toBe(0);
});
afterAll(() => tmp.cleanup());

describe('system file errors', () => {
  it('verify on a link loop is IO_ERROR (exit 3) with the errno, and no stack trace', async () => {
    const r = await runCli(['verify', 'loop', '--pubkey', 'k/packops.pub', '--json'], { cwd: tmp.dir });
    expect(r.code).toBe(3);
    expect(r.json().error).toMatchObject({ code: 'IO_ERROR', details: { errno: 'ELOOP', syscall: 'stat' } });
    const pretty = await runCli(['verify', 'loop', '--pubkey', 'k/packops.pub'], { cwd: tmp.dir });
    expect(pretty.code).toBe(3);
    expect(pretty.stderr).toMatch(/error IO_ERROR: ELOOP/);
    expect(pretty.stderr).not.toMatch(/internal error|\bat .*\.js:\d+/);
  });
});
