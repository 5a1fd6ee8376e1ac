/**
 * Configuration: `packops.config.json` found upwards from the working directory, or the
 * file `--config` names. Options resolve once, flag > environment > config > default.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { inputError } from '../shared/errors.js';
import { readInputSync } from '../shared/input.js';

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
  return { config: parsed as PackopsConfig, path };
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
