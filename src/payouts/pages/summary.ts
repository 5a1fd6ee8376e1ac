/**
 * The finance summary page of a month (PRODUCT.md §16): totals, the §9.9 tie-out as an
 * equation that balances on the page, totals per store and per currency, the platform's
 * share, bonuses, the payouts to make, balances carried, warnings (quarantined rows,
 * stranded and provisional months) and twelve months of creator payouts.
 */
import { barChart } from '../../pages/chart.js';
import { canonicalJson, sha256Hex } from '../../pages/digest.js';
import { html, type Raw } from '../../pages/escape.js';
import { renderPage } from '../../pages/shell.js';
import { addMonths } from '../../shared/period.js';
import { figure, money, pageHeader, PAGES_CSS, plural, section, shortMonth, statusText, type PagesDoc } from './common.js';

const STORE_NAMES = new Map([
  ['appstore', 'App Store'],
  ['googleplay', 'Google Play'],
  ['web', 'Web'],
]);

/** The figures the summary's digest covers: the report as `payouts report --json` prints it. */
export function reportDigest(doc: PagesDoc): string {
  const { tiers: _t, history: _h, stores: _s, currencies: _c, payoutRefs: _p, payoutRefsSource: _ps, packNames: _n, platform: _pl, issued: _i, ...report } = doc;
  return sha256Hex(canonicalJson(report));
}

function usd(pointer: string, minor: number): Raw {
  return money(pointer, minor, 'USD');
}

function term(label: string, value: Raw): Raw {
  return html`<span class="term"><small>${label}</small>${value}</span>`;
}

function tieOut(doc: PagesDoc): Raw {
  const t = doc.totals;
  return html`<p class="equation" aria-label="Net equals creator shares plus platform shares">${term('Σ net', usd('/tieOut/netMinor', doc.tieOut.netMinor))}<span class="op">=</span>${term('Σ creator shares', usd('/tieOut/creatorShareMinor', doc.tieOut.creatorShareMinor))}<span class="op">+</span>${term('Σ platform shares', usd('/tieOut/platformShareMinor', doc.tieOut.platformShareMinor))}<span class="verdict">✓ balances</span></p>
<p class="equation" aria-label="Payouts plus carried out equals creator shares plus bonuses plus carried in">${term('Σ payouts', usd('/totals/payoutMinor', t.payoutMinor))}<span class="op">+</span>${term('Σ carried out', usd('/totals/carriedOutMinor', t.carriedOutMinor))}<span class="op">=</span>${term('Σ creator shares', usd('/totals/creatorShareMinor', t.creatorShareMinor))}<span class="op">+</span>${term('Σ bonuses', usd('/totals/bonusMinor', t.bonusMinor))}<span class="op">+</span>${term('Σ carried in', usd('/totals/carriedInMinor', t.carriedInMinor))}<span class="verdict">✓ balances</span></p>
<p class="note">Checked to the cent before this page was written (§9.9): a report that does not tie out is never printed. Bonuses are paid by the platform on top of the revenue share, so they sit beside the first equation, not inside it.</p>`;
}

function totalsBlock(doc: PagesDoc): Raw {
  const t = doc.totals;
  const row = (label: string, key: keyof typeof t & string, isMoney = true) =>
    html`<tr><th scope="row">${label}</th><td class="num">${isMoney ? usd(`/totals/${key}`, t[key]) : figure(`/totals/${key}`, t[key])}</td></tr>\n`;
  return html`<div class="scroll"><table class="data">
<tbody>
${row('Transactions', 'transactions', false)}${row('Net (after store fees and tax)', 'netMinor')}${row('of which subscription nets (§14)', 'subscriptionNetMinor')}${row('Creator shares', 'creatorShareMinor')}${row('Platform share', 'platformShareMinor')}${row('Bonuses', 'bonusMinor')}${row('Carried in', 'carriedInMinor')}${row('Payouts', 'payoutMinor')}${row('Carried out', 'carriedOutMinor')}</tbody>
</table></div>`;
}

function storesBlock(doc: PagesDoc): Raw {
  if (doc.stores.length === 0) return html`<p class="note">No sales or refunds this month.</p>`;
  return html`<div class="scroll"><table class="data">
<thead><tr><th scope="col">Store</th><th scope="col" class="num">Transactions</th><th scope="col" class="num">Net USD</th></tr></thead>
<tbody>
${doc.stores.map((s, i) => html`<tr><th scope="row">${STORE_NAMES.get(s.store) ?? s.store}</th><td class="num">${figure(`/stores/${i}/transactions`, s.transactions)}</td><td class="num">${usd(`/stores/${i}/netUsdMinor`, s.netUsdMinor)}</td></tr>\n`)}</tbody>
</table></div>`;
}

function currenciesBlock(doc: PagesDoc): Raw {
  if (doc.currencies.length === 0) return html``;
  return html`<div class="scroll"><table class="data">
<thead><tr><th scope="col">Currency</th><th scope="col" class="num">USD per unit</th><th scope="col" class="num">Transactions</th><th scope="col" class="num">Gross</th><th scope="col" class="num">Fees</th><th scope="col" class="num">Tax</th><th scope="col" class="num">Net</th><th scope="col" class="num">Net USD</th></tr></thead>
<tbody>
${doc.currencies.map((c, i) => {
  const p = `/currencies/${i}`;
  return html`<tr><th scope="row">${c.currency}</th><td class="num">${figure(`${p}/rate`, c.rate)}</td><td class="num">${figure(`${p}/transactions`, c.transactions)}</td><td class="num">${money(`${p}/grossMinor`, c.grossMinor, c.currency)}</td><td class="num">${money(`${p}/feesMinor`, c.feesMinor, c.currency)}</td><td class="num">${money(`${p}/taxMinor`, c.taxMinor, c.currency)}</td><td class="num">${money(`${p}/netMinor`, c.netMinor, c.currency)}</td><td class="num">${usd(`${p}/netUsdMinor`, c.netUsdMinor)}</td></tr>\n`;
})}</tbody>
</table></div>
<p class="note">Every sale and refund dated in the month, subscription plans at their charge; refunds subtract; each transaction is converted to USD once, at its month’s rate.</p>`;
}

/** §14: the month's subscription money, its tie-out as an equation, and where it went. */
function subscriptionsBlock(doc: PagesDoc): Raw {
  const sub = doc.subscriptions;
  if (sub === undefined || sub === null) return html``;
  const empty = sub.recognisedMinor === 0 && sub.transactions.sales === 0 && sub.transactions.refunds === 0 && sub.families.subscribed === 0;
  if (empty) return section('subscriptions', 'Subscriptions', html`<p class="note">No subscription money this month.</p>`);
  const eq = html`<p class="equation" aria-label="Recognised equals pack subscription nets plus unallocated">${term('Σ recognised', usd('/subscriptions/tieOut/recognisedMinor', sub.tieOut.recognisedMinor))}<span class="op">=</span>${term('Σ pack subscription nets', usd('/subscriptions/tieOut/packNetsMinor', sub.tieOut.packNetsMinor))}<span class="op">+</span>${term('unallocated', usd('/subscriptions/tieOut/unallocatedMinor', sub.tieOut.unallocatedMinor))}<span class="verdict">✓ balances</span></p>`;
  const rows: Array<[string, Raw]> = [
    ['Recognised this month', usd('/subscriptions/recognisedMinor', sub.recognisedMinor)],
    ['Allocated by each family’s own use', usd('/subscriptions/allocatedByUseMinor', sub.allocatedByUseMinor)],
    ['Idle families’ money, pooled by active days', usd('/subscriptions/idlePooledMinor', sub.idlePooledMinor)],
    ['Allocated to packs', usd('/subscriptions/allocatedMinor', sub.allocatedMinor)],
    ['Unallocated (nobody used a pack: the platform’s)', usd('/subscriptions/unallocatedMinor', sub.unallocatedMinor)],
    ['Families subscribed / active / idle', html`${figure('/subscriptions/families/subscribed', sub.families.subscribed)} / ${figure('/subscriptions/families/active', sub.families.active)} / ${figure('/subscriptions/families/idle', sub.families.idle)}`],
    ['Active days', figure('/subscriptions/activeDays', sub.activeDays)],
    ['Plan sales / refunds', html`${figure('/subscriptions/transactions/sales', sub.transactions.sales)} / ${figure('/subscriptions/transactions/refunds', sub.transactions.refunds)}`],
  ];
  return section(
    'subscriptions',
    'Subscriptions',
    html`${eq}<div class="scroll"><table class="data"><tbody>
${rows.map(([k, v]) => html`<tr><th scope="row">${k}</th><td class="num">${v}</td></tr>\n`)}</tbody></table></div>
<p class="note">Subscription nets join each pack owner’s net, so shares, splits and the tie-out above include them (§14).</p>`,
  );
}

function nameOf(doc: PagesDoc, i: number): Raw {
  const s = doc.statements[i]!;
  return s.name ? html`${s.name}<br><span class="note">${s.creator}</span>` : html`${s.creator}`;
}

function payoutsBlock(doc: PagesDoc): Raw {
  const paid = doc.statements.map((s, i) => ({ s, i })).filter(({ s }) => s.payoutMinor !== 0);
  if (paid.length === 0) return html`<p>No payout to make: no balance reached the minimum of ${usd('/minimumMinor', doc.minimumMinor)}.</p>`;
  const ref = (creator: string) => doc.payoutRefs.find((r) => r.creator === creator)?.payoutRef ?? null;
  return html`<div class="scroll"><table class="data">
<thead><tr><th scope="col">Creator</th><th scope="col">Payout ref</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>
${paid.map(({ s, i }) => {
  const r = ref(s.creator);
  const cell = r ?? (doc.payoutRefsSource === 'not stored' ? html`<em>not stored with this closed month</em>` : html`<strong>missing</strong>`);
  return html`<tr><th scope="row">${nameOf(doc, i)}</th><td>${cell}</td><td class="num">${usd(`/statements/${i}/payoutMinor`, s.payoutMinor)}</td></tr>\n`;
})}</tbody>
<tfoot><tr><th scope="row">${plural(paid.length, 'payout', 'payouts')}</th><td></td><td class="num">${usd('/totals/payoutMinor', doc.totals.payoutMinor)}</td></tr></tfoot>
</table></div>
<p class="note">Balances of at least ${usd('/minimumMinor', doc.minimumMinor)} are paid; smaller ones, and negative ones, are carried to next month. ${refsNote(doc)}</p>`;
}

function refsNote(doc: PagesDoc): string {
  if (doc.payoutRefsSource === 'stored') return 'Payout references as stored when the month was closed.';
  if (doc.payoutRefsSource === 'not stored') return 'This month was closed before payout references were stored with it; today’s references are not shown, as they may not be the ones paid to.';
  return 'Payout references as they are in the ledger now.';
}

function carriedBlock(doc: PagesDoc): Raw {
  const carried = doc.statements.map((s, i) => ({ s, i })).filter(({ s }) => s.carriedOutMinor !== 0 || s.carriedInMinor !== 0);
  if (carried.length === 0) return html`<p class="note">No balance is carried in or out.</p>`;
  return html`<div class="scroll"><table class="data">
<thead><tr><th scope="col">Creator</th><th scope="col" class="num">Carried in</th><th scope="col" class="num">Carried out</th></tr></thead>
<tbody>
${carried.map(({ s, i }) => html`<tr><th scope="row">${nameOf(doc, i)}</th><td class="num">${usd(`/statements/${i}/carriedInMinor`, s.carriedInMinor)}</td><td class="num">${usd(`/statements/${i}/carriedOutMinor`, s.carriedOutMinor)}</td></tr>\n`)}</tbody>
<tfoot><tr><th scope="row">Total</th><td class="num">${usd('/totals/carriedInMinor', doc.totals.carriedInMinor)}</td><td class="num">${usd('/totals/carriedOutMinor', doc.totals.carriedOutMinor)}</td></tr></tfoot>
</table></div>`;
}

function bonusesBlock(doc: PagesDoc): Raw {
  const rows = doc.statements.map((s, i) => ({ s, i })).filter(({ s }) => s.bonusMinor !== 0);
  const platform = html`<p>Platform share of the net: <strong>${usd('/totals/platformShareMinor', doc.totals.platformShareMinor)}</strong>; bonuses paid on top: <strong>${usd('/totals/bonusMinor', doc.totals.bonusMinor)}</strong>.</p>`;
  if (rows.length === 0) return html`${platform}<p class="note">No creator earned a bonus this month.</p>`;
  return html`${platform}<div class="scroll"><table class="data">
<thead><tr><th scope="col">Creator</th><th scope="col">Tier</th><th scope="col" class="num">Sales</th><th scope="col" class="num">Bonus</th></tr></thead>
<tbody>
${rows.map(({ s, i }) => html`<tr><th scope="row">${nameOf(doc, i)}</th><td>${s.tier ?? 'none'}</td><td class="num">${figure(`/statements/${i}/figures/units`, s.figures.units)}</td><td class="num">${usd(`/statements/${i}/bonusMinor`, s.bonusMinor)}</td></tr>\n`)}</tbody>
</table></div>`;
}

function warningsBlock(doc: PagesDoc): Raw {
  const items: Raw[] = [];
  if (doc.status === 'open') items.push(html`<li>${doc.period} is open: every figure here is provisional until <code>packops payouts close --period ${doc.period}</code>.</li>`);
  if (doc.provisionalMonths.length > 0) {
    items.push(html`<li>Balances carried in come from ${doc.provisionalMonths.join(', ')}, still open: close ${plural(doc.provisionalMonths.length, 'it', 'them')} first, in order.</li>`);
  }
  (doc.strandedMonths ?? []).forEach((m, i) =>
    items.push(
      html`<li><strong>Stranded month ${m.month}</strong>: ${figure(`/strandedMonths/${i}/transactions`, m.transactions)} sale/refund row(s) in a month that is still open while a later month is closed. No statement will include them; record the correction in an open month.</li>`,
    ),
  );
  // Rows in no statement (quarantined, or store money held for want of consent), with the
  // amounts they state per currency: money finance must chase before it can be paid.
  doc.quarantine.forEach((q, i) => {
    const p = `/quarantine/${i}`;
    const amounts = q.amounts.map((a, k) => money(`${p}/amounts/${k}/amountMinor`, a.amountMinor, a.currency));
    const unreadable = q.rowsWithoutAmount > 0 ? html`; ${figure(`${p}/rowsWithoutAmount`, q.rowsWithoutAmount)} without a readable amount` : html``;
    items.push(
      html`<li><strong>${q.label}</strong>${q.month ? html` (${q.month})` : html` (undated)`}: ${figure(`${p}/rows`, q.rows)} ${q.rows === 1 ? 'row' : 'rows'}${
        amounts.length > 0 ? html`, gross ${amounts.map((a, k) => html`${k > 0 ? ', ' : ''}${a}`)}` : html``
      }${unreadable}. In no statement until released (<code>${q.reason}</code>).</li>`,
    );
  });
  if (items.length === 0) return html``;
  return section('warnings', 'Warnings', html`<ul class="warnings">\n${items.map((x) => html`${x}\n`)}</ul>`, 'warn-block');
}

function chartBlock(doc: PagesDoc): Raw {
  const first = addMonths(doc.period, -11);
  const bars = Array.from({ length: 12 }, (_, k) => {
    const month = addMonths(first, k);
    const h = doc.history.findIndex((m) => m.month === month);
    const entry = h >= 0 ? doc.history[h] : undefined;
    return {
      label: shortMonth(month),
      key: month,
      valueMinor: entry ? entry.payoutMinor : null,
      provisional: entry?.status === 'open',
      figureAttrs: entry ? `data-json="/history/${h}/payoutMinor" data-kind="money:USD"` : undefined,
    };
  });
  return barChart({ id: 'payouts', title: 'Creator payouts, last 12 months (USD)', currency: 'USD', valueHeader: 'Payouts', bars });
}

export function renderSummaryPage(doc: PagesDoc): string {
  const header = pageHeader(doc, `Finance summary ${doc.period}`, [
    ['Period', doc.period],
    ['Status', statusText(doc)],
    ['Issued', doc.issued],
    ['Statements', String(doc.statements.length)],
  ]);
  const body = html`<div class="wrap">
${header}
<main>
${warningsBlock(doc)}
${section('totals', 'Month totals (USD)', totalsBlock(doc))}
${section('tieout', 'Tie-out', tieOut(doc))}
<div class="grid2">
${section('stores', 'Per store', storesBlock(doc))}
${section('platform', 'Platform share and bonuses', bonusesBlock(doc))}
</div>
${section('currencies', 'Per currency', currenciesBlock(doc))}
${subscriptionsBlock(doc)}
${section('payouts', 'Payouts to make', payoutsBlock(doc))}
${section('carried', 'Balances carried', carriedBlock(doc))}
${section('history', 'The last 12 months', chartBlock(doc))}
</main>
<footer class="page-foot">
<p>Finance summary ${doc.period} · ${doc.platform} · ${plural(doc.statements.length, 'statement', 'statements')}.</p>
<p>SHA-256 of the month’s report figures: <code>${reportDigest(doc)}</code></p>
</footer>
</div>`;
  return renderPage({ title: `Finance summary ${doc.period}${doc.status === 'open' ? ' (provisional)' : ''}`, css: PAGES_CSS, body: body.__html });
}
