/**
 * `packops release`: the whole path for CI, one pack after another —
 * validate → assets → build → verify → register (catalog add) — then, optionally, one
 * catalog publish. It stops at the first pack that fails a step and returns that pack's
 * findings. Idempotent: the assets cache makes a second run do no image work, an archive
 * already holding exactly the pack.json and variants this run would write (signed by this
 * key) is kept as it is, and the ledger registers a slug and version once.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Ledger } from '../ledger/db.js';
import type { PackManifest } from '../manifest/types.js';
import { errnoCode, inputError, isPackopsError, PackopsError } from '../shared/errors.js';
import { publishedAtInstant } from '../shared/timestamp.js';
import { isOk, type Finding } from '../shared/findings.js';
import type { PublicKey, SecretKey } from '../signing/keys.js';
import type { PublishResult } from '../catalog/publish.js';
import type { ArchiveVerification } from '../archive/verify.js';

export const RELEASE_STEPS = ['validate', 'assets', 'build', 'verify', 'register', 'publish'] as const;
export type ReleaseStep = (typeof RELEASE_STEPS)[number];

export interface ReleaseEvent {
  step: ReleaseStep;
  /** The pack being released (absent for publish). */
  target?: string;
  status: 'start' | 'done';
  detail?: string;
}

export interface ReleaseOptions {
  secretKey: SecretKey;
  /** The key verify trusts; it must be the signing key's public half. */
  publicKey: PublicKey;
  ledger: Ledger;
  /** Folder for archives. */
  outDir: string;
  /** Registration time for packs not registered yet (ISO 8601 with a zone). */
  publishedAt: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** false: redo image work even when the assets cache has it. */
  cache?: boolean;
  /** The assets cache folder (default: the per-user cache). */
  cacheDir?: string;
  publish?: { out: string; baseUrl?: string; market?: string; now: Date };
  onEvent?: (event: ReleaseEvent) => void;
}

export interface PackRelease {
  target: string;
  ok: boolean;
  slug?: string;
  version?: string;
  /** The step that failed, when one did. */
  failedStep?: ReleaseStep;
  /** Findings of the failing step (warnings of passing steps too). */
  findings: Finding[];
  assets?: { variants: number; encoded: number; cached: number; outDir: string };
  archive?: { path: string; sigPath: string; sha256: string; bytes: number; status: 'built' | 'unchanged'; keyId: string };
  registration?: { status: 'added' | 'unchanged'; owner: string; publishedAt: string };
}

export interface ReleaseResult {
  ok: boolean;
  packs: PackRelease[];
  /** Packs not attempted because an earlier one failed. */
  notAttempted: string[];
  publish?: PublishResult;
}

/** The signing key and the verification key must be one pair. */
export function checkKeyPair(secretKey: SecretKey, publicKey: PublicKey): void {
  if (secretKey.keyId !== publicKey.keyId || !secretKey.publicKey.equals(publicKey.publicKey)) {
    throw inputError(
      'KEY_MISMATCH',
      `The public key ${publicKey.source} (key id ${publicKey.keyId}) is not the public half of the signing key (key id ${secretKey.keyId}).`,
      { hint: 'Pass the .pub file generated with this secret key, or leave --pubkey out to derive it from the secret key.' },
    );
  }
}

async function assertTargetsExist(targets: readonly string[]): Promise<void> {
  for (const t of targets) {
    try {
      await stat(t);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        throw inputError('PATH_NOT_FOUND', `${t} does not exist; nothing was released.`, { details: { path: t } });
      }
      throw err;
    }
  }
}

/**
 * Whether `zipPath` already holds exactly the archive this run would build: it verifies
 * against the release key and its pack.json is byte for byte the one the build would
 * write (so every variant's hash, listed there, matches the lock too).
 */
async function existingArchiveMatches(zipPath: string, expected: PackManifest, options: ReleaseOptions): Promise<ArchiveVerification | undefined> {
  try {
    await stat(zipPath);
    await stat(`${zipPath}.minisig`);
  } catch {
    return undefined;
  }
  const { verifyArchive } = await import('../archive/verify.js');
  const { stableJson } = await import('../archive/integrity.js');
  const existing = await verifyArchive(zipPath, { keys: [options.publicKey], cwd: options.cwd });
  if (!existing.ok || existing.manifest === undefined) return undefined;
  if (stableJson(existing.manifest) !== stableJson(expected)) return undefined;
  return existing;
}

async function releaseOne(target: string, options: ReleaseOptions): Promise<PackRelease> {
  const emit = (step: ReleaseStep, status: 'start' | 'done', detail?: string) => options.onEvent?.({ step, target, status, detail });
  const out: PackRelease = { target, ok: false, findings: [] };
  const fail = (step: ReleaseStep, findings: Finding[]): PackRelease => ({ ...out, ok: false, failedStep: step, findings: [...out.findings, ...findings] });
  const warnings = (findings: Finding[]) => out.findings.push(...findings.filter((f) => f.severity === 'warning'));

  emit('validate', 'start');
  const { validatePack } = await import('../manifest/validate.js');
  const validation = await validatePack(target, { cwd: options.cwd });
  if (!validation.ok || validation.manifest === undefined) return fail('validate', validation.findings);
  warnings(validation.findings);
  const source = validation.manifest;
  out.slug = source.slug;
  out.version = source.version;
  // A version naming another owner is refused before any image is encoded or archive written
  // (registration checks again, in its transaction).
  const { assertOwnerKept } = await import('../ledger/catalog.js');
  await assertOwnerKept(options.ledger.db, source);
  emit('validate', 'done', `${source.slug} ${source.version}`);

  emit('assets', 'start');
  const { optimisePack } = await import('../assets/pipeline.js');
  const optimised = await optimisePack(target, {
    cwd: options.cwd,
    env: options.env,
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.cache === false ? { cache: false } : {}),
  });
  if (!optimised.result.ok || !isOk(optimised.result.findings)) return fail('assets', optimised.result.findings);
  warnings(optimised.result.findings);
  out.assets = { variants: optimised.stats.variants, encoded: optimised.stats.encoded, cached: optimised.stats.cached, outDir: optimised.outDir };
  emit('assets', 'done', `${optimised.stats.variants} variants, ${optimised.stats.encoded} encoded, ${optimised.stats.cached} from the cache`);

  emit('build', 'start');
  const { archiveManifest, writeCheckedArchive } = await import('../archive/build.js');
  const { archiveName } = await import('../archive/integrity.js');
  const zipPath = join(options.outDir, archiveName(source.slug, source.version));
  const expected = archiveManifest(source, optimised.lock).manifest;
  const kept = await existingArchiveMatches(zipPath, expected, options);
  if (kept) {
    out.archive = { path: zipPath, sigPath: `${zipPath}.minisig`, sha256: kept.sha256, bytes: kept.bytes, status: 'unchanged', keyId: options.secretKey.keyId };
  } else {
    // Validation and assets ran above: write the archive from their results, not again.
    const built = await writeCheckedArchive(source, optimised, {
      secretKey: options.secretKey,
      outDir: options.outDir,
      cwd: options.cwd,
      env: options.env,
    });
    out.archive = { path: built.zipPath, sigPath: built.sigPath, sha256: built.sha256, bytes: built.bytes, status: 'built', keyId: built.keyId };
  }
  emit('build', 'done', out.archive.status === 'unchanged' ? 'unchanged, kept' : `${out.archive.bytes} bytes`);

  emit('verify', 'start');
  const { verifyArchive } = await import('../archive/verify.js');
  // A kept archive was verified against this key a moment ago; a new one is verified now.
  const verification = kept ?? (await verifyArchive(out.archive.path, { keys: [options.publicKey], cwd: options.cwd }));
  if (!verification.ok || verification.manifest === undefined) return fail('verify', verification.findings);
  if (verification.sha256 !== out.archive.sha256) {
    return fail('verify', [
      {
        code: 'INTEGRITY_MISMATCH',
        severity: 'error',
        file: out.archive.path,
        message: 'The archive changed on disk between the build and its verification.',
        hint: 'Make sure nothing else writes to the output folder during a release.',
      },
    ]);
  }
  emit('verify', 'done', `signed by ${verification.keyId ?? options.publicKey.keyId}`);

  emit('register', 'start');
  const { registerPack } = await import('../ledger/catalog.js');
  const { publicKeyString } = await import('../signing/minisign.js');
  const registered = await registerPack(options.ledger, {
    manifest: verification.manifest,
    sha256: verification.sha256,
    bytes: verification.bytes,
    archivePath: resolve(out.archive.path),
    publishedAt: options.publishedAt,
    signingKey: publicKeyString(options.publicKey),
  });
  out.registration = { status: registered.status, owner: registered.owner.id, publishedAt: registered.publishedAt };
  emit('register', 'done', registered.status);
  return { ...out, ok: true };
}

export async function release(targets: readonly string[], options: ReleaseOptions): Promise<ReleaseResult> {
  await assertTargetsExist(targets);
  checkKeyPair(options.secretKey, options.publicKey);
  // Refused before any work rather than after the first pack's build.
  publishedAtInstant(options.publishedAt);
  const packs: PackRelease[] = [];
  for (const [i, target] of targets.entries()) {
    let one: PackRelease;
    try {
      one = await releaseOne(target, options);
    } catch (err) {
      // An expected failure (a conflict in the ledger, a bad key…) ends the release: say
      // which pack and what had been done before it.
      if (isPackopsError(err)) {
        throw new PackopsError(err.code, err.exitCode, `${target}: ${err.message}`, {
          hint: err.hint,
          cause: err,
          details: { ...err.details, target, released: packs.map(summarise) },
        });
      }
      throw err;
    }
    packs.push(one);
    if (!one.ok) return { ok: false, packs, notAttempted: targets.slice(i + 1) };
  }
  let published: PublishResult | undefined;
  if (options.publish) {
    options.onEvent?.({ step: 'publish', status: 'start' });
    const { publishCatalog } = await import('../catalog/publish.js');
    published = await publishCatalog(options.ledger, options.publish);
    options.onEvent?.({ step: 'publish', status: 'done', detail: `${published.feed.packs.length} packs, ${published.feed.bundles.length} bundles` });
  }
  return { ok: true, packs, notAttempted: [], ...(published ? { publish: published } : {}) };
}

function summarise(p: PackRelease) {
  return { target: p.target, slug: p.slug, version: p.version, archive: p.archive?.status, registration: p.registration?.status };
}
