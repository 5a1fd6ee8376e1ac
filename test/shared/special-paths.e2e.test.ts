// No command hangs on, or replaces, a FIFO, a device node or a /proc path (PRODUCT.md §3):
// every input goes through src/shared/input.ts and every output through src/shared/atomic.ts.
// Device nodes are made here with mknod in a temporary folder (never the machine's /dev).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir, type RunResult } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
let dir: string;
const fifo = () => join(dir, 'fifo');
const dev = () => join(dir, 'null-dev');
/** mknod needs root (CI containers run as root); the device tests say so when it is missing. */
let canMknod = false;

const TIMEOUT = 30_000;

function expectRefused(r: RunResult, code: string, exit = 3): void {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(exit);
  expect(r.json().error.code).toBe(code);
  expect(r.stderr).not.toMatch(/internal error|\bat .*\.js:\d+/);
}

beforeAll(async () => {
  tmp = tempDir('packops-special-');
  dir = tmp.dir;
  execFileSync('mkfifo', [fifo()]);
  try {
    // Major 1, minor 3: a null device of our own, inside the temporary folder.
    execFileSync('mknod', [dev(), 'c', '1', '3'], { stdio: 'ignore' });
    canMknod = statSync(dev()).isCharacterDevice();
  } catch {
    canMknod = false;
  }
  cpSync(join(FIXTURES, 'packs', 'ocean-creatures'), join(dir, 'ocean'), { recursive: true, filter: (src) => !src.includes('.packops') });
  const keys = await runCli(['keys', 'generate', '--unencrypted', '--out', 'keys', '--json'], { cwd: dir });
  expect(keys.code, keys.stderr).toBe(0);
  const build = await runCli(['build', 'ocean', '--key', 'keys/packops.key', '--out', 'dist', '--json'], { cwd: dir });
  expect(build.code, build.stderr).toBe(0);
}, 120_000);
afterAll(() => tmp.cleanup());

describe('inputs that are not regular files are refused at once (exit 3), never waited on', () => {
  const cases: Array<[string, () => string[], string]> = [
    ['verify <zip> as a FIFO', () => ['verify', fifo(), '--pubkey', 'keys/packops.pub', '--json'], 'INPUT_NOT_REGULAR'],
    ['verify --sig as a FIFO', () => ['verify', 'dist/ocean-creatures-1.0.0.zip', '--sig', fifo(), '--pubkey', 'keys/packops.pub', '--json'], 'INPUT_NOT_REGULAR'],
    ['verify --pubkey as a FIFO', () => ['verify', 'dist/ocean-creatures-1.0.0.zip', '--pubkey', fifo(), '--json'], 'KEY_INVALID'],
    ['build --key as a FIFO', () => ['build', 'ocean', '--key', fifo(), '--out', 'dist2', '--json'], 'KEY_INVALID'],
    ['creators import of a FIFO', () => ['creators', 'import', fifo(), '--db', 'c.db', '--json'], 'INPUT_NOT_REGULAR'],
    ['catalog diff of a FIFO', () => ['catalog', 'diff', fifo(), fifo(), '--json'], 'INPUT_NOT_REGULAR'],
    ['catalog diff of a /proc file', () => ['catalog', 'diff', '/proc/self/status', '/proc/self/status', '--json'], 'INPUT_NOT_REGULAR'],
    ['--config as a FIFO', () => ['validate', 'ocean', '--config', fifo(), '--json'], 'INPUT_NOT_REGULAR'],
    ['--config as a /proc file', () => ['validate', 'ocean', '--config', '/proc/self/status', '--json'], 'INPUT_NOT_REGULAR'],
    ['--db as a FIFO', () => ['ledger', 'migrate', '--db', fifo(), '--json'], 'LEDGER_UNREADABLE'],
    ['--db as a folder', () => ['ledger', 'migrate', '--db', 'ocean', '--json'], 'LEDGER_UNREADABLE'],
  ];
  for (const [name, args, code] of cases) {
    it(name, async () => {
      const r = await runCli(args(), { cwd: dir, timeoutMs: TIMEOUT });
      expectRefused(r, code);
    });
  }

  it('a secret key, config or catalog that is a device node is refused without being read', async () => {
    if (!canMknod) return expect(process.getuid?.()).not.toBe(0);
    for (const args of [
      ['build', 'ocean', '--key', dev(), '--out', 'dist3', '--json'],
      ['catalog', 'diff', dev(), dev(), '--json'],
      ['validate', 'ocean', '--config', dev(), '--json'],
      ['ledger', 'migrate', '--db', dev(), '--json'],
    ]) {
      const r = await runCli(args, { cwd: dir, timeoutMs: TIMEOUT });
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(3);
      expect(r.json().error.code).toMatch(/^(INPUT_NOT_REGULAR|KEY_INVALID|LEDGER_UNREADABLE)$/);
    }
  });

  it('an archive too large to unpack within --max-size is INPUT_TOO_LARGE before it is hashed (a sparse 1 GiB file)', async () => {
    const big = join(dir, 'big.zip');
    writeFileSync(big, '');
    execFileSync('truncate', ['-s', '1G', big]);
    for (const args of [
      ['verify', big, '--pubkey', 'keys/packops.pub', '--json'],
      ['catalog', 'add', big, '--pubkey', 'keys/packops.pub', '--db', 'big.db', '--json'],
    ]) {
      const r = await runCli(args, { cwd: dir, timeoutMs: TIMEOUT });
      expectRefused(r, 'INPUT_TOO_LARGE');
    }
    // --max-size moves the cap with it: the same file is then read (and is no zip).
    const r = await runCli(['verify', big, '--pubkey', 'keys/packops.pub', '--max-size', '1GiB', '--json'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.stringify(r.json())).toContain('ZIP_CORRUPT');
  }, 180_000);

  it('catalog publish refuses a registered archive swapped for a FIFO since, instead of waiting on it', async () => {
    mkdirSync(join(dir, 'dist-pub'));
    cpSync(join(dir, 'dist'), join(dir, 'dist-pub'), { recursive: true });
    const creators = await runCli(['creators', 'import', join(FIXTURES, 'ledger', 'creators.json'), '--db', 'pub.db', '--json'], { cwd: dir, timeoutMs: TIMEOUT });
    expect(creators.code, creators.stderr).toBe(0);
    const add = await runCli(['catalog', 'add', 'dist-pub/ocean-creatures-1.0.0.zip', '--pubkey', 'keys/packops.pub', '--published-at', '2026-09-01T00:00:00Z', '--db', 'pub.db', '--json'], { cwd: dir, timeoutMs: TIMEOUT });
    expect(add.code, add.stderr).toBe(0);
    rmSync(join(dir, 'dist-pub', 'ocean-creatures-1.0.0.zip'));
    execFileSync('mkfifo', [join(dir, 'dist-pub', 'ocean-creatures-1.0.0.zip')]);
    const r = await runCli(['catalog', 'publish', '--out', 'site-pub', '--db', 'pub.db', '--json'], { cwd: dir, timeoutMs: TIMEOUT });
    expectRefused(r, 'INPUT_NOT_REGULAR');
  }, 120_000);

  it('a config file over 1 MiB is INPUT_TOO_LARGE, unread (a sparse 2 GiB file)', async () => {
    const big = join(dir, 'big.config.json');
    writeFileSync(big, '');
    execFileSync('truncate', ['-s', '2G', big]);
    const r = await runCli(['validate', 'ocean', '--config', big, '--json'], { cwd: dir, timeoutMs: TIMEOUT });
    expectRefused(r, 'INPUT_TOO_LARGE');
  });
});

describe('outputs never replace a device node, FIFO or folder, and never hang under /proc', () => {
  it('preview -o onto a device node is OUTPUT_NOT_REGULAR and the node is still there', async () => {
    if (!canMknod) return expect(process.getuid?.()).not.toBe(0);
    const r = await runCli(['preview', 'ocean', '-o', dev(), '--json'], { cwd: dir, timeoutMs: TIMEOUT });
    expectRefused(r, 'OUTPUT_NOT_REGULAR');
    expect(lstatSync(dev()).isCharacterDevice()).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('preview -o onto a FIFO is OUTPUT_NOT_REGULAR and the FIFO is still there', async () => {
    const r = await runCli(['preview', 'ocean', '-o', fifo(), '--json'], { cwd: dir, timeoutMs: TIMEOUT });
    expectRefused(r, 'OUTPUT_NOT_REGULAR');
    expect(lstatSync(fifo()).isFIFO()).toBe(true);
  });

  it('build never replaces a FIFO where its zip or signature goes', async () => {
    mkdirSync(join(dir, 'dist-fifo'));
    execFileSync('mkfifo', [join(dir, 'dist-fifo', 'ocean-creatures-1.0.0.zip.minisig')]);
    const r = await runCli(['build', 'ocean', '--key', 'keys/packops.key', '--out', 'dist-fifo', '--json'], { cwd: dir, timeoutMs: TIMEOUT });
    expectRefused(r, 'OUTPUT_NOT_REGULAR');
    expect(readdirSync(join(dir, 'dist-fifo'))).toEqual(['ocean-creatures-1.0.0.zip.minisig']);
  });

  it('keys generate never replaces a FIFO named packops.key', async () => {
    mkdirSync(join(dir, 'keys-fifo'));
    execFileSync('mkfifo', [join(dir, 'keys-fifo', 'packops.key')]);
    const r = await runCli(['keys', 'generate', '--unencrypted', '--force', '--out', 'keys-fifo', '--json'], { cwd: dir, timeoutMs: TIMEOUT });
    expectRefused(r, 'OUTPUT_NOT_REGULAR');
    expect(readdirSync(join(dir, 'keys-fifo'))).toEqual(['packops.key']);
  });

  const procCases: Array<[string, string[]]> = [
    ['init', ['init', '/proc/packops-test/pack', '--yes', '--creator', 'ana-lima', '--json']],
    ['build --out', ['build', 'ocean', '--key', 'keys/packops.key', '--out', '/proc/packops-test/dist', '--json']],
    ['assets --out', ['assets', 'ocean', '--out', '/proc/packops-test/out', '--json']],
    ['keys generate --out', ['keys', 'generate', '--unencrypted', '--out', '/proc/packops-test/keys', '--json']],
    ['preview -o', ['preview', 'ocean', '-o', '/proc/packops-test/sheet/p.png', '--json']],
    ['payouts report --out', ['payouts', 'report', '--period', '2026-10', '--format', 'json', '--out', '/proc/packops-test/r', '--db', 'p.db', '--json']],
    ['catalog publish --out', ['catalog', 'publish', '--out', '/proc/packops-test/site/x', '--db', 'p.db', '--json']],
  ];
  for (const [name, args] of procCases) {
    it(`${name} under /proc is exit 3, not a hang`, async () => {
      const r = await runCli(args, { cwd: dir, timeoutMs: TIMEOUT });
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(3);
      expect(r.stderr).not.toMatch(/internal error|\bat .*\.js:\d+/);
    });
  }

  it('assets never follows a link inside its output folder out of it', async () => {
    const out = join(dir, 'assets-out');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(join(out), { recursive: true });
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(out, 'assets'));
    const r = await runCli(['assets', 'ocean', '--out', out, '--json'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(3);
    expect(r.json().error.code).toBe('OUTPUT_UNWRITABLE');
    expect(readdirSync(elsewhere)).toEqual([]);
    expect(existsSync(join(out, 'assets.lock.json'))).toBe(false);
  }, 120_000);
});
