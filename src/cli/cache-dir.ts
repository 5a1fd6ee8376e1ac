/**
 * The assets cache folder, resolved like every option: `--cache-dir` > `PACKOPS_CACHE_DIR` >
 * the config's `assets.cacheDir` (relative to the config file) > the per-user default
 * (`$XDG_CACHE_HOME/packops`, else `~/.cache/packops`). Never a folder inside a pack unless
 * the user names one.
 */
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { inputError } from '../shared/errors.js';
import type { CliContext } from './context.js';

export async function resolveCacheDir(ctx: CliContext, command: Command): Promise<string> {
  // With globals: in `assets cache prune --cache-dir X`, the parent `assets` command takes the flag.
  const fromCli = (command.getOptionValueSourceWithGlobals?.('cacheDir') ?? command.getOptionValueSource('cacheDir')) === 'cli';
  const flag = fromCli ? (command.optsWithGlobals() as { cacheDir?: string }).cacheDir : undefined;
  if (flag !== undefined && flag !== '') return ctx.path(flag);
  if (ctx.env.PACKOPS_CACHE_DIR) return ctx.path(ctx.env.PACKOPS_CACHE_DIR);
  const configured = ctx.config.assets?.cacheDir;
  if (configured !== undefined) {
    if (typeof configured !== 'string' || configured === '') {
      throw inputError('CONFIG_INVALID', `The config key assets.cacheDir must be a folder path (a non-empty string).`, {
        details: { key: 'assets.cacheDir', ...(ctx.configPath ? { file: ctx.configPath } : {}) },
      });
    }
    return resolve(ctx.configPath ? dirname(ctx.configPath) : ctx.cwd, configured);
  }
  const { defaultCacheDir } = await import('../assets/cache.js');
  return defaultCacheDir(ctx.env);
}
