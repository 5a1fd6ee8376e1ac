/**
 * Pricing commands: `bundles create|seasonal|list` (stored in the ledger) and
 * `price institution` (a quote from the roadmap's tables; no ledger needed).
 */
import { Option, type Command } from 'commander';
import { action, intOption } from '../action.js';
import type { CliContext } from '../context.js';
import type { CommandGroups } from '../command-groups.js';
import { withLedger } from '../ledger.js';
import type { Bundle, CreateResult } from '../../pricing/bundles.js';
import type { InstitutionQuote } from '../../pricing/institution.js';

/** Students or families in a quote: far above any institution, and every amount stays an exact integer. */
const MAX_COUNT = 1_000_000_000;

/** Renderers take the formatter from the (already loaded) pricing module. */
type Usd = (minor: number) => string;

function renderBundle(b: Bundle, usd: Usd): string {
  const lines = [
    `${b.name} (${b.slug})${b.kind === 'seasonal' ? ` · seasonal, available ${b.availableFrom} to ${b.availableUntil}` : ''}`,
    ...b.items.map((i) => `  ${i.pack.padEnd(28)} ${usd(i.priceMinor).padStart(10)}`),
    `  ${'individual total'.padEnd(28)} ${usd(b.individualTotalMinor).padStart(10)}`,
    `  ${'bundle price'.padEnd(28)} ${usd(b.priceMinor).padStart(10)}`,
    `  ${'savings'.padEnd(28)} ${usd(b.savingsMinor).padStart(10)} (${b.savingsPercent}%)`,
  ];
  return lines.join('\n');
}

async function emitCreated(ctx: CliContext, r: CreateResult): Promise<void> {
  const { usd } = await import('../../pricing/institution.js');
  ctx.out.result({ ok: true, status: r.status, bundle: r.bundle }, () =>
    `${r.status === 'created' ? 'Created' : 'Unchanged (already stored)'}: ${renderBundle(r.bundle, usd)}`,
  );
}

function renderQuote(q: InstitutionQuote, usd: Usd): string {
  const width = Math.max(...q.lines.map((l) => l.label.length), 'subtotal'.length) + 2;
  const rows = q.lines.map((l) => `  ${l.label.padEnd(width)} ${usd(l.amountMinor).padStart(12)}`);
  return [
    `Annual quote: ${q.type.replace(/_/g, ' ')}, ${q.count} ${q.unit} (USD)`,
    ...rows,
    `  ${'subtotal'.padEnd(width)} ${usd(q.subtotalMinor).padStart(12)}`,
    `  ${'discount'.padEnd(width)} ${usd(-q.discountMinor).padStart(12)}`,
    `  ${'total'.padEnd(width)} ${usd(q.totalMinor).padStart(12)}`,
  ].join('\n');
}

export function register(program: Command, _groups: CommandGroups): void {
  const bundles = program.command('bundles').description('price bundles of packs and seasonal collections (stored in the ledger)');

  bundles
    .command('create')
    .description('store a bundle at a fixed price or a discount on the packs\' current USD prices')
    .argument('<slug>', 'bundle slug (lowercase kebab-case; sales name it as their product)')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--packs <slugs>', 'comma-separated pack slugs (at least two)')
    .option('--price <minor>', 'bundle price in cents', intOption('--price', 0))
    .option('--discount <fraction>', 'discount on the individual total, e.g. 0.30 (rounded half away from zero)')
    .option('--charm', 'move a price computed from --discount down to the nearest …99')
    .addHelpText(
      'after',
      `
Stores individual_total (the sum of the packs' current USD prices), the price, the savings
and each pack's price at bundle time (the weights of revenue splits). A pack's current
price is its live version's on the day (SOURCE_DATE_EPOCH, else today, UTC): the highest
version published by that day that is not a pre-release, as in the catalog. A different
bundle under an existing slug is BUNDLE_EXISTS (exit 4); unknown packs are PACK_UNKNOWN
(exit 3); a pack with no live version that day is PACK_NOT_LIVE (exit 4).

Examples:
  $ packops bundles create starter-bundle --name "Starter Bundle" \\
      --packs ocean-creatures,forest-scenes,counting-garden --discount 0.20 --charm
  $ packops bundles create animal-kingdom-complete --name "Animal Kingdom Complete" \\
      --packs lions,bears,birds,ocean-creatures --price 2499 --json`,
    )
    .action(
      action<[string], { name: string; packs: string; price?: number; discount?: string; charm?: boolean }>(async (ctx, [slug], o) => {
        if ((o.price === undefined) === (o.discount === undefined)) {
          const { usageError } = await import('../../shared/errors.js');
          throw usageError('Give exactly one of --price <minor> or --discount <fraction>.');
        }
        const { createBundle } = await import('../../pricing/bundles.js');
        const { clockFromEnv } = await import('../../shared/source-date.js');
        const now = clockFromEnv(ctx.env);
        const r = await withLedger(ctx, (l) =>
          createBundle(l, { slug, name: o.name, packs: o.packs.split(','), priceMinor: o.price, discount: o.discount, charm: o.charm, now: () => now }),
        );
        await emitCreated(ctx, r);
      }),
    );

  bundles
    .command('seasonal')
    .description("the roadmap's create_seasonal_bundle: every pack tagged <season> and available on --today")
    .argument('<season>', 'the season tag, e.g. winter')
    .requiredOption('--discount <fraction>', 'discount on the individual total, e.g. 0.25')
    .option('--days <n>', 'days the collection stays available', intOption('--days', 1, 3650), 60)
    .option('--today <YYYY-MM-DD>', 'the day to evaluate live versions and availability on (default: SOURCE_DATE_EPOCH\'s day, else today, UTC)')
    .option('--slug <slug>', 'bundle slug (default <season>-collection)')
    .addHelpText(
      'after',
      `
Each pack counts with its live version on --today (published by that day, not a
pre-release): its tags, availability window and price; a pack with no live version that
day is not in the catalog and is left out.
price = ROUND(individual total × (1 − discount)), half away from zero; name "<Season>
Collection"; available from --today until --today + --days. No matching pack is
BUNDLE_EMPTY (exit 4: the catalog has nothing to bundle that day), never a free bundle.

Examples:
  $ packops bundles seasonal winter --discount 0.25 --today 2026-12-01
  $ packops bundles seasonal summer --discount 0.25 --days 90 --json`,
    )
    .action(
      action<[string], { discount: string; days: number; today?: string; slug?: string }>(async (ctx, [season], o) => {
        const { createSeasonalBundle } = await import('../../pricing/bundles.js');
        const { clockFromEnv } = await import('../../shared/source-date.js');
        const now = clockFromEnv(ctx.env);
        const r = await withLedger(ctx, (l) =>
          createSeasonalBundle(l, { season, discount: o.discount, days: o.days, today: o.today, slug: o.slug, now: () => now }),
        );
        await emitCreated(ctx, r);
      }),
    );

  bundles
    .command('list')
    .description('every bundle with its packs, prices and savings')
    .addHelpText('after', `\nExamples:\n  $ packops bundles list\n  $ packops bundles list --json`)
    .action(
      action(async (ctx) => {
        const { listBundles } = await import('../../pricing/bundles.js');
        const { clockFromEnv } = await import('../../shared/source-date.js');
        const now = clockFromEnv(ctx.env);
        const list = await withLedger(ctx, (l) => listBundles(l, () => now));
        const { usd } = await import('../../pricing/institution.js');
        ctx.out.result({ ok: true, bundles: list }, () => (list.length ? list.map((b) => renderBundle(b, usd)).join('\n\n') : 'No bundles yet.'));
      }),
    );

  const price = program.command('price').description('quotes from the roadmap pricing tables');
  price
    .command('institution')
    .description('annual quote for a school, daycare or homeschool group (itemised)')
    .addOption(
      new Option('--type <type>', 'institution type')
        .choices(['public_school', 'private_school', 'daycare', 'homeschool_group'])
        .makeOptionMandatory(true),
    )
    .option('--students <n>', 'number of students (schools, daycare)', intOption('--students', 1, MAX_COUNT))
    .option('--families <n>', 'number of families (homeschool_group)', intOption('--families', 1, MAX_COUNT))
    .addHelpText(
      'after',
      `
Tables (roadmap _determineInstitutionPricing), per year, USD:
  public_school     $2.99 per student, minimum 25 seats; 15% off 100+, 25% off 500+, 35% off 1000+
  private_school    $4.99 per student, minimum 10 seats; 10% off 50+, 20% off 200+, 30% off 500+
  daycare           $199.99 site licence incl. 50 students, then $2.99 per additional student
  homeschool_group  $79.99 per family, minimum 5 families, 20% group discount
The discount is rounded half away from zero to the cent; total = subtotal − discount.

Examples:
  $ packops price institution --type public_school --students 120
  $ packops price institution --type homeschool_group --families 8 --json`,
    )
    .action(
      action<[], { type: 'public_school' | 'private_school' | 'daycare' | 'homeschool_group'; students?: number; families?: number }>(
        async (ctx, _args, o) => {
          const { usageError } = await import('../../shared/errors.js');
          const wantsFamilies = o.type === 'homeschool_group';
          if (wantsFamilies && (o.families === undefined || o.students !== undefined)) {
            throw usageError('A homeschool_group quote takes --families <n> (not --students).');
          }
          if (!wantsFamilies && (o.students === undefined || o.families !== undefined)) {
            throw usageError(`A ${o.type} quote takes --students <n> (--families is for homeschool_group).`);
          }
          const { quoteInstitution, usd } = await import('../../pricing/institution.js');
          const q = quoteInstitution(o.type, (wantsFamilies ? o.families : o.students)!);
          ctx.out.result({ ok: true, quote: q }, () => renderQuote(q, usd));
        },
      ),
    );
}
