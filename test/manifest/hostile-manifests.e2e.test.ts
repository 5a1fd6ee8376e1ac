// Manifests nobody here wrote, as an external tester would write them: each is the
// ocean-creatures pack changed in one way, all validated in one process with --json, and
// each must give its §11 code at the right pointer (with a line and column), exit 1, and
// never crash.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir('packops-hostile-manifests-');
afterAll(() => tmp.cleanup());
const OCEAN = join(FIXTURES, 'packs', 'ocean-creatures');

type Manifest = Record<string, any>;
type Case = [name: string, change: (m: Manifest) => Manifest | string | void, code: string | null, pointer?: string | null];

const file = (path: string) => (m: Manifest) => {
  m.assets[0].file = path;
};

const cases: Case[] = [
  ['valid pre-release version', (m) => void (m.version = '1.0.0-beta.1'), null],
  ['version 1.0', (m) => void (m.version = '1.0'), 'SCHEMA', '/version'],
  ['version 01.0.0', (m) => void (m.version = '01.0.0'), 'SCHEMA', '/version'],
  ['slug of 2 characters', (m) => void (m.slug = 'ab'), 'SCHEMA', '/slug'],
  ['slug of 3 characters', (m) => void (m.slug = 'abc'), null],
  ['slug of 64 characters', (m) => void (m.slug = 'a'.repeat(64)), null],
  ['slug of 65 characters', (m) => void (m.slug = 'a'.repeat(65)), 'SCHEMA', '/slug'],
  ['asset id of 1 character', (m) => void ((m.assets[0].id = 'w'), (m.cover = 'w')), null],
  ['asset id of 65 characters', (m) => void (m.assets[1].id = 'a'.repeat(65)), 'SCHEMA', '/assets/1/id'],
  ['unicode slug', (m) => void (m.slug = 'océan'), 'SCHEMA', '/slug'],
  ['2026-02-30', (m) => void (m.availability = { from: '2026-02-30' }), 'SCHEMA', '/availability/from'],
  ['educational without objectives', (m) => void (m.category = 'educational'), 'OBJECTIVES_MISSING', '/educationalObjectives'],
  ['ageRange 9..3', (m) => void (m.ageRange = { min: 9, max: 3 }), 'AGE_RANGE', '/ageRange'],
  ['ageRange 0..13', (m) => void (m.ageRange = { min: 0, max: 13 }), 'AGE_RANGE', '/ageRange/max'],
  ['ageRange 3.5', (m) => void (m.ageRange = { min: 3.5, max: 8 }), 'AGE_RANGE', '/ageRange/min'],
  ['extra field in ageRange', (m) => void (m.ageRange.extra = 1), 'SCHEMA', '/ageRange/extra'],
  ['extra field in price', (m) => void (m.price.tax = 1), 'SCHEMA', '/price/tax'],
  ['extra field in a market', (m) => void (m.markets.GB.tax = 1), 'SCHEMA', '/markets/GB/tax'],
  ['extra field in availability', (m) => void (m.availability.extra = 1), 'SCHEMA', '/availability/extra'],
  ['extra field in an asset', (m) => void (m.assets[2].extra = 1), 'SCHEMA', '/assets/2/extra'],
  ['__proto__ inside an asset', (m) => JSON.stringify(m).replace('"type":"character"', '"type":"character","__proto__":{"x":1}'), 'SCHEMA', '/assets/0/__proto__'],
  ['price in "usd"', (m) => void (m.price.currency = 'usd'), 'CURRENCY', '/price/currency'],
  ['price in EUR', (m) => void (m.price.currency = 'EUR'), 'CURRENCY', '/price/currency'],
  ['market in "usd"', (m) => void (m.markets.GB.currency = 'usd'), 'CURRENCY', '/markets/GB/currency'],
  // XXX is in the ISO 4217 table ("no currency is involved") and used to pass.
  ['market in XXX', (m) => void (m.markets.GB.currency = 'XXX'), 'CURRENCY', '/markets/GB/currency'],
  ['market in XAU', (m) => void (m.markets.GB.currency = 'XAU'), 'CURRENCY', '/markets/GB/currency'],
  ['market in XOF (a real currency)', (m) => void (m.markets = { SN: { currency: 'XOF', amountMinor: 3000 } }), null],
  ['market key "gb"', (m) => void (m.markets = { gb: m.markets.GB }), 'SCHEMA', '/markets/gb'],
  ['market key "UK"', (m) => void (m.markets = { UK: m.markets.GB }), 'SCHEMA', '/markets/UK'],
  ['cover unknown', (m) => void (m.cover = 'narwhal'), 'COVER_UNKNOWN', '/cover'],
  ['duplicate ids', (m) => void (m.assets[3].id = m.assets[1].id), 'ASSET_ID_DUPLICATE', '/assets/3/id'],
  ['C:/x.png', file('C:/x.png'), 'PATH_UNSAFE', '/assets/0/file'],
  ['UNC path', file('\\\\server\\x.png'), 'PATH_UNSAFE', '/assets/0/file'],
  ['/etc/passwd', file('/etc/passwd'), 'PATH_UNSAFE', '/assets/0/file'],
  ['assets/../assets/whale.png', file('assets/../assets/whale.png'), 'PATH_UNSAFE', '/assets/0/file'],
  // a percent-encoded traversal used to be ASSET_MISSING.
  ['%2e%2e traversal', file('%2e%2e/%2e%2e/etc/passwd'), 'PATH_UNSAFE', '/assets/0/file'],
  ['%2F absolute', file('%2Fetc%2Fpasswd'), 'PATH_UNSAFE', '/assets/0/file'],
  ['a literal % in a name is only missing', file('assets/100%25.png'), 'ASSET_MISSING', '/assets/0/file'],
  ['pack.json is null', () => 'null', 'SCHEMA', ''],
  ['pack.json is an array', () => '[]', 'SCHEMA', ''],
  ['pack.json is a string', () => '"pack"', 'SCHEMA', ''],
  ['empty pack.json', () => '', 'MANIFEST_UNREADABLE', null],
  ['NUL byte', (m) => `${JSON.stringify(m)}\u0000`, 'MANIFEST_UNREADABLE', null],
];

describe('hostile manifests, all in one validate --json run', () => {
  let results: Map<string, { ok: boolean; findings: Array<Record<string, any>> }>;
  let exit: number;
  beforeAll(async () => {
    const targets: string[] = [];
    cases.forEach(([, change], i) => {
      const dir = join(tmp.dir, `case-${i}`);
      cpSync(OCEAN, dir, { recursive: true });
      const m = oceanManifest();
      const out = change(m);
      writeFileSync(join(dir, 'pack.json'), typeof out === 'string' ? out : JSON.stringify(out ?? m, null, 2));
      targets.push(`case-${i}`);
    });
    const r = await runCli(['validate', '--json', ...targets], { cwd: tmp.dir });
    exit = r.code;
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    results = new Map(r.json().results.map((x: { target: string }) => [x.target, x]));
  });

  it('exits 1 (some packs fail), not 70', () => expect(exit).toBe(1));

  cases.forEach(([name, , code, pointer], i) => {
    it(`${name} → ${code ?? 'valid'}${pointer !== undefined && pointer !== null ? ` at "${pointer}"` : ''}`, () => {
      const result = results.get(`case-${i}`)!;
      if (code === null) {
        expect(result.findings).toEqual([]);
        return;
      }
      expect(result.ok).toBe(false);
      const f = result.findings.find((x) => x.code === code && (pointer === undefined || (x.pointer ?? null) === pointer));
      expect(f, JSON.stringify(result.findings)).toBeDefined();
      expect(f!.line).toBeGreaterThanOrEqual(1);
      expect(f!.column).toBeGreaterThanOrEqual(1);
    });
  });
});

describe('file-level limits', () => {
  it('a manifest over 1 MiB carries line 1, column 1 like the other unreadable-file findings', async () => {
    const dir = join(tmp.dir, 'over-1mib');
    cpSync(OCEAN, dir, { recursive: true });
    const m = oceanManifest();
    writeFileSync(join(dir, 'pack.json'), JSON.stringify({ ...m, description: 'a'.repeat(1024 * 1024) }));
    const r = await runCli(['validate', '--json', dir]);
    expect(r.code).toBe(1);
    const [f] = r.json().results[0].findings;
    expect(f).toMatchObject({ code: 'MANIFEST_UNREADABLE', line: 1, column: 1 });
  });

  it('many packs at once with one that does not exist: exit 3, PATH_NOT_FOUND', async () => {
    const r = await runCli(['validate', '--json', OCEAN, join(tmp.dir, 'no-such-pack')]);
    expect(r.code).toBe(3);
    expect(r.json().error.code).toBe('PATH_NOT_FOUND');
  });
});

function oceanManifest(): Manifest {
  return JSON.parse(readFileSync(join(OCEAN, 'pack.json'), 'utf8')) as Manifest;
}
