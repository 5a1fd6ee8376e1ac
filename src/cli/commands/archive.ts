/**
 * `packops keys generate`, `packops build`, `packops verify`: signed, reproducible pack
 * archives. The domain modules (src/archive, src/signing) are imported inside the actions.
 */
import { Option, type Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { action } from '../action.js';
import type { CliContext } from '../context.js';
import { REPORT_FORMATS, type ReportFormat } from '../reporters/index.js';
import { inputError } from '../../shared/errors.js';
import type { CommandGroups } from '../command-groups.js';

/** Parses "512MiB", "1GiB", "100MB", "2048" into bytes. */
export function parseSize(value: string): number {
  const m = /^(\d+)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`"${value}" is not a size (e.g. 512MiB, 1GiB, 2048)`);
  const units: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };
  const n = Number(m[1]) * units[(m[2] ?? 'b').toLowerCase()]!;
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is out of range`);
  return n;
}

function parseRatio(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n >= 1)) throw new InvalidArgumentError(`--max-ratio takes a number ≥ 1, not "${value}"`);
  return n;
}

/** A password prompt on the terminal (stderr), only when there is one. */
function passwordPrompt(ctx: CliContext, confirm: boolean): (() => Promise<string>) | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return async () => {
    const { password } = await import('@inquirer/prompts');
    const first = await password({ message: 'Key password', mask: true }, { output: process.stderr });
    if (confirm) {
      const again = await password({ message: 'Key password (again)', mask: true }, { output: process.stderr });
      if (again !== first) throw inputError('KEY_PASSWORD_MISMATCH', 'The two passwords differ; no key was written.');
      if (first === '') throw inputError('KEY_PASSWORD_REQUIRED', 'An empty password does not protect a key; use --unencrypted for a key without one.');
    }
    ctx.out.debug('password read from the terminal');
    return first;
  };
}

export function register(program: Command, _groups: CommandGroups): void {
  const keys = program.command('keys').description('Ed25519 signing keys in the minisign format');
  keys
    .command('generate')
    .description('write a new key pair: packops.pub (share it) and packops.key (keep it secret, mode 0600)')
    .option('--out <dir>', 'folder for packops.pub and packops.key', '.')
    .option('--unencrypted', 'do not encrypt the secret key (for CI, where it lives in PACKOPS_SECRET_KEY)')
    .option('--force', 'overwrite an existing key pair')
    .addHelpText(
      'after',
      `
The secret key is encrypted with a password (scrypt, as minisign does) taken from
PACKOPS_KEY_PASSWORD or asked on the terminal. The secret is never printed.

Examples:
  $ packops keys generate --out keys/
  $ PACKOPS_KEY_PASSWORD=… packops keys generate --out keys/ --json
  $ packops keys generate --out ci-keys/ --unencrypted`,
    )
    .action(
      action<[], { out: string; unencrypted?: boolean; force?: boolean }>(async (ctx, _args, opts) => {
        const { generateKeys } = await import('../../signing/generate.js');
        const env = ctx.env.PACKOPS_KEY_PASSWORD;
        const ask = passwordPrompt(ctx, true);
        const result = await generateKeys({
          outDir: ctx.path(opts.out),
          encrypt: !opts.unencrypted,
          force: Boolean(opts.force),
          ...(env !== undefined && env !== '' ? { password: () => Promise.resolve(env) } : ask ? { password: ask } : {}),
        });
        ctx.out.result({ ok: true, ...result }, () =>
          [
            `Key id:     ${result.keyId}`,
            `Public key: ${result.publicKey}`,
            `Wrote ${result.publicKeyPath} (share it) and ${result.secretKeyPath} (${result.encrypted ? 'encrypted' : 'UNENCRYPTED'}, mode 0600: keep it secret).`,
          ].join('\n'),
        );
      }),
    );

  program
    .command('build')
    .description('validate, refresh the variants, then write a signed, reproducible dist/<slug>-<version>.zip')
    .argument('<pack>', 'pack folder (or its pack.json)')
    .option('--key <file>', 'minisign secret key (or PACKOPS_SECRET_KEY with the key file contents)')
    .option('--out <dir>', 'folder for the archive and its .minisig (default: dist/)')
    .option('--cache-dir <dir>', 'assets cache folder (default: PACKOPS_CACHE_DIR, config assets.cacheDir, else ~/.cache/packops)')
    .option('--no-cache', 'redo the image work even when the assets cache has it')
    .addHelpText(
      'after',
      `
Writes <slug>-<version>.zip and <slug>-<version>.zip.minisig. Timestamps come from
SOURCE_DATE_EPOCH (else 1980-01-01), so the same sources and key give the same bytes.
An encrypted key's password comes from PACKOPS_KEY_PASSWORD or a terminal prompt.

Exit codes: 0 built · 1 the pack has findings (nothing written) · 3 bad key or input

Examples:
  $ packops build fixtures/packs/ocean-creatures --key keys/packops.key
  $ PACKOPS_SECRET_KEY="$(cat ci.key)" SOURCE_DATE_EPOCH=1767225600 packops build packs/ocean --out dist/ --json`,
    )
    .action(
      action<[string], { key?: string; out?: string; cache: boolean }>(async (ctx, [pack], opts, command) => {
        const { loadSecretKey } = await import('../../signing/keys.js');
        const { resolveCacheDir } = await import('../cache-dir.js');
        const cacheDir = await resolveCacheDir(ctx, command);
        const { buildArchive, BuildRefusedError } = await import('../../archive/build.js');
        const { displayPath } = await import('../../shared/paths.js');
        const ask = passwordPrompt(ctx, false);
        const secretKey = await loadSecretKey({
          ...(opts.key !== undefined ? { keyPath: opts.key } : {}),
          env: ctx.env,
          cwd: ctx.cwd,
          ...(ask ? { askPassword: ask } : {}),
        });
        const outDir = opts.out ?? (typeof ctx.config.build?.out === 'string' ? ctx.config.build.out : undefined);
        const progress = await ctx.out.progress(`Building ${pack}`);
        let result;
        try {
          result = await buildArchive(ctx.path(pack), {
            secretKey,
            cwd: ctx.cwd,
            env: ctx.env,
            cacheDir,
            cache: opts.cache,
            ...(outDir !== undefined ? { outDir: ctx.path(outDir) } : {}),
            onProgress: (phase, done, total) =>
              progress.update(
                phase === 'archive' ? `archive: ${(done / 1048576).toFixed(1)}/${(total / 1048576).toFixed(1)} MiB` : `${phase}: ${done}/${total}`,
              ),
          });
        } catch (err) {
          if (err instanceof BuildRefusedError) {
            progress.fail(`Not built: ${err.message}`);
            const { emitCheckReport } = await import('../reporters/index.js');
            await emitCheckReport(ctx, err.report, 'pretty', { tool: 'build' });
            ctx.setExitCode(err.exitCode);
            return;
          }
          progress.fail('Build failed');
          throw err;
        }
        const zip = displayPath(result.zipPath, ctx.cwd);
        progress.succeed(`Built ${zip}`);
        ctx.out.result(
          {
            ok: true,
            slug: result.manifest.slug,
            version: result.manifest.version,
            zip,
            sig: displayPath(result.sigPath, ctx.cwd),
            sha256: result.sha256,
            bytes: result.bytes,
            keyId: result.keyId,
            entries: result.entries,
          },
          () =>
            [
              `${zip}  ${result.bytes} bytes, ${result.entries.length + 2} entries`,
              `sha256 ${result.sha256}`,
              `signed by key ${result.keyId} → ${displayPath(result.sigPath, ctx.cwd)}`,
            ].join('\n'),
        );
      }),
    );

  program
    .command('verify')
    .description('check an archive: signatures by a trusted key, integrity of every file, safe names, no zip bomb')
    .argument('<archive>', 'the .zip to check (its signature is <archive>.minisig unless --sig)')
    .option('--pubkey <file>', 'trusted minisign public key (a .pub file, or the base64 key itself)')
    .option('--trusted-keys <dir>', 'folder of trusted .pub files (keep old and new keys there during a rotation)')
    .option('--sig <file>', 'detached signature (default: <archive>.minisig)')
    .option('--rebuild <pack-dir>', 'rebuild the archive from these sources and report whether the bytes match')
    .addOption(new Option('--max-ratio <n>', 'largest compression ratio allowed per entry').default(100).argParser(parseRatio))
    .addOption(new Option('--max-size <size>', 'most bytes the archive may unpack to').default(512 * 1024 * 1024, '512MiB').argParser(parseSize))
    .addOption(new Option('--format <format>', 'report format').choices([...REPORT_FORMATS]).default('pretty'))
    .addHelpText(
      'after',
      `
Codes: ZIP_CORRUPT ZIP_UNSAFE_PATH ZIP_DUPLICATE_ENTRY ZIP_LINK ZIP_BOMB
       INTEGRITY_MISSING_FILE INTEGRITY_EXTRA_FILE INTEGRITY_MISMATCH
       SIGNATURE_MISSING SIGNATURE_INVALID SIGNATURE_UNTRUSTED_KEY SIGNATURE_COMMENT_MISMATCH
       REBUILD_MISMATCH (with --rebuild); KEY_INVALID (exit 3) for a bad key file.
Exit codes: 0 valid · 1 findings · 2 usage · 3 missing archive or bad key

Examples:
  $ packops verify dist/ocean-creatures-1.0.0.zip --pubkey keys/packops.pub
  $ packops verify dist/ocean-creatures-1.0.0.zip --trusted-keys keys/trusted/ --format github
  $ packops verify dist/ocean-creatures-1.0.0.zip --pubkey keys/packops.pub --rebuild packs/ocean-creatures --json`,
    )
    .action(
      action<[string], { pubkey?: string; trustedKeys?: string; sig?: string; rebuild?: string; maxRatio: number; maxSize: number; format: ReportFormat }>(
        async (ctx, [archive], opts) => {
          const { loadTrustedKeys } = await import('../../signing/keys.js');
          const { verifyArchive } = await import('../../archive/verify.js');
          const { emitCheckReport } = await import('../reporters/index.js');
          const { makeReport } = await import('../../shared/findings.js');
          const keys = await loadTrustedKeys({
            ...(opts.pubkey !== undefined ? { pubkey: opts.pubkey } : {}),
            ...(opts.trustedKeys !== undefined ? { trustedKeysDir: opts.trustedKeys } : {}),
            cwd: ctx.cwd,
          });
          const zipPath = ctx.path(archive);
          const result = await verifyArchive(zipPath, {
            keys,
            ...(opts.sig !== undefined ? { sigPath: ctx.path(opts.sig) } : {}),
            maxRatio: opts.maxRatio,
            maxSize: opts.maxSize,
            cwd: ctx.cwd,
          });
          if (opts.rebuild !== undefined) {
            const { rebuildAndCompare } = await import('../../archive/rebuild.js');
            const progress = await ctx.out.progress(`Rebuilding from ${opts.rebuild}`);
            const rebuilt = await rebuildAndCompare(zipPath, ctx.path(opts.rebuild), { cwd: ctx.cwd, env: ctx.env });
            progress.succeed(rebuilt.identical ? 'Rebuild: byte-identical' : 'Rebuild: the bytes differ');
            result.rebuild = rebuilt.summary;
            result.findings.push(...rebuilt.findings);
            result.ok = result.ok && rebuilt.findings.every((f) => f.severity !== 'error');
          }
          // The manifest stays in the library result; the report carries the findings.
          const { manifest: _manifest, ...reported } = result;
          const report = makeReport([reported]);
          await emitCheckReport(ctx, report, opts.format, { tool: 'verify' });
          if (!report.ok) ctx.setExitCode(1);
        },
      ),
    );
}
