/**
 * One creator's statement page (PRODUCT.md §16), in the order a creator reads it: who
 * and when, what is paid, the tier and the way to the next one, the last twelve months,
 * the lines per pack, collaboration splits, bonus, carry, the exchange rates used, and a
 * footer with the SHA-256 of the statement's figures.
 */
import { barChart } from '../../pages/chart.js';
import { canonicalJson, sha256Hex } from '../../pages/digest.js';
import { html, raw, type Raw } from '../../pages/escape.js';
import { renderPage } from '../../pages/shell.js';
import { addMonths } from '../../shared/period.js';
import { parseDecimal } from '../../shared/money.js';
import type { StatementDoc } from '../report.js';
import { figure, money, pageHeader, PAGES_CSS, percent, plural, section, shortMonth, statusText, type PagesDoc } from './common.js';

type PackLineDoc = StatementDoc['collaborations'][number]['lines'][number];

/** The figures a statement's digest covers: the month and the statement as reported. */
export function statementDigest(period: string, statement: StatementDoc): string {
  return sha256Hex(canonicalJson({ period, statement }));
}

export function statementNumber(period: string, creator: string): string {
  return `${period}-${creator}`;
}

function decimalAtLeast(actual: string | null, required: string): boolean {
  if (actual === null) return false;
  const a = parseDecimal(actual);
  const r = parseDecimal(required);
  if (!a || !r) return false;
  return a.num * r.den >= r.num * a.den;
}

function tierBlock(doc: PagesDoc, i: number): Raw {
  const s = doc.statements[i]!;
  const p = `/statements/${i}`;
  const tiers = doc.tiers;
  const reachedAt = tiers.findIndex((t) => t.name === s.tier);
  const target = reachedAt >= 0 && reachedAt === tiers.length - 1 ? reachedAt : reachedAt + 1;
  const t = tiers[target];
  const reached = reachedAt >= 0
    ? html`<p>Tier reached: <strong>${s.tier}</strong>, revenue share ${percent(`${p}/sharePercent`, s.sharePercent)}.</p>`
    : html`<p>No tier reached this month: paid the lowest tier’s share, ${percent(`${p}/sharePercent`, s.sharePercent)}, and no bonus.</p>`;
  if (!t) return reached;
  const tp = `/tiers/${target}/minimums`;
  const f = s.figures;
  const checks: Array<{ what: string; actual: Raw; required: Raw; met: boolean }> = [
    { what: 'packs published', actual: figure(`${p}/figures/packsPublished`, f.packsPublished), required: figure(`${tp}/packs`, t.minimums.packs), met: f.packsPublished >= t.minimums.packs },
    {
      what: `average rating (${plural(f.ratingCount, 'review', 'reviews')})`,
      actual: f.averageRating === null ? html`no reviews` : figure(`${p}/figures/averageRating`, f.averageRating),
      required: figure(`${tp}/rating`, t.minimums.rating),
      met: f.ratingCount > 0 && decimalAtLeast(f.averageRating, t.minimums.rating),
    },
    { what: 'sales this month', actual: figure(`${p}/figures/units`, f.units), required: figure(`${tp}/units`, t.minimums.units), met: f.units >= t.minimums.units },
    { what: 'months active', actual: figure(`${p}/figures/monthsActive`, f.monthsActive), required: figure(`${tp}/months`, t.minimums.months), met: f.monthsActive >= t.minimums.months },
  ];
  const heading = target === reachedAt ? `${t.name}, the top tier: every minimum held` : `Progress to ${t.name} (${t.sharePercent}%)`;
  return html`${reached}
<h3>${heading}</h3>
<ul class="checks">
${checks.map(
  (c) =>
    html`<li class="${c.met ? 'met' : 'unmet'}"><span class="what">${c.what}</span><span class="val">${c.actual}</span> of ${c.required} ${
      c.met ? html`<span class="ok" aria-label="met">✓</span>` : html`<span class="miss">not yet</span>`
    }</li>\n`,
)}</ul>`;
}

function chartBlock(doc: PagesDoc, i: number): Raw {
  const s = doc.statements[i]!;
  const first = addMonths(doc.period, -11);
  const bars = Array.from({ length: 12 }, (_, k) => {
    const month = addMonths(first, k);
    const h = doc.history.findIndex((m) => m.month === month);
    const entry = h >= 0 ? doc.history[h]! : undefined;
    const c = entry ? entry.creators.findIndex((x) => x.creator === s.creator) : -1;
    return {
      label: shortMonth(month),
      key: month,
      valueMinor: entry && c >= 0 ? entry.creators[c]!.earningsMinor : null,
      provisional: entry?.status === 'open',
      figureAttrs: entry && c >= 0 ? `data-json="/history/${h}/creators/${c}/earningsMinor" data-kind="money:USD"` : undefined,
    };
  });
  return barChart({ id: 'earnings', title: 'Earnings, last 12 months (USD)', currency: 'USD', valueHeader: 'Earnings', bars });
}

const LINE_HEAD = html`<thead><tr><th scope="col">Pack</th><th scope="col" class="num">Units</th><th scope="col" class="num">Gross</th><th scope="col" class="num">Fees</th><th scope="col" class="num">Tax</th><th scope="col" class="num">Net</th><th scope="col" class="num">Net USD</th><th scope="col" class="num">Share %</th><th scope="col" class="num">Share</th></tr></thead>`;

function packName(doc: PagesDoc, slug: string): Raw {
  const name = doc.packNames.find((p) => p.slug === slug)?.name;
  return name && name !== slug ? html`${name} <span class="note">${slug}</span>` : html`${slug}`;
}

function lineRows(doc: PagesDoc, lines: readonly PackLineDoc[], base: string): Raw[] {
  return lines.map((l, j) => {
    const p = `${base}/${j}`;
    // A line of App Store report lines knows its net only: gross, fees and tax show as "—",
    // as in the Markdown and CSV statements (the JSON keeps 0 and says amountsUnknown).
    const via = l.bundle ? html`<br><span class="note">in bundle ${l.bundle}</span>` : html``;
    const counts = `${plural(l.sales, 'sale', 'sales')}${l.refunds ? `, ${plural(l.refunds, 'refund', 'refunds')}` : ''}`;
    const row = html`<tr><th scope="row">${packName(doc, l.pack)}${via}<br><span class="note">${counts} · ${l.currency}</span></th><td class="num" data-label="Units">${figure(`${p}/units`, l.units)}</td><td class="num" data-label="Gross">${money(`${p}/grossMinor`, l.amountsUnknown ? null : l.grossMinor, l.currency)}</td><td class="num" data-label="Fees">${money(`${p}/feesMinor`, l.amountsUnknown ? null : l.feesMinor, l.currency)}</td><td class="num" data-label="Tax">${money(`${p}/taxMinor`, l.amountsUnknown ? null : l.taxMinor, l.currency)}</td><td class="num" data-label="Net">${money(`${p}/netMinor`, l.netMinor, l.currency)}</td><td class="num" data-label="Net USD">${money(`${p}/netUsdMinor`, l.netUsdMinor, 'USD')}</td><td></td><td></td></tr>`;
    return html`${row}\n`;
  });
}

type SubscriptionLineDoc = StatementDoc['collaborations'][number]['subscriptionLines'][number];

/** §14's subscription lines: what families' use of each pack earned from their subscriptions. */
function subscriptionRows(doc: PagesDoc, lines: readonly SubscriptionLineDoc[] | undefined, base: string): Raw[] {
  return (lines ?? []).map((l, j) => {
    const p = `${base}/${j}`;
    return html`<tr class="subscription"><th scope="row">${packName(doc, l.pack)}<br><span class="note">subscription use: ${figure(`${p}/families`, l.families)} ${l.families === 1 ? 'family' : 'families'}, ${figure(`${p}/activeDays`, l.activeDays)} active days · USD</span></th><td></td><td></td><td></td><td></td><td></td><td class="num" data-label="Net USD">${money(`${p}/netUsdMinor`, l.netUsdMinor, 'USD')}</td><td></td><td></td></tr>\n`;
  });
}

function linesBlock(doc: PagesDoc, i: number): Raw {
  const s = doc.statements[i]!;
  const p = `/statements/${i}`;
  const parts: Raw[] = [];
  if (s.own) {
    parts.push(html`<h3>Your packs</h3>
<div class="scroll"><table class="data lines">
${LINE_HEAD}
<tbody>
${lineRows(doc, s.own.lines, `${p}/own/lines`)}${subscriptionRows(doc, s.own.subscriptionLines, `${p}/own/subscriptionLines`)}</tbody>
<tfoot><tr class="total"><th scope="row">Your packs</th><td></td><td></td><td></td><td></td><td></td><td class="num" data-label="Net USD">${money(`${p}/own/netMinor`, s.own.netMinor, 'USD')}</td><td class="num" data-label="Share %">${percent(`${p}/sharePercent`, s.sharePercent)}</td><td class="num" data-label="Your share">${money(`${p}/own/shareMinor`, s.own.shareMinor, 'USD')}</td></tr></tfoot>
</table></div>`);
  }
  s.collaborations.forEach((c, k) => {
    const cp = `${p}/collaborations/${k}`;
    parts.push(html`<h3>${c.name ?? c.collaboration} <span class="note">collaboration ${c.collaboration}, led by ${c.lead}${c.tier ? ` (tier ${c.tier})` : ''}</span></h3>
<div class="scroll"><table class="data lines">
${LINE_HEAD}
<tbody>
${lineRows(doc, c.lines, `${cp}/lines`)}${subscriptionRows(doc, c.subscriptionLines, `${cp}/subscriptionLines`)}</tbody>
<tfoot><tr class="total"><th scope="row">Collaboration</th><td></td><td></td><td></td><td></td><td></td><td class="num" data-label="Net USD">${money(`${cp}/netMinor`, c.netMinor, 'USD')}</td><td class="num" data-label="Share %">${percent(`${cp}/sharePercent`, c.sharePercent)}</td><td class="num" data-label="Its share">${money(`${cp}/collaborationShareMinor`, c.collaborationShareMinor, 'USD')}</td></tr>
<tr class="total"><th scope="row">Your split of it</th><td></td><td></td><td></td><td></td><td></td><td></td><td class="num" data-label="Your %">${percent(`${cp}/memberPercent`, c.memberPercent)}</td><td class="num" data-label="Yours">${money(`${cp}/memberShareMinor`, c.memberShareMinor, 'USD')}</td></tr></tfoot>
</table></div>`);
  });
  if (parts.length === 0) parts.push(html`<p class="note">No sales or refunds of your packs this month.</p>`);
  const hasSubscriptions = (s.own?.subscriptionLines ?? []).length > 0 || s.collaborations.some((c) => (c.subscriptionLines ?? []).length > 0);
  parts.push(
    html`<p class="note">Gross, fees, tax and net are in each sale’s currency; each transaction is converted to USD once at the month’s rate. Your share is rounded once per owner, from the USD net.${
      hasSubscriptions ? ' Subscription lines are what subscribing families’ use of your packs earned: each family’s subscription money follows its own use (active days); subscription use is not a sale and never counts as units.' : ''
    }</p>`,
  );
  return html`${parts}`;
}

/** Where each collaboration's members are in the month's statements: collaboration → [statement, entry]. */
const membersCache = new WeakMap<PagesDoc, Map<string, Array<[number, number]>>>();
function membersOf(doc: PagesDoc, collaboration: string): Array<[number, number]> {
  let index = membersCache.get(doc);
  if (!index) {
    index = new Map();
    doc.statements.forEach((t, j) =>
      t.collaborations.forEach((c, k) => {
        const list = index!.get(c.collaboration) ?? [];
        list.push([j, k]);
        index!.set(c.collaboration, list);
      }),
    );
    membersCache.set(doc, index);
  }
  return index.get(collaboration) ?? [];
}

/**
 * Each collaboration's split between its members, every member with their percentage and
 * amount, read from the members' own statements of the month (so a closed month shows the
 * split it was paid with).
 */
function splitsBlock(doc: PagesDoc, i: number): Raw {
  const s = doc.statements[i]!;
  if (s.collaborations.length === 0) return html``;
  const tables = s.collaborations.map((c, k) => {
    const cp = `/statements/${i}/collaborations/${k}`;
    const rows = membersOf(doc, c.collaboration).map(([j, kk]) => {
      const m = doc.statements[j]!;
      const mc = m.collaborations[kk]!;
      const mp = `/statements/${j}/collaborations/${kk}`;
      const who = m.name ? html`${m.name} <span class="note">${m.creator}</span>` : html`${m.creator}`;
      return html`<tr${j === i ? html` class="you"` : html``}><th scope="row">${who}${j === i ? html` <strong>(you)</strong>` : html``}${m.creator === c.lead ? html` <span class="note">lead</span>` : html``}</th><td class="num">${percent(`${mp}/memberPercent`, mc.memberPercent)}</td><td class="num">${money(`${mp}/memberShareMinor`, mc.memberShareMinor, 'USD')}</td></tr>\n`;
    });
    return html`<h3>${c.name ?? c.collaboration} <span class="note">its share ${money(`${cp}/collaborationShareMinor`, c.collaborationShareMinor, 'USD')}</span></h3>
<div class="scroll"><table class="data">
<thead><tr><th scope="col">Member</th><th scope="col" class="num">Split %</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>
${rows}</tbody>
</table></div>`;
  });
  return section(
    'splits',
    'Collaboration splits',
    html`${tables}<p class="note">A collaboration’s share is split between its members by their percentages, largest remainder to the cent.</p>`,
  );
}

function bonusBlock(doc: PagesDoc, i: number): Raw {
  const s = doc.statements[i]!;
  const tier = doc.tiers.find((t) => t.name === s.tier);
  const p = `/statements/${i}`;
  let text: Raw;
  if (s.bonusMinor !== 0) text = html`<p>Bonus this month: <strong>${money(`${p}/bonusMinor`, s.bonusMinor, 'USD')}</strong> (${s.tier} tier, ${figure(`${p}/figures/units`, s.figures.units)} sales). Paid by the platform on top of your share.</p>`;
  else if (tier?.bonus) {
    const tp = `/tiers/${doc.tiers.indexOf(tier)}/bonus`;
    text = html`<p>No bonus this month: the ${tier.name} bonus of ${money(`${tp}/amountMinor`, tier.bonus.amountMinor, 'USD')} needs ${figure(`${tp}/threshold`, tier.bonus.threshold)} sales; you had ${figure(`${p}/figures/units`, s.figures.units)}.</p>`;
  }
  else text = html`<p>No bonus this month${s.tier ? `: the ${s.tier} tier has none` : ''}.</p>`;
  return section('bonus', 'Bonus', text);
}

function balanceBlock(doc: PagesDoc, i: number): Raw {
  const s = doc.statements[i]!;
  const p = `/statements/${i}`;
  const row = (label: string, key: keyof StatementDoc & string, value: number, cls = '') =>
    html`<tr${raw(cls ? ` class="${cls}"` : '')}><th scope="row">${label}</th><td class="num">${money(`${p}/${key}`, value, 'USD')}</td></tr>\n`;
  return section(
    'balance',
    'Balance',
    html`<div class="scroll"><table class="data balance">
<tbody>
${row('Carried in from last month', 'carriedInMinor', s.carriedInMinor)}${row('Your share this month', 'earningsMinor', s.earningsMinor)}${row('Bonus', 'bonusMinor', s.bonusMinor)}${row('Balance', 'balanceMinor', s.balanceMinor, 'total')}${row('Paid this month', 'payoutMinor', s.payoutMinor)}${row('Carried out to next month', 'carriedOutMinor', s.carriedOutMinor, 'total')}</tbody>
</table></div>`,
  );
}

function fxBlock(doc: PagesDoc, i: number): Raw {
  const s = doc.statements[i]!;
  const seen = new Map<string, { pointer: string; rate: string }>();
  const visit = (lines: readonly PackLineDoc[], base: string) =>
    lines.forEach((l, j) => {
      if (l.currency !== 'USD' && !seen.has(l.currency)) seen.set(l.currency, { pointer: `${base}/${j}/rate`, rate: l.rate });
    });
  if (s.own) visit(s.own.lines, `/statements/${i}/own/lines`);
  s.collaborations.forEach((c, k) => visit(c.lines, `/statements/${i}/collaborations/${k}/lines`));
  const currencies = [...seen].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const body =
    currencies.length === 0
      ? html`<p class="note">All of this month’s lines were in USD: no conversion.</p>`
      : html`<div class="scroll"><table class="data">
<thead><tr><th scope="col">Currency</th><th scope="col" class="num">USD per unit</th></tr></thead>
<tbody>
${currencies.map(([cur, r]) => html`<tr><th scope="row">${cur}</th><td class="num">${figure(r.pointer, r.rate)}</td></tr>\n`)}</tbody>
</table></div>
<p class="note">USD for one unit of the currency (one pound, one yen), the month’s rate, applied to each transaction.</p>`;
  return section('fx', 'Exchange rates used', body);
}

function paidBlock(doc: PagesDoc, i: number): Raw {
  const s = doc.statements[i]!;
  const p = `/statements/${i}`;
  if (s.payoutMinor > 0) {
    return html`<div class="hero paid"><p class="label">Paid this month</p><p class="amount">${money(`${p}/payoutMinor`, s.payoutMinor, 'USD')}</p><p class="note">Your balance reached the minimum payout of ${money('/minimumMinor', doc.minimumMinor, 'USD')}.</p></div>`;
  }
  const why =
    s.balanceMinor < 0
      ? html`a negative balance is carried forward and set against what you earn next`
      : html`below the minimum of ${money('/minimumMinor', doc.minimumMinor, 'USD')}`;
  return html`<div class="hero carried"><p class="label">Nothing paid this month</p><p class="amount">${money(`${p}/carriedOutMinor`, s.carriedOutMinor, 'USD')}</p><p>Carried forward: ${why}.</p></div>`;
}

/** The whole statement page of `doc.statements[i]`; `digest` when the caller has it already. */
export function renderStatementPage(doc: PagesDoc, i: number, digest = statementDigest(doc.period, doc.statements[i]!)): string {
  const s = doc.statements[i]!;
  const number = statementNumber(doc.period, s.creator);
  const title = html`Statement for ${s.name ?? s.creator} <span class="id">${s.creator}</span>`;
  const header = pageHeader(doc, title, [
    ['Period', doc.period],
    ['Statement', number],
    ['Issued', doc.issued],
    ['Status', statusText(doc)],
  ]);
  const body = html`<div class="wrap">
${header}
<main>
${section('paid', 'This month', paidBlock(doc, i))}
${section('tier', 'Tier', tierBlock(doc, i))}
${section('history', 'The last 12 months', chartBlock(doc, i))}
${section('lines', 'Lines per pack', linesBlock(doc, i))}
${splitsBlock(doc, i)}
${bonusBlock(doc, i)}
${balanceBlock(doc, i)}
${fxBlock(doc, i)}
</main>
<footer class="page-foot">
<p>Statement ${number} · ${doc.platform} · amounts in USD unless a line says otherwise.</p>
<p>SHA-256 of this statement’s figures: <code>${digest}</code><br>The same figures always give the same digest: two copies with the same digest show the same statement.</p>
</footer>
</div>`;
  return renderPage({ title: `Statement ${number}${doc.status === 'open' ? ' (provisional)' : ''}`, css: PAGES_CSS, body: body.__html });
}
