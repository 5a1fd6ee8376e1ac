/**
 * Where the pack schema lives (in the installed package, never the working directory) and
 * how Ajv compiles it; shared by the run-time compile and the ahead-of-time generator.
 */
export const PACK_SCHEMA_URL = new URL('../../schemas/pack.schema.json', import.meta.url);

/** Every error (`allErrors`), with the failing data and schema attached (`verbose`). */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true } as const;
