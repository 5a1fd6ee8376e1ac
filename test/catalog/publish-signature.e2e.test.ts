// catalog publish serves a .minisig only after checking it against the archive it copied and
// the key that verified it at registration (review 7, archives finding 4): another key's
// signature, text that is no signature, a signature over other bytes or naming another pack
// is refused (exit 3) and the previous site is left as it was. Ledgers registered before the
// key was recorded (migration 0500) are refused until the archive is added again.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger } from '../../src/ledger/db.js';
import { loadSecretKey, type SecretKey } from '../../src/signing/keys.js';
import { generateSecretKey, prehash, signMessage } from '../../src/signing/minisign.js';
import { epochOf, workspace, type Workspace } from './workspace.js';

let ws: Workspace;
let key: SecretKey;
const NOV = epochOf('2026-11-26');
const ZIP = join('dist', 'forest-scenes-1.0.0.zip');
const COMMENT = 'slug=forest-scenes version=1.0.0';
let original: Buffer;

beforeAll(async () => {
  ws = await workspace(['forest-scenes']);
  const r = await ws.run(['release', ...ws.packs, '--key', 'keys/packops.key', '--published-at', '2026-09-01T00:00:00Z']);
  if (r.code !== 0) throw new Error(`release failed\n${r.stderr}`);
  key = await loadSecretKey({ keyPath: 'keys/packops.key', env: {}, cwd: ws.dir });
  original = readFileSync(join(ws.dir, `${ZIP}.minisig`));
  const first = await ws.run(['catalog', 'publish', '--out', 'site'], { SOURCE_DATE_EPOCH: NOV });
  if (first.code !== 0) throw new Error(`publish failed\n${first.stderr}`);
}, 180_000);
afterAll(() => ws?.cleanup());

const publishedSig = () => readFileSync(join(ws.dir, 'site', 'packs', 'forest-scenes', 'forest-scenes-1.0.0.zip.minisig'));
const zipBytes = () => readFileSync(join(ws.dir, ZIP));

async function expectRefused(sig: string | Buffer, code: string, reason: RegExp): Promise<void> {
  const before = readFileSync(join(ws.dir, 'site', 'catalog.json'));
  writeFileSync(join(ws.dir, `${ZIP}.minisig`), sig);
  try {
    const r = await ws.run(['catalog', 'publish', '--out', 'site', '--json'], { SOURCE_DATE_EPOCH: NOV });
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const error = r.json().error;
    expect(error).toMatchObject({ code, details: { slug: 'forest-scenes', version: '1.0.0' } });
    expect(error.message).toMatch(reason);
    // The previous site is untouched, and nothing is left beside it.
    expect(publishedSig().equals(original)).toBe(true);
    expect(readFileSync(join(ws.dir, 'site', 'catalog.json')).equals(before)).toBe(true);
    expect(readdirSync(ws.dir).filter((n) => n.endsWith('.staging') || n.endsWith('.old') || n.endsWith('.lock'))).toEqual([]);
  } finally {
    writeFileSync(join(ws.dir, `${ZIP}.minisig`), original);
  }
}

describe('catalog publish checks each .minisig it copies', () => {
  it('records the key that verified the signature when the pack is registered', async () => {
    const ledger = await openLedger(ws.db);
    try {
      const row = await ledger.db.selectFrom('packs').select('signing_key').where('slug', '=', 'forest-scenes').executeTakeFirstOrThrow();
      expect(row.signing_key).toBe(readFileSync(join(ws.dir, 'keys', 'packops.pub'), 'utf8').split('\n')[1]);
    } finally {
      await ledger.close();
    }
    expect(publishedSig().equals(original)).toBe(true);
  });

  it('refuses a signature by another key (SIGNATURE_UNTRUSTED_KEY)', async () => {
    const other = generateSecretKey();
    await expectRefused(signMessage(other, prehash(zipBytes()), { trustedComment: COMMENT }), 'SIGNATURE_UNTRUSTED_KEY', new RegExp(`made by key ${other.keyId}.*key ${key.keyId}`));
  });

  it('refuses text that is not a signature, and a file too large to be one (SIGNATURE_INVALID)', async () => {
    await expectRefused('garbage <script>\n', 'SIGNATURE_INVALID', /not a minisign signature/);
    await expectRefused(Buffer.alloc(20_000, 'A'), 'SIGNATURE_INVALID', /at most/);
  });

  it('refuses a signature by the right key over other bytes (SIGNATURE_INVALID)', async () => {
    const other = Buffer.concat([zipBytes(), Buffer.from('!')]);
    await expectRefused(signMessage(key, prehash(other), { trustedComment: COMMENT }), 'SIGNATURE_INVALID', /does not verify against the archive/);
    // A legacy signature over other bytes too.
    await expectRefused(signMessage(key, other, { trustedComment: COMMENT, legacy: true }), 'SIGNATURE_INVALID', /does not verify/);
  });

  it('refuses a signature naming another pack or version (SIGNATURE_COMMENT_MISMATCH)', async () => {
    await expectRefused(signMessage(key, prehash(zipBytes()), { trustedComment: 'slug=forest-scenes version=9.0.0' }), 'SIGNATURE_COMMENT_MISMATCH', /version=9\.0\.0/);
  });

  it('publishes a valid legacy signature by the registered key as it is', async () => {
    const legacy = signMessage(key, zipBytes(), { trustedComment: COMMENT, legacy: true });
    writeFileSync(join(ws.dir, `${ZIP}.minisig`), legacy);
    try {
      const r = await ws.run(['catalog', 'publish', '--out', 'site-legacy', '--json'], { SOURCE_DATE_EPOCH: NOV });
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(join(ws.dir, 'site-legacy', 'packs', 'forest-scenes', 'forest-scenes-1.0.0.zip.minisig'), 'utf8')).toBe(legacy);
    } finally {
      writeFileSync(join(ws.dir, `${ZIP}.minisig`), original);
    }
  });
});

describe('a ledger registered before signing keys were recorded', () => {
  it('refuses to publish (SIGNATURE_KEY_UNRECORDED, exit 4) until the archive is added again', async () => {
    const ledger = await openLedger(ws.db);
    try {
      await ledger.db.updateTable('packs').set({ signing_key: null }).execute();
    } finally {
      await ledger.close();
    }
    const refused = await ws.run(['catalog', 'publish', '--out', 'site-old', '--json'], { SOURCE_DATE_EPOCH: NOV });
    expect(refused.code, refused.stderr).toBe(4);
    expect(refused.json().error).toMatchObject({ code: 'SIGNATURE_KEY_UNRECORDED', details: { packs: [{ slug: 'forest-scenes', version: '1.0.0' }] } });
    expect(refused.json().error.hint).toContain('catalog add');
    expect(readdirSync(ws.dir)).not.toContain('site-old');

    const add = await ws.run(['catalog', 'add', ZIP, '--pubkey', 'keys/packops.pub', '--json']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.json().results[0]).toMatchObject({ status: 'unchanged', keyId: key.keyId });
    const published = await ws.run(['catalog', 'publish', '--out', 'site-old', '--json'], { SOURCE_DATE_EPOCH: NOV });
    expect(published.code, published.stderr).toBe(0);
  });
});
