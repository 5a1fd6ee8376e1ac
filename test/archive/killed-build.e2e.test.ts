// A build killed at any point (SIGTERM, SIGINT, SIGKILL; while writing, with its temporary
// files complete, and between the install's steps) leaves no temporary file behind once a
// build has run again, and never a zip beside a signature of another zip: at every state
// observed, `packops verify` passes with the old archive or the new one, or reports the
// signature missing. Real processes, a real pack, real signals.
//
// Kill points between the install's steps use the build's test hook
// PACKOPS_TEST_INSTALL_PAUSE_MS (src/archive/install.ts): a wait once the temporary files
// are complete, and one before each step. Build first: npx tsc -p tsconfig.build.json
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli, tempDir, testCache } from '../helpers/cli.js';

const ZIP = 'killed-pack-1.0.0.zip';
const SIG = `${ZIP}.minisig`;
const ASSETS = 60;
const PAUSE = { PACKOPS_TEST_INSTALL_PAUSE_MS: '1500' };

let root: string;
let cleanup: () => void;
let pack: string;
let oldSha: string;
let newSha: string;

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const leftovers = (dir: string) => readdirSync(dir).filter((n) => n.includes('.packops.'));

async function photo(path: string, background: string): Promise<void> {
  const noise = await sharp({ create: { width: 128, height: 128, channels: 3, background, noise: { type: 'gaussian', mean: 128, sigma: 10 } } })
    .png()
    .toBuffer();
  await sharp(noise).resize(1024, 1024, { kernel: 'cubic' }).jpeg({ quality: 70 }).toFile(path);
}

function buildArgs(dist: string): string[] {
  return ['build', pack, '--key', join(root, 'keys', 'packops.key'), '--out', dist, '--json'];
}

function start(dist: string, env: Record<string, string> = {}): { child: ChildProcess; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [BIN, ...buildArgs(dist)], {
    env: { ...process.env, NO_COLOR: '1', CI: 'true', PACKOPS_CACHE_DIR: testCache(), ...env },
    stdio: 'ignore',
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exit };
}

/** Polls until `ready()` holds (true) or the process has ended (false). No time limit of its own. */
async function until(child: ChildProcess, ready: () => boolean): Promise<boolean> {
  for (;;) {
    if (ready()) return true;
    if (child.exitCode !== null || child.signalCode !== null) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The state of the pair in `dir`: the old archive, the new one (both verified), or unsigned. Anything else fails. */
async function state(dir: string): Promise<'old' | 'new' | 'unsigned'> {
  const zip = join(dir, ZIP);
  const r = await runCli(['verify', zip, '--pubkey', join(root, 'keys', 'packops.pub'), '--json']);
  const sha = sha256(zip);
  expect([oldSha, newSha]).toContain(sha);
  if (r.code === 0) return sha === oldSha ? 'old' : 'new';
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(r.json().results[0].findings.map((f: { code: string }) => f.code)).toEqual(['SIGNATURE_MISSING']);
  return 'unsigned';
}

/** A folder holding the old archive and its signature, as the previous release left it. */
function withOldPair(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  copyFileSync(join(root, 'old', ZIP), join(dir, ZIP));
  copyFileSync(join(root, 'old', SIG), join(dir, SIG));
  return dir;
}

beforeAll(async () => {
  ({ dir: root, cleanup } = tempDir('packops-killed-build-'));
  pack = join(root, 'pack');
  mkdirSync(join(pack, 'assets'), { recursive: true });
  await photo(join(root, 'a.jpg'), '#6a8');
  await photo(join(root, 'b.jpg'), '#a68');
  const assets = Array.from({ length: ASSETS }, (_, i) => {
    const id = `bg-${String(i + 1).padStart(3, '0')}`;
    copyFileSync(join(root, 'a.jpg'), join(pack, 'assets', `${id}.jpg`));
    return { id, file: `assets/${id}.jpg`, type: 'background', altText: `Background ${i + 1}` };
  });
  writeFileSync(
    join(pack, 'pack.json'),
    JSON.stringify({
      schemaVersion: 1,
      slug: 'killed-pack',
      version: '1.0.0',
      name: 'Killed pack',
      description: 'A pack big enough for a build to be killed while it runs.',
      category: 'environments',
      ageRange: { min: 3, max: 8 },
      creator: 'ana-lima',
      price: { amountMinor: 0, currency: 'USD' },
      cover: 'bg-002',
      assets,
    }),
  );
  const keys = await runCli(['keys', 'generate', '--unencrypted', '--out', join(root, 'keys'), '--json']);
  expect(keys.code, keys.stderr).toBe(0);
  const old = await runCli(buildArgs(join(root, 'old')));
  expect(old.code, old.stderr).toBe(0);
  oldSha = sha256(join(root, 'old', ZIP));
  // The new release: one asset's art changed, same version.
  copyFileSync(join(root, 'b.jpg'), join(pack, 'assets', 'bg-001.jpg'));
  const fresh = await runCli(buildArgs(join(root, 'new')));
  expect(fresh.code, fresh.stderr).toBe(0);
  newSha = sha256(join(root, 'new', ZIP));
  expect(newSha).not.toBe(oldSha);
}, 600_000);
afterAll(() => cleanup());

describe('a killed build', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s once its temporary files are written: they are removed, the old pair stays, exit by the signal', async (signal, code) => {
    const dist = withOldPair(`term-${signal}`);
    const { child, exit } = start(dist, PAUSE);
    // The hook's wait starts once both temporary files are complete (flushed, signed).
    expect(await until(child, () => leftovers(dist).filter((n) => n.endsWith('.packops.tmp')).length === 2)).toBe(true);
    child.kill(signal);
    const ended = await exit;
    expect(ended.signal === signal || ended.code === code, JSON.stringify(ended)).toBe(true);
    expect(leftovers(dist)).toEqual([]);
    expect(await state(dist)).toBe('old');
  });

  it('SIGKILL while writing: the old pair stays; the next build removes the dead one\'s temporary files', async () => {
    const dist = withOldPair('kill-writing');
    const { child, exit } = start(dist);
    const killed = await until(child, () => leftovers(dist).length > 0);
    child.kill('SIGKILL');
    await exit;
    // Killed while writing (the usual case) or, had the build just finished, after: never a mixed pair.
    expect(killed ? ['old', 'new'] : ['new']).toContain(await state(dist));
    const again = await runCli(buildArgs(dist));
    expect(again.code, again.stderr).toBe(0);
    expect(leftovers(dist)).toEqual([]);
    expect(await state(dist)).toBe('new');
  });

  it.each([
    ['after the old signature is removed', 'old'],
    ['after the new zip is renamed into place', 'new'],
  ] as const)('SIGKILL during the install, %s: the zip is unsigned (SIGNATURE_MISSING), and the next build completes the pair', async (_when, zipThen) => {
    const dist = withOldPair(`kill-install-${zipThen}`);
    const oldIno = statSync(join(dist, ZIP)).ino;
    const { child, exit } = start(dist, PAUSE);
    const reached = await until(child, () => {
      if (existsSync(join(dist, SIG))) return false;
      try {
        return zipThen === 'old' || statSync(join(dist, ZIP)).ino !== oldIno;
      } catch {
        return false;
      }
    });
    expect(reached).toBe(true);
    child.kill('SIGKILL');
    await exit;
    expect(await state(dist)).toBe('unsigned');
    expect(sha256(join(dist, ZIP))).toBe(zipThen === 'old' ? oldSha : newSha);
    const again = await runCli(buildArgs(dist));
    expect(again.code, again.stderr).toBe(0);
    expect(leftovers(dist)).toEqual([]);
    expect(await state(dist)).toBe('new');
  });

  it('every state a watcher sees during a build is a matching pair or an unsigned zip', async () => {
    const dist = withOldPair('watched');
    const snaps = join(root, 'snaps');
    mkdirSync(snaps);
    const seen: string[] = [];
    const { child, exit } = start(dist, { PACKOPS_TEST_INSTALL_PAUSE_MS: '300' });
    let last = '';
    let tries = 0;
    const look = () => {
      // A snapshot counts only if neither file changed while it was copied.
      const id = () => ['zip', 'sig'].map((k) => (existsSync(join(dist, k === 'zip' ? ZIP : SIG)) ? statSync(join(dist, k === 'zip' ? ZIP : SIG)).ino : 0)).join(':');
      try {
        const before = id();
        if (before === last) return false;
        const dir = join(snaps, String(tries++));
        mkdirSync(dir);
        copyFileSync(join(dist, ZIP), join(dir, ZIP));
        if (existsSync(join(dist, SIG))) copyFileSync(join(dist, SIG), join(dir, SIG));
        if (id() !== before) return false;
        last = before;
        seen.push(dir);
      } catch {
        // A file renamed while copied: look again.
      }
      return false;
    };
    await until(child, look);
    look();
    expect((await exit).code).toBe(0);
    const states = [];
    for (const dir of seen) states.push(await state(dir));
    expect(states[0]).toBe('old');
    expect(states[states.length - 1]).toBe('new');
    expect(states).toContain('unsigned');
    expect(leftovers(dist)).toEqual([]);
  });
});
