/**
 * verify refuses an archive whose local entries do not tile the file: a local entry the
 * central directory does not list (before the first listed one, between two, or after the
 * last) is unpacked by streaming extractors such as Android's ZipInputStream while verify
 * never sees it. Every hostile zip is real bytes, signed with a trusted key (the detached
 * signature covers the whole file, hidden entry included), verified by the built CLI.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPublicKeyFile, generateSecretKey } from '../../src/signing/minisign.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { signedArchive, type RawEntry } from './craft.js';

const key = generateSecretKey();
const tmp = tempDir('packops-tiling-');
const pub = join(tmp.dir, 'packops.pub');
afterAll(() => tmp.cleanup());
beforeAll(() => writeFileSync(pub, formatPublicKeyFile(key.toPublicKey())));

// Unreviewed art under the name of a reviewed variant: an extractor that walks local
// headers writes it, then (or instead of) the listed file.
const evil: RawEntry = { name: 'assets/whale/512.webp', data: Buffer.from('RIFF-unreviewed-art-with-GPS'), hidden: true };
const at = (index: number, entry: RawEntry) => (entries: RawEntry[]) => [...entries.slice(0, index), entry, ...entries.slice(index)];

async function verify(zip: string) {
  const r = await runCli(['verify', zip, '--pubkey', pub, '--json']);
  return { code: r.code, findings: (r.json().results[0].findings as Array<{ code: string; message: string }>) ?? [], stderr: r.stderr };
}

describe('verify: local entries tile the archive', () => {
  it('accepts the crafted archive without hidden bytes (the control case)', async () => {
    const r = await verify(signedArchive(tmp.dir, key, 'valid.zip'));
    expect(r.findings).toEqual([]);
    expect(r.code).toBe(0);
  });

  const cases: Array<[string, (entries: RawEntry[]) => RawEntry[], RegExp]> = [
    ['an entry hidden before the first listed one', at(0, evil), /offset 0, before the entry "INTEGRITY\.json".*local entry "assets\/whale\/512\.webp"/],
    ['an entry hidden between two listed ones', (e) => at(e.findIndex((x) => x.name === 'assets/whale/512.webp') + 1, evil)(e), /local entry "assets\/whale\/512\.webp" that the central directory does not list/],
    ['an entry hidden after the last listed one', (e) => [...e, evil], /between the last entry and the central directory.*local entry/],
    ['plain bytes between two entries', (e) => e.map((x, i) => (i === 2 ? { ...x, before: Buffer.from('padding that is no entry') } : x)), /bytes that belong to no listed entry/],
    ['bytes before the first entry (a self-extractor stub)', (e) => e.map((x, i) => (i === 0 ? { ...x, before: Buffer.alloc(64, 0x90) } : x)), /64 bytes at offset 0/],
    [
      'two listed entries sharing one local header',
      (e) => e.map((x) => (x.name === 'assets/whale/512.webp' ? { ...x, pointAt: String(e.find((y) => y.name.toString().startsWith('assets/') && y.name !== x.name)!.name) } : x)),
      /overlaps|does not list|no listed entry/,
    ],
  ];
  for (const [label, mutate, message] of cases) {
    it(`refuses ${label}: ZIP_CORRUPT, exit 1`, async () => {
      const zip = signedArchive(tmp.dir, key, `${label.replace(/\W+/g, '-')}.zip`, { mutate });
      const r = await verify(zip);
      expect(r.code, r.stderr).toBe(1);
      const corrupt = r.findings.filter((f) => f.code === 'ZIP_CORRUPT');
      expect(corrupt.length, JSON.stringify(r.findings)).toBeGreaterThan(0);
      expect(corrupt.map((f) => f.message).join('\n')).toMatch(message);
      // The detached signature is valid: the refusal comes from the layout alone.
      expect(r.findings.map((f) => f.code)).not.toContain('SIGNATURE_INVALID');
    });
  }
});
