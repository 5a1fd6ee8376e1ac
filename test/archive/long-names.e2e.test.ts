/**
 * Entry names longer than a file system can extract are ZIP_UNSAFE_PATH, found before any
 * name is a Map key (V8 hashes a string of 16,383+ units by its length: thousands of such
 * names of one length made verify quadratic). The zips are written by Python's zipfile (a
 * real, independent writer); the detached signature is valid, so the findings come from
 * the names alone. The boundaries: 4,095 bytes per name, 255 bytes per segment, counted in
 * UTF-8 bytes, not characters.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPublicKeyFile, generateSecretKey } from '../../src/signing/minisign.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { resign, sampleFiles, signedArchive } from './craft.js';

const key = generateSecretKey();
const tmp = tempDir('packops-long-names-');
const pub = join(tmp.dir, 'packops.pub');
const zip = join(tmp.dir, 'long-names.zip');
afterAll(() => tmp.cleanup());

// Each line: the entry name, as Python builds it.
const NAMES = {
  long0: "'assets/' + 'a' * 17000 + '00000'",
  long1: "'assets/' + 'a' * 17000 + '00001'",
  long2: "'assets/' + 'a' * 17000 + '00002'",
  name4096: "'/'.join(['b' * 255] * 15 + ['c' * 200, 'd' * 55])",
  name4095: "'/'.join(['b' * 255] * 15 + ['c' * 200, 'd' * 54])",
  segment256: "'assets/' + '\\u00e9' * 128 + '.webp'",
  segment255: "'assets/' + '\\u00e9' * 127 + 'a'",
};

type Finding = { code: string; message: string };

beforeAll(() => {
  writeFileSync(pub, formatPublicKeyFile(key.toPublicKey()));
  const script = [
    'import sys, zipfile',
    "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_STORED) as z:",
    ...Object.values(NAMES).map((expr) => `    z.writestr(${expr}, b'RIFF')`),
  ].join('\n');
  execFileSync('python3', ['-c', script, zip]);
  resign(zip, key);
});

describe('verify and catalog add: entry names too long to extract', () => {
  it('verify reports each over-long name or segment as ZIP_UNSAFE_PATH, and accepts the longest extractable ones', async () => {
    const r = await runCli(['verify', zip, '--pubkey', pub, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const findings = r.json().results[0].findings as Finding[];
    const unsafe = findings.filter((f) => f.code === 'ZIP_UNSAFE_PATH');
    expect(unsafe).toHaveLength(5);
    expect(unsafe.filter((f) => f.message.includes('longer than 4095 bytes'))).toHaveLength(4);
    expect(unsafe.filter((f) => f.message.includes('a segment longer than 255 bytes'))).toHaveLength(1);
    // A 4,095-byte name and a 255-byte segment (127 two-byte characters and one more) unpack.
    expect(unsafe.some((f) => f.message.includes('ddd"'))).toBe(false);
    // The messages name the entry without copying 17,000 characters into the output.
    for (const f of unsafe) expect(f.message.length).toBeLessThan(400);
    expect(unsafe[0]!.message).toMatch(/\(17012 characters\)/);
    expect(findings.map((f) => f.code)).not.toContain('SIGNATURE_INVALID');
    expect(r.stderr).not.toMatch(/\bat .+\.js:\d+/);
  });

  it('catalog add refuses the same archive, registering nothing', async () => {
    const r = await runCli(['catalog', 'add', zip, '--pubkey', pub, '--json'], { env: { PACKOPS_DB: join(tmp.dir, 'p.db') } });
    expect(r.code, r.stderr).toBe(1);
    const codes = (r.json().results[0].findings as Finding[]).map((f) => f.code);
    expect(codes.filter((c) => c === 'ZIP_UNSAFE_PATH')).toHaveLength(5);
  });

  it('an INTEGRITY.json path too long for any entry makes the list invalid (INTEGRITY_MISMATCH)', async () => {
    const long = `assets/${'a'.repeat(17_000)}/512.webp`;
    const sample = sampleFiles();
    // Listed and signed in INTEGRITY.json, but left out of the zip itself.
    const path = signedArchive(tmp.dir, key, 'long-integrity.zip', {
      files: [...sample.files, { path: long, data: Buffer.from('RIFF') }],
      mutate: (entries) => entries.filter((e) => e.name !== long),
    });
    const r = await runCli(['verify', path, '--pubkey', pub, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const findings = r.json().results[0].findings as Finding[];
    const mismatch = findings.filter((f) => f.code === 'INTEGRITY_MISMATCH');
    expect(mismatch).toHaveLength(1);
    expect(mismatch[0]!.message).toMatch(/files\/\d+ lists the path "assets\/a+… \(17016 characters\)", which no archive entry can have: it is longer than 4095 bytes/);
    expect(mismatch[0]!.message.length).toBeLessThan(500);
    expect(findings.map((f) => f.code)).not.toContain('ZIP_UNSAFE_PATH');
  });
});
