/**
 * The detached signatures `catalog publish` serves (PRODUCT.md §6, §10): each `.minisig` is
 * checked against the archive just copied and the key that verified it when the pack was
 * registered, then exactly the bytes checked are written into the staged site. A site never
 * serves a signature the app would refuse: another key's (SIGNATURE_UNTRUSTED_KEY), one that
 * does not verify or is not a signature at all (SIGNATURE_INVALID), or one naming another
 * pack (SIGNATURE_COMMENT_MISMATCH); all exit 3, and the previous site is left as it was.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { conflictError, inputError, isPackopsError } from '../shared/errors.js';
import { readInputSync } from '../shared/input.js';
import { checkPackSignature } from '../signing/pack-signature.js';
import type { SiteFile } from './feed.js';
import type { StoredPack } from './source.js';

/** A minisign signature is a few hundred bytes; its trusted comment at most 8 KiB. */
const SIGNATURE_MAX_BYTES = 16 * 1024;
/** A legacy (not prehashed) signature needs the archive in memory: `verify`'s default --max-size. */
const LEGACY_MAX_BYTES = 512 * 1024 * 1024;

/**
 * Packs registered before the ledger kept signing keys (migration 0500) cannot have their
 * signature checked: all of them are named at once, before anything is written.
 */
export function assertSigningKeysRecorded(files: readonly SiteFile[], stored: readonly StoredPack[]): void {
  const unrecorded = new Set(stored.filter((p) => p.signingKey === null).map((p) => `${p.manifest.slug}@${p.manifest.version}`));
  const missing = stored.filter(
    (p) => unrecorded.has(`${p.manifest.slug}@${p.manifest.version}`) && files.some((f) => f.kind === 'signature' && f.slug === p.manifest.slug && f.version === p.manifest.version),
  );
  if (missing.length === 0) return;
  const named = missing.map((p) => `${p.manifest.slug} ${p.manifest.version}`);
  throw conflictError(
    'SIGNATURE_KEY_UNRECORDED',
    `The ledger registered ${named.slice(0, 5).join(', ')}${named.length > 5 ? ` and ${named.length - 5} more` : ''} before it recorded signing keys, so their signatures cannot be checked: nothing was published.`,
    {
      hint: `Add each archive again (packops catalog add ${missing[0]!.archivePath} --pubkey <pk>): it records the key that verifies the signature and changes nothing else.`,
      details: { packs: missing.map((p) => ({ slug: p.manifest.slug, version: p.manifest.version, archivePath: p.archivePath })) },
    },
  );
}

/** Checks the registered archive's `.minisig` against the staged archive and its registered key, and writes it into the stage. */
export async function copySignature(
  pack: StoredPack,
  file: Extract<SiteFile, { kind: 'signature' }>,
  stage: string,
  digest: Buffer,
  stagedArchive: string,
): Promise<void> {
  const sig = `${pack.archivePath}.minisig`;
  const where = `${file.slug} ${file.version}`;
  let bytes: Buffer;
  try {
    bytes = readInputSync(sig, { what: 'signature', maxBytes: SIGNATURE_MAX_BYTES });
  } catch (err) {
    if (isPackopsError(err) && err.code === 'INPUT_TOO_LARGE') {
      throw inputError('SIGNATURE_INVALID', `The signature ${sig} of ${where} cannot be published: it is larger than a signature can be (at most ${SIGNATURE_MAX_BYTES} bytes).`, {
        details: { slug: file.slug, version: file.version, signature: sig },
      });
    }
    if (isPackopsError(err) && err.code === 'PATH_NOT_FOUND') {
      throw inputError('SIGNATURE_MISSING', `The signature ${sig} of ${where} is missing.`, {
        hint: 'The catalog publishes each archive with its detached .minisig; keep it beside the archive.',
        details: { slug: file.slug, version: file.version },
      });
    }
    throw err;
  }
  const check = checkPackSignature({
    text: bytes.toString('utf8'),
    key: pack.signingKey!,
    slug: file.slug,
    version: file.version,
    digest,
    data: () => (pack.bytes <= LEGACY_MAX_BYTES ? readInputSync(stagedArchive, { what: 'archive', maxBytes: LEGACY_MAX_BYTES }) : undefined),
  });
  if (!check.ok) {
    throw inputError(check.code, `The signature ${sig} of ${where} cannot be published: ${check.reason}.`, {
      hint: 'Put back the .minisig that was beside the archive when it was added, or sign the archive again with the key it was registered with (packops build with the same sources and key writes the same signature).',
      details: { slug: file.slug, version: file.version, signature: sig },
    });
  }
  await writeFile(join(stage, file.sitePath), bytes, { flag: 'wx', mode: 0o644 });
}
