/**
 * `validatePack`: the whole check of one pack, in one pass. Read the manifest (limits,
 * encoding, syntax), check it (schema, semantic rules, profile), then check its asset
 * files unless `files: false`. Every finding about pack.json carries its line and column.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AssetRules } from './asset-rules.js';
import { isOk, withSourceText, type CheckResult, type Finding } from '../shared/findings.js';
import { checkManifest } from './check.js';
import { loadPackManifest } from './load.js';
import { displayPath } from '../shared/paths.js';
import type { Profile } from './rules.js';
import type { ProbeFn } from './files.js';
import type { PackManifest } from './types.js';

export interface ValidateOptions {
  profile?: Profile;
  /** Check the asset files too (default true); false checks the manifest alone. */
  files?: boolean;
  /** Warnings fail the pack too. */
  strict?: boolean;
  /** Base for relative targets and the `file` of findings (default: process.cwd()). */
  cwd?: string;
  /** Asset rules (default: schemas/asset-rules.json from the package). */
  rules?: AssetRules;
  /** Files of one pack checked at once (default 4). */
  concurrency?: number;
  /** Decode every asset file in full (default true; see FileCheckOptions.decode). */
  decode?: boolean;
  /** Reads image headers in place of probeImage (see FileCheckOptions.probe). */
  probe?: ProbeFn;
}

export type PackValidation = CheckResult & {
  /** The manifest, when it parsed and matches the schema. */
  manifest?: PackManifest;
  packDir: string;
  manifestPath: string;
};

/**
 * Validates one pack folder or pack.json. Throws PATH_NOT_FOUND (exit 3) when `target`
 * does not exist; every other problem is a finding of the returned result.
 */
export async function validatePack(target: string, options: ValidateOptions = {}): Promise<PackValidation> {
  const cwd = options.cwd ?? process.cwd();
  const loaded = await loadPackManifest(target, { cwd });
  const { packDir, manifestPath } = loaded;
  if (!loaded.ok) {
    const refused: PackValidation = { target, packDir, manifestPath, ok: false, findings: loaded.findings };
    return withSourceText(refused, displayPath(manifestPath, cwd), loaded.text);
  }

  const checked = checkManifest(loaded.manifest, { profile: options.profile });
  const findings: Finding[] = checked.findings;
  if (options.files !== false && existsSync(join(packDir, 'locales'))) {
    // PRODUCT.md §4 describes locales/<lang>.json; packops does not check or ship them yet.
    // Say so rather than pass a pack whose translations were never looked at.
    findings.push({
      code: 'LOCALES_UNSUPPORTED',
      severity: 'warning',
      file: displayPath(join(packDir, 'locales'), cwd),
      message: 'The pack has a locales/ folder; packops does not validate locale files yet, and build does not put them in the archive.',
      hint: 'Keep the texts in pack.json for now; locales/ is ignored by validate, assets and build.',
    });
  }
  if (options.files !== false) {
    const { checkAssetFiles } = await import('./files.js');
    findings.push(
      ...(await checkAssetFiles(loaded.manifest, packDir, {
        profile: options.profile,
        rules: options.rules,
        concurrency: options.concurrency,
        ...(options.decode !== undefined ? { decode: options.decode } : {}),
        ...(options.probe !== undefined ? { probe: options.probe } : {}),
      })),
    );
  }
  // A valid manifest (most of a batch) stops here: positions, paths and key order are only
  // worked out for findings.
  let schemaValid = true;
  let file: string | undefined;
  if (findings.length > 0) {
    file = displayPath(manifestPath, cwd);
    for (const f of findings) f.file ??= file;
    const { locateFindings } = await (positionModule ??= import('./position.js'));
    locateFindings(loaded.text, findings, checked.atKey);
    sortByPosition(findings);
    for (let i = 0; i < findings.length; i++) {
      const f = canonical(findings[i]!);
      findings[i] = f;
      if (f.code === 'SCHEMA' || f.code === 'AGE_RANGE' || f.code === 'CURRENCY') schemaValid = false;
    }
  }
  const result: PackValidation = { target, packDir, manifestPath, ok: isOk(findings, options.strict), findings };
  if (schemaValid) result.manifest = loaded.manifest;
  return file === undefined ? result : withSourceText(result, file, loaded.text);
}

/** Loaded on the first pack with findings, then reused. */
let positionModule: Promise<typeof import('./position.js')> | undefined;

function sortByPosition(findings: Finding[]): void {
  const indexed = findings.map((f, i) => ({ f, i }));
  indexed.sort((a, b) => (a.f.line ?? 0) - (b.f.line ?? 0) || (a.f.column ?? 0) - (b.f.column ?? 0) || a.i - b.i);
  indexed.forEach(({ f }, i) => (findings[i] = f));
}

/** The §3 key order: code, severity, file, pointer, line, column, row, message, hint. */
function canonical(f: Finding): Finding {
  const { code, severity, file, pointer, line, column, row, message, hint } = f;
  return {
    code,
    severity,
    ...(file !== undefined ? { file } : {}),
    ...(pointer !== undefined ? { pointer } : {}),
    ...(line !== undefined ? { line } : {}),
    ...(column !== undefined ? { column } : {}),
    ...(row !== undefined ? { row } : {}),
    message,
    ...(hint !== undefined ? { hint } : {}),
  };
}
