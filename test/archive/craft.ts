/**
 * Test helpers: a byte-level zip writer we control completely (to craft hostile archives
 * the real writer refuses to make), and a signed archive made from it with a test key, so
 * that each hostile case differs from a valid archive in exactly one way.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { integrityDocument, serializeIntegrity, stableJson, trustedCommentFor } from '../../src/archive/integrity.js';
import type { PackManifest } from '../../src/manifest/types.js';
import { prehash, signMessage, type SecretKey } from '../../src/signing/minisign.js';
import { FIXTURES } from '../helpers/cli.js';

export interface RawEntry {
  name: string | Buffer;
  /** Uncompressed content (used for the CRC and, unless `compressed` is given, the body). */
  data?: Buffer;
  /** Ready compressed body (for bombs): written as is, with `size` and `crc` declared. */
  compressed?: Buffer;
  method?: 0 | 8;
  /** Declared uncompressed size (default: data length). */
  size?: number;
  crc?: number;
  /** Unix mode in the external attributes (default 0o100644). */
  mode?: number;
  /** Name in the local header, when it should differ from the central directory's. */
  localName?: string | Buffer;
  extra?: Buffer;
  /** Written as a local entry but left out of the central directory (what streaming extractors still unpack). */
  hidden?: boolean;
  /** Raw bytes written just before this entry's local header, belonging to no entry. */
  before?: Buffer;
  /** List this entry in the central directory at the local header of the entry with this name instead of its own. */
  pointAt?: string;
}

/** Writes a zip (no data descriptors) exactly as described. */
export function craftZip(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  const offsets = new Map<string, number>();
  let listed = 0;
  let offset = 0;
  for (const e of entries) {
    if (e.before) {
      parts.push(e.before);
      offset += e.before.length;
    }
    const name = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name, 'utf8');
    const localName = e.localName === undefined ? name : Buffer.isBuffer(e.localName) ? e.localName : Buffer.from(e.localName, 'utf8');
    const data = e.data ?? Buffer.alloc(0);
    const method = e.method ?? 0;
    const body = e.compressed ?? (method === 8 ? deflateRawSync(data) : data);
    const size = e.size ?? data.length;
    const crc = e.crc ?? crc32(data) >>> 0;
    const extra = e.extra ?? Buffer.alloc(0);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(0x0800, 6);
    lh.writeUInt16LE(method, 8);
    lh.writeUInt16LE(0x21, 12); // 1980-01-01
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(size, 22);
    lh.writeUInt16LE(localName.length, 26);
    lh.writeUInt16LE(extra.length, 28);
    parts.push(lh, localName, extra, body);
    offsets.set(name.toString('latin1'), offset);
    if (e.hidden) {
      offset += 30 + localName.length + extra.length + body.length;
      continue;
    }
    listed++;
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE((3 << 8) | 20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(0x0800, 8);
    ch.writeUInt16LE(method, 10);
    ch.writeUInt16LE(0x21, 14);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(size, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt16LE(extra.length, 30);
    ch.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    ch.writeUInt32LE(e.pointAt !== undefined ? offsets.get(Buffer.from(e.pointAt).toString('latin1'))! : offset, 42);
    central.push(ch, name, extra);
    offset += 30 + localName.length + extra.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(listed, 8);
  end.writeUInt16LE(listed, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cd, end]);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The ocean-creatures manifest with one small variant per asset (random bytes as WebP). */
export function sampleFiles(): { manifest: PackManifest; files: Array<{ path: string; data: Buffer }> } {
  const source = JSON.parse(readFileSync(join(FIXTURES, 'packs', 'ocean-creatures', 'pack.json'), 'utf8')) as PackManifest;
  const files: Array<{ path: string; data: Buffer }> = [];
  const assets = source.assets.map((a, i) => {
    const data = Buffer.from(`RIFF-${a.id}-${i}-`.repeat(20));
    const path = `assets/${a.id}/512.webp`;
    files.push({ path, data });
    return {
      ...a,
      variants: [{ path, name: '512', format: 'webp' as const, width: 512, height: 512, bytes: data.length, sha256: sha256(data), placeholder: 'AAAA' }],
    };
  });
  return { manifest: { ...source, assets }, files };
}

export interface SignedArchiveOptions {
  /** Entries added after the listed ones, not in INTEGRITY.json. */
  extra?: RawEntry[];
  /** Change the listed entries (raw) before writing. */
  mutate?: (entries: RawEntry[]) => RawEntry[];
  /** Sign INTEGRITY.json with this text instead (e.g. another archive's signature). */
  integritySignature?: string;
  /** Or sign INTEGRITY.json with this function (e.g. the minisign binary). */
  signIntegrity?: (integrity: Buffer, trustedComment: string) => string;
  trustedComment?: string;
  files?: Array<{ path: string; data: Buffer }>;
  manifest?: PackManifest;
  /** pack.json's exact bytes (listed in INTEGRITY.json and signed like any other). */
  packJson?: Buffer;
}

/** A complete, signed archive in `dir`; returns the zip path (signature beside it). */
export function signedArchive(dir: string, key: SecretKey, name: string, options: SignedArchiveOptions = {}): string {
  const sample = sampleFiles();
  const manifest = options.manifest ?? sample.manifest;
  const files = options.files ?? sample.files;
  const packJson = options.packJson ?? Buffer.from(stableJson(manifest));
  const listed = [{ path: 'pack.json', data: packJson }, ...files];
  const integrity = Buffer.from(serializeIntegrity(integrityDocument(listed.map((f) => ({ path: f.path, size: f.data.length, sha256: sha256(f.data) })))));
  const comment = options.trustedComment ?? trustedCommentFor(manifest.slug, manifest.version);
  const integritySig =
    options.integritySignature ?? options.signIntegrity?.(integrity, comment) ?? signMessage(key, prehash(integrity), { trustedComment: comment });
  let entries: RawEntry[] = [
    { name: 'INTEGRITY.json', data: integrity, method: 8 },
    { name: 'INTEGRITY.json.minisig', data: Buffer.from(integritySig), method: 8 },
    ...listed.map((f) => ({ name: f.path, data: f.data, method: (f.path.endsWith('.json') ? 8 : 0) as 0 | 8 })),
  ];
  if (options.mutate) entries = options.mutate(entries);
  const zip = craftZip([...entries, ...(options.extra ?? [])]);
  const zipPath = join(dir, name);
  writeFileSync(zipPath, zip);
  writeFileSync(`${zipPath}.minisig`, signMessage(key, prehash(zip), { trustedComment: comment }));
  return zipPath;
}

/** Re-signs a zip file's detached signature (after a test changed it on purpose). */
export function resign(zipPath: string, key: SecretKey, comment = 'slug=ocean-creatures version=1.0.0'): void {
  writeFileSync(`${zipPath}.minisig`, signMessage(key, prehash(readFileSync(zipPath)), { trustedComment: comment }));
}
