// The conventions every command follows (PRODUCT.md §3), on the built CLI.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, FIXTURES, ROOT, runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir('packops-cli-');
afterAll(() => tmp.cleanup());
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const FOREST = join(FIXTURES, 'packs', 'forest-scenes');

describe('--help and --version', () => {
  it('--version prints the version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(pkg.version);
    }
  });

  it('--help lists the commands with examples and the exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const word of ['validate', 'init', 'Examples:', 'Exit codes:', '--json', '--no-color']) expect(r.stdout).toContain(word);
  });

  it('every command has --help with an example', async () => {
    const { createProgram } = (await import(join(ROOT, 'dist', 'cli', 'main.js'))) as typeof import('../../src/cli/main.js');
    const program = await createProgram();
    const missing: string[] = [];
    const walk = (cmd: typeof program, path: string[]) => {
      for (const sub of cmd.commands) {
        const name = [...path, sub.name()];
        if (sub.commands.length > 0) walk(sub, name);
        else {
          let help = '';
          sub.configureOutput({ writeOut: (s) => (help += s), writeErr: (s) => (help += s) });
          sub.outputHelp();
          if (!/\$ packops /.test(help)) missing.push(name.join(' '));
        }
      }
    };
    walk(program, []);
    expect(missing).toEqual([]);
  });

  it('validate --help shows the flags and examples', async () => {
    const r = await runCli(['validate', '--help']);
    expect(r.code).toBe(0);
    for (const word of ['--profile', '--no-files', '--strict', '--format', 'github', 'junit', 'sarif', '$ packops validate']) {
      expect(r.stdout).toContain(word);
    }
  });
});

describe('usage errors exit 2', () => {
  it('an unknown flag, a missing argument, an unknown command, a bad choice', async () => {
    for (const args of [['validate', '--nope', FOREST], ['validate'], ['frobnicate'], ['validate', '--format', 'xml', FOREST]]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/error/i);
    }
  });

  it('with --json the failure is one JSON document on stdout', async () => {
    const r = await runCli(['validate', '--json', '--format', 'xml', FOREST]);
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'USAGE', message: expect.stringContaining('xml') } });
  });
});

describe('config discovery', () => {
  const project = join(tmp.dir, 'project');
  const deep = join(project, 'a', 'b');
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(project, 'packops.config.json'), JSON.stringify({ validate: { profile: 'creator' } }));

  it('packops.config.json is found upwards from the working directory', async () => {
    const r = await runCli(['validate', '--json', FOREST], { cwd: deep });
    expect(r.code).toBe(1);
    expect(r.json().results[0].findings.map((f: { code: string }) => f.code)).toEqual(['PROFILE']);
  });

  it('a flag beats the config', async () => {
    const r = await runCli(['validate', '--json', '--profile', 'first-party', FOREST], { cwd: deep });
    expect(r.code).toBe(0);
  });

  it('--config names another file; a broken one is an input error (exit 3)', async () => {
    writeFileSync(join(tmp.dir, 'lax.json'), JSON.stringify({ validate: { profile: 'first-party', strict: true } }));
    const lax = await runCli(['validate', '--json', '--config', join(tmp.dir, 'lax.json'), FOREST], { cwd: deep });
    expect(lax.code).toBe(0);
    writeFileSync(join(tmp.dir, 'broken.json'), '{ "validate": ');
    const broken = await runCli(['validate', '--json', '--config', join(tmp.dir, 'broken.json'), FOREST], { cwd: deep });
    expect(broken.code).toBe(3);
    expect(broken.json()).toMatchObject({ ok: false, error: { code: 'CONFIG_UNREADABLE' } });
  });

  it('a config value that is not a profile is a usage error', async () => {
    writeFileSync(join(tmp.dir, 'odd.json'), JSON.stringify({ validate: { profile: 'gold' } }));
    const r = await runCli(['validate', '--json', '--config', join(tmp.dir, 'odd.json'), FOREST]);
    expect(r.code).toBe(2);
    expect(r.json().error.message).toContain('gold');
  });
});

describe('colour', () => {
  /** Runs the CLI on a pseudo-terminal (util-linux `script`), where colour is allowed. */
  function onTty(args: string[], env: Record<string, string>): string {
    const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.CI;
    delete childEnv.NO_COLOR;
    Object.assign(childEnv, env);
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: childEnv, encoding: 'utf8' });
    return r.stdout;
  }
  const ESC = '\u001b[';

  it('colours a terminal, and NO_COLOR or --no-color turns it off', () => {
    const target = join(FIXTURES, 'invalid', 'COVER_UNKNOWN');
    expect(onTty(['validate', target], {}).includes(ESC)).toBe(true);
    const noColor = onTty(['validate', target], { NO_COLOR: '1' });
    expect(noColor).toContain('COVER_UNKNOWN');
    expect(noColor.includes(ESC)).toBe(false);
    expect(onTty(['validate', '--no-color', target], {}).includes(ESC)).toBe(false);
  });

  it('never colours a pipe', async () => {
    const r = await runCli(['validate', join(FIXTURES, 'invalid', 'COVER_UNKNOWN')], { env: { NO_COLOR: undefined, CI: undefined, FORCE_COLOR: undefined } });
    expect(r.code).toBe(1);
    expect(r.stdout.includes(ESC)).toBe(false);
  });
});

describe('start-up stays light', () => {
  /** Static (non-type) imports of a source file, resolved to files or package names. */
  function staticImports(file: string): string[] {
    const text = readFileSync(file, 'utf8');
    const out: string[] = [];
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) out.push(m[1]!);
    return out;
  }

  it('packops --help and --version import no heavy module', () => {
    const heavy = /^(sharp|better-sqlite3|archiver|kysely|yauzl|ajv|ajv-formats|obscenity|jsonc-parser|@inquirer\/prompts|ora|p-limit|thumbhash|puppeteer-core)(\/|$)/;
    const seen = new Set<string>();
    const reached: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of staticImports(file)) {
        if (spec.startsWith('.')) visit(join(file, '..', spec.replace(/\.js$/, '.ts')));
        else if (heavy.test(spec)) reached.push(`${file.slice(ROOT.length + 1)} → ${spec}`);
      }
    };
    visit(join(ROOT, 'src', 'cli', 'main.ts'));
    // --help loads every command file (commands/index.ts imports them on demand).
    for (const f of readdirSync(join(ROOT, 'src', 'cli', 'commands'))) visit(join(ROOT, 'src', 'cli', 'commands', f));
    expect(seen.size).toBeGreaterThan(5);
    expect(reached).toEqual([]);
  });
});
