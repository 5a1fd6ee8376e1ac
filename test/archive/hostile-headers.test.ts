// Hostile archives found in an audit: a zip whose local headers or CRC-32 disagree with
// what extractors check, and a pack.json inside the archive that `validate` would refuse
// (a byte-order mark, nesting deep enough to overflow a recursive check). Each archive is
// otherwise valid and signed by a trusted key, so the finding is the verifier's own.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stableJson } from '../../src/archive/integrity.js';
import { verifyArchive, type ArchiveVerification } from '../../src/archive/verify.js';
import { generateSecretKey, type PublicKey } from '../../src/signing/minisign.js';
import { tempDir } from '../helpers/cli.js';
import { resign, sampleFiles, signedArchive } from './craft.js';

const key = generateSecretKey();
const trusted: PublicKey[] = [key.toPublicKey()];
let dir: string;
let cleanup: () => void;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('packops-hostile-headers-'));
});
afterAll(() => cleanup());

const codes = (r: ArchiveVerification) => r.findings.map((f) => f.code);
const verify = (zip: string) => verifyArchive(zip, { keys: trusted, cwd: dir });

/** Offset of the local header of the entry named `name` (craftZip writes no data descriptors). */
function localHeaderOf(zip: Buffer, name: string): number {
  for (let at = zip.indexOf('PK\u0003\u0004'); at !== -1; at = zip.indexOf('PK\u0003\u0004', at + 4)) {
    const n = zip.readUInt16LE(at + 26);
    if (zip.subarray(at + 30, at + 30 + n).toString('utf8') === name) return at;
  }
  throw new Error(`no local header for ${name}`);
}

describe('local headers and CRC-32', () => {
  for (const [field, offset] of [
    ['uncompressed size', 22],
    ['compressed size', 18],
    ['CRC-32', 14],
  ] as const) {
    it(`refuses a local header whose ${field} disagrees with the central directory`, async () => {
      const zip = signedArchive(dir, key, `local-${offset}.zip`);
      const bytes = readFileSync(zip);
      const at = localHeaderOf(bytes, 'assets/whale/512.webp');
      bytes.writeUInt32LE((bytes.readUInt32LE(at + offset) ^ 0x1) >>> 0, at + offset);
      writeFileSync(zip, bytes);
      resign(zip, key);
      const r = await verify(zip);
      expect(r.ok).toBe(false);
      expect(codes(r)).toContain('ZIP_CORRUPT');
      expect(r.findings.find((f) => f.code === 'ZIP_CORRUPT')?.message).toContain(`another ${field} in its local header`);
    });
  }

  it('refuses an entry whose bytes do not match the CRC-32 both headers declare (unzip refuses it)', async () => {
    const zip = signedArchive(dir, key, 'crc.zip', {
      mutate: (entries) => entries.map((e) => (e.name === 'assets/crab/512.webp' ? { ...e, crc: 0x12345678 } : e)),
    });
    const r = await verify(zip);
    expect(r.ok).toBe(false);
    expect(codes(r)).toEqual(['ZIP_CORRUPT']);
    expect(r.findings[0]!.message).toContain('CRC-32');
  });
});

describe('pack.json inside the archive', () => {
  it('refuses a byte-order mark, as validate does (MANIFEST_UNREADABLE, not silently stripped)', async () => {
    const { manifest } = sampleFiles();
    const packJson = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(stableJson(manifest))]);
    const r = await verify(signedArchive(dir, key, 'bom.zip', { packJson }));
    expect(r.ok).toBe(false);
    expect(codes(r)).toEqual(['MANIFEST_UNREADABLE']);
  });

  it('refuses nesting deeper than 64 levels as MANIFEST_UNREADABLE instead of overflowing the stack', async () => {
    const { manifest } = sampleFiles();
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const packJson = Buffer.from(stableJson(manifest).replace('{', `{"deep": ${deep},`));
    const r = await verify(signedArchive(dir, key, 'deep.zip', { packJson }));
    expect(r.ok).toBe(false);
    expect(codes(r)).toEqual(['MANIFEST_UNREADABLE']);
    expect(r.findings[0]!.message).toContain('64 levels');
  });
});
