/**
 * Asset file checks of a pack: every file a manifest names must stay inside the pack
 * folder (links included), exist, be the image format its bytes say, and meet its type's
 * rules (schemas/asset-rules.json) and the profile's limits. Headers are read first (the
 * pixel limit applies before any decoding); files that pass are fully decoded once.
 */
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { decodeCheck, formatName, probeImage, type ProbeOptions, type ProbeResult } from '../shared/image-probe.js';
import { animationWarning, assetShapeProblem, assetTypeRule, loadAssetRules, type AssetRules } from './asset-rules.js';
import { errnoCode } from '../shared/errors.js';
import { isInside } from '../shared/paths.js';
import type { Finding } from '../shared/findings.js';
import { effectiveProfile, PROFILE_RULES, unsafePathReason, type Profile } from './rules.js';

export interface FileCheckOptions {
  profile?: Profile;
  rules?: AssetRules;
  /** How many files of the pack are checked at once (default 4). */
  concurrency?: number;
  /**
   * Decode every file in full (default true). `build` passes false: its asset pipeline
   * decodes every source the variant cache does not vouch for (a cache entry exists only for
   * bytes that decoded), with the same strictness, and reports ASSET_CORRUPT itself.
   */
  decode?: boolean;
  /**
   * Reads a file's image header in place of `probeImage` (same contract), given the pack's
   * real path too: `build` passes one that answers from its stat index for unchanged files.
   */
  probe?: ProbeFn;
}

export type ProbeFn = (path: string, options: ProbeOptions, packRoot: string) => Promise<ProbeResult>;

interface AssetRef {
  index: number;
  id: string;
  file: string;
  type: string | undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The assets of a parsed manifest whose `file` is a string that is lexically safe. */
function assetRefs(manifest: unknown): AssetRef[] {
  if (!isObject(manifest) || !Array.isArray(manifest.assets)) return [];
  const refs: AssetRef[] = [];
  (manifest.assets as unknown[]).forEach((a, index) => {
    if (!isObject(a) || typeof a.file !== 'string' || unsafePathReason(a.file) !== undefined) return;
    refs.push({
      index,
      id: typeof a.id === 'string' ? a.id : `#${index}`,
      file: a.file,
      type: typeof a.type === 'string' ? a.type : undefined,
    });
  });
  return refs;
}

export async function checkAssetFiles(manifest: unknown, packDir: string, options: FileCheckOptions = {}): Promise<Finding[]> {
  const rules = options.rules ?? loadAssetRules();
  const refs = assetRefs(manifest);
  if (refs.length === 0) return [];
  const root = await realpath(packDir);
  const { default: pLimit } = await import('p-limit');
  const limit = pLimit(options.concurrency ?? 4);
  const profile = effectiveProfile(manifest, options.profile);
  const probe: ProbeFn = options.probe ?? ((path, o) => probeImage(path, o));
  const lists = await Promise.all(refs.map((ref) => limit(() => checkOne(ref, packDir, root, rules, profile, options.decode !== false, probe))));
  return lists.flat();
}

async function checkOne(
  ref: AssetRef,
  packDir: string,
  root: string,
  rules: AssetRules,
  profile: Profile,
  decode: boolean,
  probeFile: ProbeFn,
): Promise<Finding[]> {
  const pointer = `/assets/${ref.index}/file`;
  const out: Finding[] = [];
  const add = (code: string, message: string, hint?: string) =>
    out.push({ code, severity: 'error', pointer, message: `Asset "${ref.id}" (${ref.file}): ${message}`, ...(hint ? { hint } : {}) });
  const abs = resolve(packDir, ref.file);
  let real: string;
  try {
    real = await realpath(abs);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      add('ASSET_MISSING', 'the file does not exist.', 'Paths are relative to the folder that holds pack.json, and case matters.');
    } else add('ASSET_CORRUPT', `the file cannot be read (${code ?? (err as Error).message}).`);
    return out;
  }
  if (!isInside(real, root)) {
    add('PATH_UNSAFE', 'the path leads outside the pack folder (through a symbolic link).', 'Copy the file into the pack folder instead of linking to it.');
    return out;
  }
  const probe = await probeFile(real, { maxPixels: rules.maxSourcePixels }, root);
  if (!probe.ok) {
    add(probe.code, lowerFirst(probe.message));
    return out;
  }
  const rule = assetTypeRule(rules, ref.type);
  if (rule) {
    const problem = assetShapeProblem(rule, ref.type!, probe);
    if (problem?.code === 'ASSET_FORMAT') {
      add(problem.code, problem.message, problem.hint);
      return out;
    }
    if (problem) add(problem.code, problem.message, problem.hint);
    if (probe.bytes > rule.maxBytes) {
      add('ASSET_FILE_TOO_BIG', `the file is ${probe.bytes} bytes; a ${ref.type} source may be at most ${rule.maxBytes} bytes.`);
    }
    if (rule.alpha === 'required' && !probe.hasAlpha) {
      add('ASSET_NO_ALPHA', `a ${ref.type} is a cut-out and needs transparency, but this ${formatName(probe.format)} has no alpha channel.`, 'Export it with a transparent background (PNG or WebP with alpha).');
    }
  }
  if (profile === 'ugc') {
    const ugc = PROFILE_RULES.ugc;
    if (!(ugc.formats as readonly string[]).includes(probe.format)) {
      add('PROFILE', `user-generated packs accept only PNG or JPEG files; this file is ${formatName(probe.format)}.`);
    }
    if (probe.bytes > ugc.maxAssetBytes && !(rule && probe.bytes > rule.maxBytes)) {
      add('ASSET_FILE_TOO_BIG', `the file is ${probe.bytes} bytes; user-generated assets may be at most ${ugc.maxAssetBytes} bytes (5 MB).`);
    }
  }
  // A file refused on its header (too large, wrong format, no alpha...) is not decoded: its
  // verdict is already an error, and a full decode of a 9999×9999 image that is refused
  // anyway costs 400 MB of pixels (PRODUCT.md §5: bounded work per input).
  const animated = animationWarning(probe);
  if (animated) out.push({ code: animated.code, severity: 'warning', pointer, message: `Asset "${ref.id}" (${ref.file}): ${animated.message}`, hint: animated.hint });
  if (!decode || out.some((f) => f.severity === 'error')) return out;
  // Every frame of an animation is decoded: damage in a later frame is ASSET_CORRUPT too.
  const decoded = await decodeCheck(real, { maxPixels: rules.maxSourcePixels, allFrames: probe.frames > 1 });
  if (!decoded.ok) add(decoded.code, lowerFirst(decoded.message));
  return out;
}

function lowerFirst(s: string): string {
  return /^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s;
}
