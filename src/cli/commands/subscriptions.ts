/**
 * `subscriptions create|list` (PRODUCT.md §14): the family subscription's plans, stored in
 * the ledger. How subscription money reaches creators is `payouts report`'s job.
 */
import { Option, type Command } from 'commander';
import { action, intOption } from '../action.js';
import type { CommandGroups } from '../command-groups.js';
import { withLedger } from '../ledger.js';
import type { Plan } from '../../ledger/plans.js';

const PLAN_HEADERS = ['id', 'name', 'months', 'price_usd', 'appstore', 'googleplay', 'web', 'created_at'] as const;

function planRow(p: Plan, usd: (minor: number) => string): string[] {
  return [
    p.id,
    p.name,
    String(p.months),
    usd(p.priceMinor),
    p.storeProductIds.appstore ?? '',
    p.storeProductIds.googleplay ?? '',
    p.storeProductIds.web ?? '',
    p.createdAt,
  ];
}

export function register(program: Command, _groups: CommandGroups): void {
  const subs = program
    .command('subscriptions')
    .description('family subscription plans (monthly, annual); their money reaches creators by what families use');

  subs
    .command('create')
    .description('store a subscription plan (same plan again: no-op)')
    .argument('<id>', 'plan id (lowercase kebab-case; sales name it, or one of its store product ids, as their product)')
    .requiredOption('--name <name>', 'display name, e.g. "Plus Monthly"')
    .addOption(new Option('--months <n>', '1 (monthly) or 12 (annual)').choices(['1', '12']).makeOptionMandatory(true))
    .requiredOption('--price <minor>', 'USD price in cents', intOption('--price', 1))
    .option('--appstore <product id>', 'the plan’s App Store product id')
    .option('--googleplay <product id>', 'the plan’s Google Play product id')
    .option('--web <product id>', 'the plan’s web shop product id')
    .addHelpText(
      'after',
      `
A sales row whose product is the plan id or one of its store product ids is a subscription
transaction: imported by \`ledger import sales\` with family_ref required on every row.
A product name (plan id, store product id, pack or bundle slug) names one product only:
PRODUCT_ID_CONFLICT (exit 4). A different plan under an existing id is PLAN_EXISTS (exit 4);
bad values are PLAN_INVALID (exit 3).

Examples:
  $ packops subscriptions create plus-monthly --name "Plus Monthly" --months 1 --price 699 \\
      --appstore com.wondernest.plus.monthly --googleplay plus_monthly
  $ packops subscriptions create plus-annual --name "Plus Annual" --months 12 --price 5999 --json`,
    )
    .action(
      action<[string], { name: string; months: string; price: number; appstore?: string; googleplay?: string; web?: string }>(async (ctx, [id], o) => {
        const { createPlan } = await import('../../ledger/plans.js');
        const { formatMinor } = await import('../../shared/money.js');
        const r = await withLedger(ctx, (l) =>
          createPlan(l, {
            id,
            name: o.name,
            months: Number(o.months),
            priceMinor: o.price,
            storeProductIds: { appstore: o.appstore, googleplay: o.googleplay, web: o.web },
          }),
        );
        ctx.out.result({ ok: true, status: r.status, plan: r.plan }, () => {
          const p = r.plan;
          const ids = Object.entries(p.storeProductIds).map(([s, v]) => `${s} ${v}`);
          return `${r.status === 'created' ? 'Created' : 'Unchanged (already stored)'}: ${p.name} (${p.id}) · ${p.months === 12 ? 'annual' : 'monthly'} · ${formatMinor(p.priceMinor, 'USD')} USD${ids.length ? ` · ${ids.join(', ')}` : ''}`;
        });
      }),
    );

  subs
    .command('list')
    .description('every subscription plan')
    .addOption(new Option('--format <format>', 'table or json').choices(['table', 'json']).default('table'))
    .addHelpText('after', `\nExamples:\n  $ packops subscriptions list\n  $ packops subscriptions list --format json`)
    .action(
      action<[], { format: 'table' | 'json' }>(async (ctx, _args, o) => {
        const { listPlans } = await import('../../ledger/plans.js');
        const { alignTable } = await import('../../payouts/render.js');
        const { formatMinor } = await import('../../shared/money.js');
        const plans = await withLedger(ctx, (l) => listPlans(l));
        const doc = { ok: true, plans };
        if (!ctx.global.json && o.format === 'json') return ctx.out.raw(`${JSON.stringify(doc, null, 2)}\n`);
        ctx.out.result(doc, () =>
          plans.length ? alignTable(PLAN_HEADERS, plans.map((p) => planRow(p, (m) => formatMinor(m, 'USD')))) : 'No subscription plans yet.',
        );
      }),
    );
}
