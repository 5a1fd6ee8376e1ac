/**
 * The validator of `schemas/pack.schema.json` (loaded from the installed package, never
 * the working directory): precompiled ahead of time, or compiled on first use when the
 * schema changed since. Commands that never validate load none of it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as generated from './pack-validator.generated.js';
import { AJV_OPTIONS, PACK_SCHEMA_URL } from './schema-options.js';

export { PACK_SCHEMA_URL };

/** The subset of an Ajv error object the translator reads (Ajv runs with `verbose`). */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, any>;
  message?: string;
  propertyName?: string;
  schema?: unknown;
  parentSchema?: Record<string, any>;
  data?: unknown;
}

export type PackValidator = ((value: unknown) => boolean) & { errors?: SchemaError[] | null };

let compiled: PackValidator | undefined;
let schemaCache: Record<string, any> | undefined;

export function packSchema(): Record<string, any> {
  schemaCache ??= JSON.parse(readFileSync(PACK_SCHEMA_URL, 'utf8')) as Record<string, any>;
  return schemaCache;
}

/**
 * Ajv (draft 2020-12) with every error reported (`allErrors`), the failing data and schema
 * attached to each error (`verbose`, for plain-language messages) and the `date` format.
 *
 * The fast path is the validator generated ahead of time from this very schema
 * (`pack-validator.generated.ts`, see build-validator.ts): no Ajv, no compile. If the
 * schema file's text is no longer the one it was generated from, the schema is compiled
 * here instead, so a stale file can cost time but never correctness.
 */
export function packValidator(): PackValidator {
  if (compiled) return compiled;
  const text = readFileSync(PACK_SCHEMA_URL, 'utf8');
  if (text === generated.SCHEMA_TEXT) {
    compiled = generated.validate as PackValidator;
    return compiled;
  }
  schemaCache ??= JSON.parse(text) as Record<string, any>;
  const require = createRequire(import.meta.url);
  const Ajv2020 = (require('ajv/dist/2020') as { default: new (o: object) => any }).default;
  const addFormats = (require('ajv-formats') as { default: (ajv: unknown, formats: string[]) => void }).default;
  const ajv = new Ajv2020(AJV_OPTIONS);
  addFormats(ajv, ['date']);
  compiled = ajv.compile(schemaCache) as PackValidator;
  return compiled;
}
