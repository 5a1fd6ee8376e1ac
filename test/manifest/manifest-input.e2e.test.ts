// The manifest is read through the one input helper (src/shared/input.ts): a regular file of
// at most 1 MiB, checked before it is opened. A file that is not one is a finding of the pack
// (MANIFEST_UNREADABLE, exit 1), never a hang, never misread.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { rssProbe } from '../helpers/rss.js';

const tmp = tempDir('packops-manifest-input-');
afterAll(() => tmp.cleanup());

async function finding(target: string) {
  const r = await runCli(['validate', target, '--json'], { cwd: tmp.dir, timeoutMs: 60_000 });
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
  expect(r.stderr).not.toMatch(/internal error|\bat .*\.js:\d+/);
  return r.json().results[0].findings[0];
}

describe('validate reads a manifest only if it is a regular file within the cap', () => {
  it('a /proc file that reports 0 bytes is not a file, not "invalid JSON" (before: read as empty)', async () => {
    const f = await finding('/proc/self/status');
    expect(f.code).toBe('MANIFEST_UNREADABLE');
    expect(f.message).toContain('is not a file');
    expect(f.hint).toMatch(/0 bytes but holds more/);
  });

  it('a pack.json that is a FIFO is not a file, at once', async () => {
    mkdirSync(join(tmp.dir, 'fifo-pack'));
    execFileSync('mkfifo', [join(tmp.dir, 'fifo-pack', 'pack.json')]);
    const f = await finding('fifo-pack');
    expect(f).toMatchObject({ code: 'MANIFEST_UNREADABLE' });
    expect(f.hint).toMatch(/FIFO/);
  });

  it('a sparse 1 GiB pack.json is refused unread with its size', async () => {
    mkdirSync(join(tmp.dir, 'big-pack'));
    writeFileSync(join(tmp.dir, 'big-pack', 'pack.json'), '');
    execFileSync('truncate', ['-s', '1G', join(tmp.dir, 'big-pack', 'pack.json')]);
    const f = await finding('big-pack');
    expect(f).toMatchObject({ code: 'MANIFEST_UNREADABLE', line: 1, column: 1 });
    expect(f.message).toContain('1073741824 bytes');
  });
});

describe('the pretty reporter reads a manifest for its code frame through the same checks', () => {
  it('a sparse 1 GiB pack.json is never read whole for a code frame (before: a 1 GiB read)', async () => {
    mkdirSync(join(tmp.dir, 'big-pretty'));
    writeFileSync(join(tmp.dir, 'big-pretty', 'pack.json'), '');
    execFileSync('truncate', ['-s', '1G', join(tmp.dir, 'big-pretty', 'pack.json')]);
    const probe = rssProbe(tmp.dir, 'pretty');
    const r = await runCli(['validate', 'big-pretty'], { cwd: tmp.dir, env: probe.env, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(`${r.stdout}${r.stderr}`).toContain('MANIFEST_UNREADABLE');
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/internal error|\bat .*\.js:\d+/);
    expect(probe.peakMiB()).toBeLessThan(300);
  }, 130_000);
});
