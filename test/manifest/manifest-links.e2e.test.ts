// A pack is untrusted (PRODUCT.md §5), pack.json included: a pack.json that is a symbolic
// link out of the pack folder is a PATH_UNSAFE finding and the file it names is never read,
// by any command that loads a manifest, in any output format (before: validate printed the
// linked file's lines in its code frame). And an invalid-UTF-8 position is given in UTF-16
// code units, like every other finding (before: in bytes).
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { cutout, writeManifest } from '../assets/images.js';

const tmp = tempDir('packops-manifest-links-');
afterAll(() => tmp.cleanup());

const SECRET = 'ghp_EXAMPLESECRET0123456789';
const NETRC_LOGIN = 'ci-bot-login-7f3a';

/** A pack folder with real art; its pack.json is written by the caller. */
async function packWithArt(name: string): Promise<string> {
  const dir = join(tmp.dir, name);
  await cutout(join(dir, 'assets', 'whale.png'), 512);
  return dir;
}

let outside: string;
let netrcPack: string;
let jsonPack: string;
let insidePack: string;

beforeAll(async () => {
  // Files of the CI runner, outside any pack: a JSON file that is nearly a manifest (so the
  // old code parsed it and quoted its lines) and a netrc (so the old code's syntax error
  // frame quoted its first lines).
  const priv = join(tmp.dir, 'private');
  mkdirSync(priv, { recursive: true });
  outside = join(priv, 'ci-secrets.json');
  writeManifest(priv, [{ id: 'whale', file: 'assets/whale.png', type: 'character' }], { githubToken: SECRET });
  writeFileSync(outside, JSON.stringify({ githubToken: SECRET, registry: 'npm' }, null, 2));
  writeFileSync(join(priv, 'netrc'), `machine github.com\n  login ${NETRC_LOGIN}\n  password ${SECRET}\n`);

  jsonPack = await packWithArt('json-link');
  symlinkSync(join(priv, 'pack.json'), join(jsonPack, 'pack.json'));
  netrcPack = await packWithArt('netrc-link');
  symlinkSync('../private/netrc', join(netrcPack, 'pack.json'));

  // A link that stays inside the pack is read (at its real path) like a plain pack.json.
  insidePack = await packWithArt('inside-link');
  writeManifest(join(insidePack, 'manifests'), [{ id: 'whale', file: 'assets/whale.png', type: 'character' }], { cover: 'whale' });
  symlinkSync('manifests/pack.json', join(insidePack, 'pack.json'));
});

function expectNoLeak(out: string): void {
  expect(out).not.toContain(SECRET);
  expect(out).not.toContain(NETRC_LOGIN);
  expect(out).not.toContain('githubToken');
  expect(out).not.toContain('machine github.com');
  expect(out).not.toMatch(/internal error|\bat .*\.js:\d+/);
}

describe('a pack.json that links out of the pack folder is not read', () => {
  for (const format of ['pretty', 'json', 'github', 'junit', 'sarif']) {
    for (const files of [true, false]) {
      it(`validate --format ${format}${files ? '' : ' --no-files'}: PATH_UNSAFE, nothing of the linked files in the output`, async () => {
        for (const pack of [jsonPack, netrcPack]) {
          const r = await runCli(['validate', pack, '--format', format, ...(files ? [] : ['--no-files'])], { cwd: tmp.dir });
          expect(r.code, r.stderr).toBe(1);
          expectNoLeak(r.stdout + r.stderr);
          expect(r.stdout).toContain('PATH_UNSAFE');
          expect(r.stdout).not.toContain('MANIFEST_UNREADABLE');
        }
      });
    }
  }

  it('validate --json: one PATH_UNSAFE finding on pack.json, with no line (nothing was read)', async () => {
    const r = await runCli(['validate', 'json-link', 'netrc-link', '--json'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(1);
    for (const [i, name] of ['json-link', 'netrc-link'].entries()) {
      expect(r.json().results[i].findings).toEqual([
        {
          code: 'PATH_UNSAFE',
          severity: 'error',
          file: `${name}/pack.json`,
          message: `${name}/pack.json is a symbolic link that leads outside the pack folder; it was not read.`,
          hint: expect.stringContaining('not a link'),
        },
      ]);
    }
  });

  it('naming the linked pack.json itself as the target is refused the same way', async () => {
    const r = await runCli(['validate', 'json-link/pack.json', '--json'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.json().results[0].findings.map((f: { code: string }) => f.code)).toEqual(['PATH_UNSAFE']);
    expectNoLeak(r.stdout + r.stderr);
  });

  it('assets and preview refuse it too, before any file is written', async () => {
    for (const args of [
      ['assets', 'json-link', '--cache-dir', 'cache'],
      ['assets', 'netrc-link', '--cache-dir', 'cache', '--json'],
      ['preview', 'json-link'],
      ['preview', 'netrc-link', '--json'],
    ]) {
      const r = await runCli(args, { cwd: tmp.dir });
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(1);
      expect(r.stdout + r.stderr).toContain('PATH_UNSAFE');
      expectNoLeak(r.stdout + r.stderr);
    }
  });

  it('build refuses it (exit 1) and writes no archive', async () => {
    const keys = await runCli(['keys', 'generate', '--unencrypted', '--out', 'keys', '--json'], { cwd: tmp.dir });
    expect(keys.code, keys.stderr).toBe(0);
    for (const pack of ['json-link', 'netrc-link']) {
      const r = await runCli(['build', pack, '--key', 'keys/packops.key', '--out', `dist-${pack}`, '--cache-dir', 'cache'], { cwd: tmp.dir });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout + r.stderr).toContain('PATH_UNSAFE');
      expectNoLeak(r.stdout + r.stderr);
    }
  });

  it('a pack.json linking to a file inside the pack is read as usual', async () => {
    const r = await runCli(['validate', 'inside-link', '--json'], { cwd: tmp.dir });
    expect(r.code, r.stdout).toBe(0);
    expect(r.json().results[0].findings).toEqual([]);
  });

  it('a pack.json linking to nothing is MANIFEST_UNREADABLE, not a crash', async () => {
    const dir = await packWithArt('dangling-link');
    symlinkSync('gone.json', join(dir, 'pack.json'));
    const r = await runCli(['validate', 'dangling-link', '--json'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.json().results[0].findings).toEqual([expect.objectContaining({ code: 'MANIFEST_UNREADABLE', message: expect.stringContaining('does not exist') })]);
  });
});

describe('code frames show the text that was checked', () => {
  it('a syntax error in pack.json gets its frame from the text read (pretty)', async () => {
    const dir = await packWithArt('bad-json');
    writeFileSync(join(dir, 'pack.json'), '{\n  "slug": "bad-json",\n  "name": oops\n}\n');
    const r = await runCli(['validate', 'bad-json'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/> 3 \| {3}"name": oops\n/);
  });

  it('assets shows the frame of the manifest it read', async () => {
    const dir = await packWithArt('assets-frame');
    writeManifest(dir, [{ id: 'whale', file: 'assets/nope.png', type: 'character' }]);
    const r = await runCli(['assets', 'assets-frame', '--cache-dir', 'cache'], { cwd: tmp.dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('ASSET_MISSING');
    expect(r.stdout).toMatch(/> +\d+ \| +"file": "assets\/nope\.png"/);
  });
});

describe('an invalid UTF-8 byte is located in UTF-16 code units', () => {
  // '{"name": "' is 10 units; eight é are 16 bytes but 8 units: the bad byte is at byte
  // offset 26 (byte column 27, the old answer) and UTF-16 column 10 + 8 + 1 = 19.
  const reviewer = Buffer.concat([Buffer.from('{"name": "'), Buffer.from('é'.repeat(8)), Buffer.from([0xff]), Buffer.from('"}\n')]);
  // On line 2: '  "name": "' is 11 units, 😀 is 4 bytes / 2 units, é 2 bytes / 1 unit: column 15 (bytes: 18).
  const astral = Buffer.concat([Buffer.from('{\n  "name": "😀é'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]);

  it('json and sarif give the UTF-16 column; the pretty caret sits under the bad character', async () => {
    for (const [name, bytes, line, column] of [
      ['utf8-reviewer', reviewer, 1, 19],
      ['utf8-astral', astral, 2, 15],
    ] as const) {
      mkdirSync(join(tmp.dir, name), { recursive: true });
      writeFileSync(join(tmp.dir, name, 'pack.json'), bytes);
      const json = await runCli(['validate', name, '--json', '--no-files'], { cwd: tmp.dir });
      expect(json.code, json.stderr).toBe(1);
      expect(json.json().results[0].findings).toEqual([expect.objectContaining({ code: 'MANIFEST_UNREADABLE', line, column })]);

      const sarif = await runCli(['validate', name, '--format', 'sarif', '--no-files'], { cwd: tmp.dir });
      const run = sarif.json().runs[0];
      expect(run.columnKind).toBe('utf16CodeUnits');
      expect(run.results[0].locations[0].physicalLocation.region).toEqual({ startLine: line, startColumn: column });

      const pretty = await runCli(['validate', name, '--no-files'], { cwd: tmp.dir });
      const lines = pretty.stdout.split('\n');
      const at = lines.findIndex((l) => l.includes(`> ${line} | `));
      expect(at, pretty.stdout).toBeGreaterThan(-1);
      const shown = lines[at]!.slice(lines[at]!.indexOf('| ') + 2);
      const caret = lines[at + 1]!.slice(lines[at + 1]!.indexOf('| ') + 2).indexOf('^');
      expect(shown.slice(caret, caret + 1)).toBe('\ufffd');
    }
  });
});
