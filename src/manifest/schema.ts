/**
 * The compiled validator of `schemas/pack.schema.json` (loaded from the installed package,
 * never the working directory). Ajv is imported and the schema compiled once, on first
 * use, so that commands which never validate do not pay for it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const PACK_SCHEMA_URL = new URL('../../schemas/pack.schema.json', import.meta.url);

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
 * Loaded synchronously through require so that `checkManifestValue` can stay synchronous.
 */
export function packValidator(): PackValidator {
  if (compiled) return compiled;
  const require = createRequire(import.meta.url);
  const Ajv2020 = (require('ajv/dist/2020') as { default: new (o: object) => any }).default;
  const addFormats = (require('ajv-formats') as { default: (ajv: unknown, formats: string[]) => void }).default;
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true });
  addFormats(ajv, ['date']);
  compiled = ajv.compile(packSchema()) as PackValidator;
  return compiled;
}
