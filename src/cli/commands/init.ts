/**
 * `packops init [dir]`: a wizard (@inquirer/prompts) for a new pack; `--yes` with flags
 * answers everything without prompts. Never prompts without a terminal.
 */
import { Option, type Command } from 'commander';
import { action, intOption } from '../action.js';
import type { InitAnswers } from '../../manifest/init.js';
import type { CommandGroups } from '../command-groups.js';

const CATEGORY_CHOICES = ['characters', 'environments', 'educational', 'creative_tools', 'seasonal'] as const;
type Category = (typeof CATEGORY_CHOICES)[number];

interface InitFlags {
  yes?: boolean;
  name?: string;
  slug?: string;
  category?: Category;
  ageMin?: number;
  ageMax?: number;
  price?: number;
  currency: string;
  creator?: string;
}

export function register(program: Command, _groups: CommandGroups): void {
  program
    .command('init')
    .description('create a new pack: pack.json and assets/ (asks, or takes --yes and flags)')
    .argument('[dir]', 'folder of the new pack (created if needed)', '.')
    .option('-y, --yes', 'no prompts: take the flags and defaults')
    .option('--name <name>', 'display name of the pack')
    .option('--slug <slug>', 'lowercase kebab-case id (default: made from the name)')
    .addOption(new Option('--category <category>', 'marketplace category (default characters)').choices(CATEGORY_CHOICES))
    .addOption(new Option('--age-min <years>', 'youngest age, 0-12 (default 3)').argParser(intOption('--age-min', 0, 12)))
    .addOption(new Option('--age-max <years>', 'oldest age, 0-12 (default 8)').argParser(intOption('--age-max', 0, 12)))
    .addOption(new Option('--price <minor>', 'USD list price in cents, e.g. 499 for $4.99 (default 0: free)').argParser(intOption('--price', 0)))
    .option('--currency <code>', 'currency of --price; the list price is USD (local prices go under "markets")', 'USD')
    .option('--creator <id>', 'owner: a creator or collaboration id (required with --yes)')
    .addHelpText(
      'after',
      `
Writes <dir>/pack.json (version 0.1.0) and <dir>/assets/placeholder.png, a pack that passes
\`packops validate\` at once. An existing pack.json is never overwritten (PACK_EXISTS, exit 4).
Without a terminal, give --yes and the flags.

Exit codes: 0 written · 2 usage error (bad flag, no terminal without --yes) · 3 folder not writable · 4 pack.json exists

Examples:
  $ packops init ocean-creatures
  $ packops init ocean-creatures --yes --name "Ocean Creatures" --category characters \\
      --age-min 3 --age-max 8 --price 499 --creator ocean-team`,
    )
    .action(
      action<[string], InitFlags>(async (ctx, [dir], flags) => {
        const { usageError } = await import('../../shared/errors.js');
        const { answerProblems, assertNoPack, createPack, slugify } = await import('../../manifest/init.js');
        if (flags.currency !== 'USD') {
          throw usageError(`--currency ${flags.currency}: the list price of a pack is in USD.`, {
            hint: 'Give --price in US cents; add local prices under "markets" in pack.json afterwards.',
          });
        }
        // Refuse early, before asking anything, when the pack already exists.
        await assertNoPack(dir, ctx.cwd);
        let answers: InitAnswers;
        if (flags.yes) {
          if (!flags.creator) throw usageError('--yes needs --creator <id> (the creator or collaboration that owns the pack).');
          const { basename, resolve } = await import('node:path');
          const name = flags.name ?? titleCase(basename(resolve(ctx.cwd, dir)));
          answers = {
            name,
            slug: flags.slug ?? slugify(name),
            category: flags.category ?? 'characters',
            ageMin: flags.ageMin ?? 3,
            ageMax: flags.ageMax ?? 8,
            priceMinor: flags.price ?? 0,
            currency: 'USD',
            creator: flags.creator,
          };
        } else {
          if (!process.stdin.isTTY || !process.stdout.isTTY || ctx.global.json) {
            throw usageError('packops init asks questions, and there is no terminal to ask them on.', {
              hint: 'Run it in a terminal, or give --yes with --name, --creator and the other flags.',
            });
          }
          answers = await askAnswers(flags, slugify);
        }
        const problems = answerProblems(answers);
        if (problems.length > 0) {
          throw usageError(problems.map((p) => `${flagFor(p.pointer)}: ${p.message}`).join(' '), {
            details: { findings: problems },
          });
        }
        const result = await createPack(dir, answers, { cwd: ctx.cwd });
        ctx.out.result(
          { ok: true, packDir: result.packDir, manifest: result.written.at(-1), written: result.written, slug: answers.slug },
          () =>
            [
              `Created ${answers.name} (${answers.slug}) in ${dir}:`,
              ...result.written.map((w) => `  ${w}`),
              '',
              'Next: put the art in assets/, list it in pack.json, then run',
              `  packops validate ${dir}`,
            ].join('\n'),
        );
      }),
    );
}

function titleCase(s: string): string {
  return s
    .replace(/[-_]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\b\p{L}/gu, (c) => c.toUpperCase());
}

/** Which flag sets the value at a manifest pointer (for error messages). */
function flagFor(pointer: string | undefined): string {
  const flags: Record<string, string> = {
    '/name': '--name',
    '/slug': '--slug',
    '/category': '--category',
    '/ageRange': '--age-min/--age-max',
    '/ageRange/min': '--age-min',
    '/ageRange/max': '--age-max',
    '/price/amountMinor': '--price',
    '/creator': '--creator',
  };
  return flags[pointer ?? ''] ?? (pointer || 'pack.json');
}

const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** The wizard: asks for every answer a flag did not give. */
export async function askAnswers(flags: Partial<InitFlags>, slugify: (name: string) => string): Promise<InitAnswers> {
  const { input, select, number } = await import('@inquirer/prompts');
  const name =
    flags.name ??
    (await input({
      message: 'Pack name',
      validate: (v) => (v.trim().length >= 1 && v.trim().length <= 100) || 'Give a name of 1 to 100 characters.',
    })).trim();
  const slug =
    flags.slug ??
    (await input({
      message: 'Slug (the pack id)',
      default: slugify(name),
      validate: (v) => (KEBAB.test(v) && v.length >= 3 && v.length <= 64) || 'Lowercase kebab-case, 3 to 64 characters (e.g. ocean-creatures).',
    }));
  const category =
    flags.category ??
    (await select<Category>({
      message: 'Category',
      choices: CATEGORY_CHOICES.map((c) => ({ value: c, name: c.replace('_', ' ') })),
    }));
  const ageMin =
    flags.ageMin ?? (await number({ message: 'Youngest age (0-12)', default: 3, min: 0, max: 12, step: 1, required: true }))!;
  const ageMax =
    flags.ageMax ??
    (await number({ message: 'Oldest age (0-12)', default: Math.max(8, ageMin), min: ageMin, max: 12, step: 1, required: true }))!;
  const priceMinor =
    flags.price ?? (await number({ message: 'List price in US cents (499 = $4.99; 0 = free)', default: 0, min: 0, step: 1, required: true }))!;
  const creator =
    flags.creator ??
    (await input({
      message: 'Creator or collaboration id',
      validate: (v) => (KEBAB.test(v) && v.length >= 3 && v.length <= 64) || 'Lowercase kebab-case, 3 to 64 characters (e.g. ana-lima).',
    }));
  return { name, slug, category, ageMin, ageMax, priceMinor, currency: 'USD', creator };
}
