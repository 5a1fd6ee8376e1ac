/**
 * `verify --rebuild <pack-dir>`: the reviewer's reproducibility check. The pack is rebuilt
 * from its sources in a temporary folder — assets re-encoded without the cache, the same
 * entry timestamp as the archive under review — and the bytes are compared. The reviewer
 * has no secret key: the rebuilt archive embeds the archive's own INTEGRITY.json.minisig,
 * which is byte-identical exactly when the rebuilt INTEGRITY.json is.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yauzl from 'yauzl';
import { isOk, type Finding } from '../shared/findings.js';
import { archiveManifest, writePackArchive } from './build.js';
import { INTEGRITY_JSON, INTEGRITY_SIG, METADATA_ENTRY_MAX, parseIntegrity, stableJson } from './integrity.js';
import { hashFile } from './file-digest.js';
import { fromDosDateTime } from './zip-format.js';

export interface RebuildSummary {
  identical: boolean;
  /** SHA-256 of the archive under review and of the rebuilt one. */
  sha256: string;
  rebuiltSha256?: string;
  /** Entries whose content differs (or exists on one side only). */
  differing: string[];
}

export interface RebuildOutcome {
  identical: boolean;
  summary: RebuildSummary;
  findings: Finding[];
}

/** The signature, integrity list and entry time of the archive under review. */
async function readOriginal(zipPath: string): Promise<{ sig?: string; integrity?: string; mtime?: number }> {
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, validateEntrySizes: true });
  const out: { sig?: string; integrity?: string; mtime?: number } = {};
  try {
    for await (const entry of zip.eachEntry()) {
      out.mtime ??= fromDosDateTime(entry.lastModFileDate, entry.lastModFileTime);
      if ((entry.fileName === INTEGRITY_SIG || entry.fileName === INTEGRITY_JSON) && entry.uncompressedSize <= METADATA_ENTRY_MAX) {
        const chunks: Buffer[] = [];
        for await (const c of await zip.openReadStreamPromise(entry)) chunks.push(c as Buffer);
        const text = Buffer.concat(chunks).toString('utf8');
        if (entry.fileName === INTEGRITY_SIG) out.sig = text;
        else out.integrity = text;
      }
    }
  } finally {
    zip.close();
  }
  return out;
}

export async function rebuildAndCompare(
  zipPath: string,
  packDir: string,
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RebuildOutcome> {
  const cwd = options.cwd ?? process.cwd();
  const original = await hashFile(zipPath);
  const summary: RebuildSummary = { identical: false, sha256: original.sha256, differing: [] };
  const mismatch = (message: string, hint?: string): RebuildOutcome => ({
    identical: false,
    summary,
    findings: [{ code: 'REBUILD_MISMATCH', severity: 'error', file: zipPath, message, ...(hint ? { hint } : {}) }],
  });

  let before: Awaited<ReturnType<typeof readOriginal>>;
  try {
    before = await readOriginal(zipPath);
  } catch (err) {
    return mismatch(`Cannot rebuild: the archive cannot be read (${(err as Error).message}).`);
  }
  if (before.sig === undefined) return mismatch(`Cannot rebuild: the archive holds no ${INTEGRITY_SIG}.`);

  const { validatePack } = await import('../manifest/validate.js');
  const validation = await validatePack(packDir, { files: true, cwd });
  if (!validation.ok || !validation.manifest) {
    return { identical: false, summary, findings: [...validation.findings, ...mismatch('The sources have findings; they cannot rebuild the archive.').findings] };
  }
  const tmp = await mkdtemp(join(tmpdir(), 'packops-rebuild-'));
  try {
    const { optimisePack } = await import('../assets/pipeline.js');
    const optimised = await optimisePack(packDir, { out: join(tmp, 'out'), cacheDir: join(tmp, 'cache'), cache: false, cwd });
    if (!optimised.result.ok || !isOk(optimised.result.findings)) {
      return { identical: false, summary, findings: [...optimised.result.findings, ...mismatch('The assets could not be rebuilt.').findings] };
    }
    const { manifest, variants } = archiveManifest(validation.manifest, optimised.lock);
    const rebuilt = await writePackArchive({
      zipPath: join(tmp, 'rebuilt.zip'),
      slug: manifest.slug,
      version: manifest.version,
      packJson: Buffer.from(stableJson(manifest), 'utf8'),
      variants: variants.map((v) => ({ path: v.path, file: join(optimised.outDir, v.path), bytes: v.bytes, sha256: v.sha256 })),
      integritySignature: before.sig,
      ...(before.mtime !== undefined ? { sourceDateEpoch: before.mtime } : {}),
    });
    summary.rebuiltSha256 = rebuilt.sha256;
    summary.identical = rebuilt.sha256 === original.sha256;
    if (summary.identical) return { identical: true, summary, findings: [] };

    const listed = new Map<string, string>();
    const parsed = before.integrity !== undefined ? parseIntegrity(before.integrity) : undefined;
    if (parsed?.ok) for (const f of parsed.doc.files) listed.set(f.path, f.sha256);
    const now = new Map(rebuilt.entries.map((e) => [e.path, e.sha256]));
    for (const path of new Set([...listed.keys(), ...now.keys()])) if (listed.get(path) !== now.get(path)) summary.differing.push(path);
    summary.differing.sort();
    return mismatch(
      summary.differing.length > 0
        ? `The rebuilt archive differs: ${summary.differing.join(', ')}.`
        : 'The rebuilt archive differs in its zip structure (timestamps, order or compression), not in its files.',
      'Rebuild with the same packops version and sources; a different sharp or zlib build may encode differently.',
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
