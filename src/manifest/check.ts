/**
 * Checks an already-parsed manifest value: the JSON Schema (precompiled, all errors) and
 * the semantic rules. No files are read and no positions computed here: `validatePack`
 * adds those, and `verify` uses this on the pack.json inside an archive.
 */
import type { Finding } from '../shared/findings.js';
import { semanticFindings, type Profile } from './rules.js';
import { packValidator } from './schema.js';
import { translateSchemaErrors } from './schema-errors.js';

export interface CheckOptions {
  profile?: Profile;
}

/** Codes that replace a schema finding at the same place (PRODUCT.md §4: dedicated codes). */
const DEDICATED = new Set(['AGE_RANGE', 'CURRENCY', 'OBJECTIVES_MISSING', 'PROFILE']);

export interface ManifestCheck {
  findings: Finding[];
  /** Findings whose position is the property's key (unknown fields), not its value. */
  atKey: Set<Finding>;
}

/** The checks with the bookkeeping `validatePack` needs to place findings in the text. */
export function checkManifest(value: unknown, options: CheckOptions = {}): ManifestCheck {
  const validate = packValidator();
  const schemaFindings = validate(value) ? [] : translateSchemaErrors(validate.errors ?? []);
  const semantic = semanticFindings(value, options.profile ?? 'first-party');
  if (schemaFindings.length === 0 && semantic.length === 0) return { findings: [], atKey: new Set() };
  const dedicatedAt = new Set(semantic.filter((f) => DEDICATED.has(f.code) && f.severity === 'error').map((f) => f.pointer));
  const atKey = new Set<Finding>();
  const findings: Finding[] = [];
  for (const t of schemaFindings) {
    if (t.pointer !== undefined && dedicatedAt.has(t.pointer)) continue;
    const { atKey: key, ...f } = t;
    if (key) atKey.add(f);
    findings.push(f);
  }
  // Semantic findings restating a schema finding at the same place add nothing.
  const schemaAt = new Set(findings.map((f) => `${f.pointer}\u0000${f.message}`));
  for (const f of semantic) if (!schemaAt.has(`${f.pointer}\u0000${f.message}`)) findings.push(f);
  return { findings: sortFindings(findings), atKey };
}

/** Schema and semantic findings of a parsed manifest (no files, no line/column). */
export function checkManifestValue(value: unknown, options: CheckOptions = {}): Finding[] {
  return checkManifest(value, options).findings;
}

/** Document order: by pointer (numeric segments as numbers), errors before warnings. */
export function sortFindings<T extends Finding>(findings: T[]): T[] {
  const key = (p: string | undefined) => (p ?? '').split('/').map((s) => (/^\d+$/.test(s) ? s.padStart(8, '0') : s));
  return findings
    .map((f, i) => ({ f, i, k: key(f.pointer) }))
    .sort((a, b) => {
      const n = Math.min(a.k.length, b.k.length);
      for (let i = 0; i < n; i++) if (a.k[i] !== b.k[i]) return a.k[i]! < b.k[i]! ? -1 : 1;
      return a.k.length - b.k.length || a.i - b.i;
    })
    .map((x) => x.f);
}
