// The command files are loaded on demand (src/cli/commands/index.ts): a run of one command
// loads the file that declares it. The table naming each file's commands must say exactly
// what the file registers, and a run must register the same command whichever way it is loaded.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_FILES, registerCommands } from '../../src/cli/commands/index.js';
import { commandName, createProgram } from '../../src/cli/main.js';

const helpOf = (cmd: Command): string => {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  cmd.outputHelp();
  return text;
};

describe('the command files table', () => {
  it('names exactly the top-level commands each file registers, each once', async () => {
    const seen: string[] = [];
    for (const file of COMMAND_FILES) {
      const program = new Command('packops');
      const groups = { catalog: new Command('catalog'), creators: new Command('creators') };
      (await file.load()).register(program, groups);
      expect(program.commands.map((c) => c.name())).toEqual(file.commands);
      seen.push(...file.commands);
    }
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('registers every command, the shared groups included, when no command is named', async () => {
    const program = new Command('packops');
    await registerCommands(program);
    expect(program.commands.map((c) => c.name())).toEqual([...COMMAND_FILES.flatMap((f) => f.commands), 'catalog', 'creators']);
  });

  it('gives a command the same options and help loaded alone as loaded with all the others', async () => {
    const all = await createProgram();
    for (const name of COMMAND_FILES.flatMap((f) => f.commands)) {
      const alone = await createProgram(['node', 'packops', name]);
      expect(alone.commands.map((c) => c.name())).toContain(name);
      const a = alone.commands.find((c) => c.name() === name)!;
      const b = all.commands.find((c) => c.name() === name)!;
      expect(helpOf(a), name).toBe(helpOf(b));
    }
  });
});

describe('commandName', () => {
  const argv = (...args: string[]) => ['node', 'packops', ...args];
  it('is the first argument after the global options', () => {
    expect(commandName(argv('validate', 'x'))).toBe('validate');
    expect(commandName(argv('--json', '-q', '--no-color', 'validate', '--strict'))).toBe('validate');
    expect(commandName(argv('--db', 'validate', 'build'))).toBe('build');
    expect(commandName(argv('--config=c.json', '--db=x.db', 'payouts', 'report'))).toBe('payouts');
  });
  it('is undefined for --help, --version, an unknown option, -- or no command', () => {
    expect(commandName(argv())).toBeUndefined();
    expect(commandName(argv('--help'))).toBeUndefined();
    expect(commandName(argv('-V'))).toBeUndefined();
    expect(commandName(argv('--jsn', 'validate'))).toBeUndefined();
    expect(commandName(argv('--', 'validate'))).toBeUndefined();
    expect(commandName(argv('--db'))).toBeUndefined();
  });
});
