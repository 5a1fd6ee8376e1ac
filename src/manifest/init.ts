/**
 * `packops init`: a new pack folder with a valid `pack.json` and an `assets/` folder
 * holding a placeholder cut-out, so the new pack passes `packops validate` at once.
 * An existing pack.json is never overwritten (PACK_EXISTS, exit 4).
 */
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureOutputDir, writeFileAtomic } from '../shared/atomic.js';
import { conflictError, inputError } from '../shared/errors.js';
import type { Finding } from '../shared/findings.js';
import { checkManifestValue } from './check.js';
import { MANIFEST_FILE } from './load.js';
import { displayPath } from '../shared/paths.js';
import type { Category, PackManifest } from './types.js';

export interface InitAnswers {
  name: string;
  slug: string;
  category: Category;
  ageMin: number;
  ageMax: number;
  /** USD list price in cents. */
  priceMinor: number;
  currency: string;
  creator: string;
}

export interface InitResult {
  packDir: string;
  manifestPath: string;
  manifest: PackManifest;
  /** Files written, relative to the working directory. */
  written: string[];
}

/** "Ocean Creatures!" → "ocean-creatures" (ASCII, lowercase kebab-case, at most 64 chars). */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return slug.length >= 3 ? slug : slug.padEnd(3, slug.length ? slug.charAt(slug.length - 1) : 'x');
}

export const PLACEHOLDER = { id: 'placeholder', file: 'assets/placeholder.png' } as const;

export function buildManifest(a: InitAnswers): PackManifest {
  return {
    schemaVersion: 1,
    slug: a.slug,
    version: '0.1.0',
    name: a.name,
    category: a.category,
    tags: [],
    ageRange: { min: a.ageMin, max: a.ageMax },
    ...(a.category === 'educational' ? { educationalObjectives: ['describe what a child learns'] } : {}),
    creator: a.creator,
    price: { amountMinor: a.priceMinor, currency: a.currency },
    cover: PLACEHOLDER.id,
    assets: [{ id: PLACEHOLDER.id, file: PLACEHOLDER.file, type: 'sticker', altText: 'A placeholder star: replace it with the pack art' }],
  };
}

/** The manifest's findings (errors only) for these answers: the wizard's own validation. */
export function answerProblems(a: InitAnswers): Finding[] {
  return checkManifestValue(buildManifest(a)).filter((f) => f.severity === 'error');
}

/** Refuses when `dir` already holds a pack.json. */
export async function assertNoPack(dir: string, cwd: string): Promise<void> {
  const manifestPath = join(resolve(cwd, dir), MANIFEST_FILE);
  const exists = await access(manifestPath).then(
    () => true,
    () => false,
  );
  if (exists) {
    throw conflictError('PACK_EXISTS', `${displayPath(manifestPath, cwd)} already exists; init never overwrites a pack.`, {
      hint: 'Choose another folder, or edit the existing pack.json.',
      details: { path: displayPath(manifestPath, cwd) },
    });
  }
}

/** Writes the pack: the placeholder art first, pack.json last (atomically). */
export async function createPack(dir: string, answers: InitAnswers, options: { cwd?: string } = {}): Promise<InitResult> {
  const cwd = options.cwd ?? process.cwd();
  const packDir = resolve(cwd, dir);
  await assertNoPack(dir, cwd);
  const manifest = buildManifest(answers);
  const written: string[] = [];
  const manifestPath = join(packDir, MANIFEST_FILE);
  // A folder that cannot be made or written (a file in the way, read-only) is an input
  // error (exit 3) naming the folder, not an internal one.
  const unwritable = (err: unknown): never => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined || !/^E[A-Z]+$/.test(code)) throw err;
    throw inputError('OUTPUT_UNWRITABLE', `Cannot create the pack in ${displayPath(packDir, cwd)} (${code}).`, {
      hint: 'Give init a folder that can be created and written.',
      details: { path: displayPath(packDir, cwd) },
    });
  };
  try {
    ensureOutputDir(join(packDir, 'assets'), { base: packDir, cwd });
  } catch (err) {
    unwritable(err);
  }
  const art = join(packDir, PLACEHOLDER.file);
  const artExists = await access(art).then(
    () => true,
    () => false,
  );
  if (!artExists) {
    await writeFileAtomic(art, await placeholderPng(), { base: packDir, cwd }).catch(unwritable);
    written.push(displayPath(art, cwd));
  }
  await assertNoPack(dir, cwd);
  await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`, { base: packDir, cwd }).catch(unwritable);
  written.push(displayPath(manifestPath, cwd));
  return { packDir, manifestPath, manifest, written };
}

/** A 512×512 transparent PNG with a yellow star: a valid source for every cut-out type. */
async function placeholderPng(): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">' +
    '<polygon points="256,40 312,190 470,200 345,300 390,460 256,370 122,460 167,300 42,200 200,190" fill="#facc15" stroke="#a16207" stroke-width="8"/></svg>';
  return sharp(Buffer.from(svg)).png({ compressionLevel: 9 }).toBuffer();
}
