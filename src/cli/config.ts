/**
 * Configuration: `packops.config.json` found upwards from the working directory, or the
 * file `--config` names. Options resolve once, flag > environment > config > default.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { inputError } from '../shared/errors.js';
import { readInputSync } from '../shared/input.js';
import { previewValue } from '../shared/format.js';

/** A config file larger than this is refused unread. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export interface PackopsConfig {
  /** Ledger location, relative to the config file. */
  db?: string;
  payouts?: { minimumMinor?: number };
  validate?: { profile?: string; strict?: boolean };
  assets?: { concurrency?: number; cacheDir?: string };
  build?: { out?: string };
  [section: string]: unknown;
}

export interface LoadedConfig {
  config: PackopsConfig;
  /** Absolute path of the config file, when one was found. */
  path?: string;
}

export const CONFIG_FILE = 'packops.config.json';

export function findConfig(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, CONFIG_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function loadConfig(cwd: string, explicit?: string): LoadedConfig {
  const path = explicit !== undefined ? resolve(cwd, explicit) : findConfig(cwd);
  if (path === undefined) return { config: {} };
  const text = readInputSync(path, {
    what: 'config file',
    maxBytes: MAX_CONFIG_BYTES,
    cwd,
    codes: { notFound: 'CONFIG_UNREADABLE', unreadable: 'CONFIG_UNREADABLE' },
    ...(explicit !== undefined ? { hint: 'Check the path given to --config.' } : {}),
  }).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw inputError('CONFIG_UNREADABLE', `The config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw inputError('CONFIG_UNREADABLE', `The config file ${path} must hold a JSON object.`);
  }
  checkConfig(parsed as Record<string, unknown>, path);
  return { config: parsed as PackopsConfig, path };
}

type KeyCheck = (v: unknown) => boolean;
const isText: KeyCheck = (v) => typeof v === 'string' && v.trim() !== '';
const isBool: KeyCheck = (v) => typeof v === 'boolean';
const isWhole = (min: number): KeyCheck => (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

/** The keys packops reads, with what each must be (checked once, when the file is loaded). */
const CONFIG_KEYS = new Map<string, { check: KeyCheck; want: string }>([
  ['db', { check: isText, want: 'a path or postgres:// URL (text)' }],
  ['payouts.minimumMinor', { check: isWhole(0), want: 'a whole number of cents ≥ 0' }],
  ['validate.profile', { check: isText, want: 'a profile name (text)' }],
  ['validate.strict', { check: isBool, want: 'true or false' }],
  ['assets.concurrency', { check: isWhole(1), want: 'a whole number ≥ 1' }],
  ['build.out', { check: isText, want: 'a folder path (text)' }],
  ['statements.platform', { check: (v) => isText(v) && (v as string).length <= 200, want: 'a name (1 to 200 characters)' }],
]);

/** A config value of the wrong type is CONFIG_INVALID naming the key, never silently ignored or misread. */
function checkConfig(config: Record<string, unknown>, path: string): void {
  const fail = (key: string, want: string, value: unknown) =>
    inputError('CONFIG_INVALID', `${key} in the config file ${path} must be ${want}, not ${previewValue(value)}.`, {
      details: { file: path, key },
    });
  for (const [key, spec] of CONFIG_KEYS) {
    const [section, name] = key.split('.') as [string, string | undefined];
    if (!Object.hasOwn(config, section)) continue;
    const sectionValue = config[section];
    if (name === undefined) {
      if (!spec.check(sectionValue)) throw fail(key, spec.want, sectionValue);
      continue;
    }
    if (typeof sectionValue !== 'object' || sectionValue === null || Array.isArray(sectionValue)) {
      throw fail(section, 'an object', sectionValue);
    }
    if (!Object.hasOwn(sectionValue, name)) continue;
    const value = (sectionValue as Record<string, unknown>)[name];
    if (!spec.check(value)) throw fail(key, spec.want, value);
  }
}

/**
 * Takes the flag's value when the user set it (or commander's default otherwise),
 * unless an environment variable or a config value is there to stand in for the default.
 */
export function resolveOption<T>(
  command: Command,
  key: string,
  sources: { env?: string | undefined; config?: T | undefined; parseEnv?: (v: string) => T },
): T | undefined {
  const value = command.optsWithGlobals()[key] as T | undefined;
  const source = command.getOptionValueSourceWithGlobals?.(key) ?? command.getOptionValueSource(key);
  if (source === 'cli') return value;
  if (sources.env !== undefined && sources.env !== '') {
    return sources.parseEnv ? sources.parseEnv(sources.env) : (sources.env as unknown as T);
  }
  if (sources.config !== undefined) return sources.config;
  return value;
}
