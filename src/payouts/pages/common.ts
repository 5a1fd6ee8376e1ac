/**
 * What the statement and summary pages share: the document they are drawn from, figure
 * cells that name the JSON value they show (`data-json`, a JSON pointer into that
 * document, so a test can read every figure back), the header, and the pages' CSS.
 */
import { pageHead, section } from '../../pages/blocks.js';
import { html, raw, type Raw } from '../../pages/escape.js';
import { formatMoney } from '../../pages/money.js';
import { LAYOUT_CSS } from '../../pages/shell.js';
import type { PayoutReport } from '../report.js';
import type { PagesExtras } from './data.js';

/** The `--json` document of `payouts report --format html|pdf`: the report plus what pages add. */
export type PagesDoc = PayoutReport &
  PagesExtras & {
    /** Who issues the statements (config `statements.platform`). */
    platform: string;
    /** YYYY-MM-DD: SOURCE_DATE_EPOCH, else the close time, else today (UTC). */
    issued: string;
  };

/** A money figure; `null` (an amount the store did not report) shows as "—". */
export function money(pointer: string, minor: number | null | undefined, currency: string): Raw {
  const text = minor === null || minor === undefined ? '—' : formatMoney(minor, currency);
  return html`<span data-json="${pointer}" data-kind="money:${currency}">${text}</span>`;
}

/** A count, percentage or rate shown as text: compared with the JSON value as a string. */
export function figure(pointer: string, value: string | number, suffix = ''): Raw {
  return html`<span data-json="${pointer}" data-kind="text">${String(value)}</span>${suffix}`;
}

export function percent(pointer: string, value: string): Raw {
  return html`<span class="pct">${figure(pointer, value, '%')}</span>`;
}

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The page header: platform, title, a definition list of facts, the PROVISIONAL banner. */
export function pageHeader(doc: PagesDoc, title: Raw | string, facts: Array<[string, Raw | string]>): Raw {
  const banner =
    doc.status === 'open'
      ? html`<p class="provisional" role="note"><strong>PROVISIONAL</strong><span>${doc.period} is not closed: these figures can still change${
          doc.provisionalMonths.length > 0 ? `, and the balance carried in comes from ${doc.provisionalMonths.join(', ')}, not closed either` : ''
        }.</span></p>`
      : html``;
  return pageHead(doc.platform, title, facts, banner);
}

export function statusText(doc: PagesDoc): string {
  return doc.status === 'closed' ? `closed ${doc.closedAt?.slice(0, 10) ?? ''}`.trim() : 'open (provisional)';
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Oct" for 2026-10; January carries the year ("Jan 27") so a twelve-month axis reads. */
export function shortMonth(period: string): string {
  const m = Number(period.slice(5, 7));
  const name = MONTHS[m - 1] ?? period;
  return m === 1 ? `${name} ${period.slice(2, 4)}` : name;
}

export { section };

export { raw };

/** Statement and summary rules, on top of the kit's BASE_CSS and LAYOUT_CSS. */
export const PAGES_CSS = `${LAYOUT_CSS}
.provisional{margin:14px 0 0;padding:10px 14px;border:2px dashed var(--warn);background:var(--warn-bg);border-radius:10px;color:var(--warn)}
.provisional strong{display:block;font-size:2rem;letter-spacing:.06em;line-height:1.1}
.hero{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px 18px}
.hero .label{margin:0;color:var(--muted);font-weight:600}
.hero .amount{margin:2px 0 4px;font-size:2.4rem;font-weight:700;line-height:1.15;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.hero.carried .amount{color:var(--warn)}
ul.checks{list-style:none;margin:8px 0 0;padding:0;display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:8px}
ul.checks li{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:8px 12px}
ul.checks li.met{border-color:#9bd3b0}
ul.checks .what{display:block;font-size:.78rem;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
ul.checks .val{font-weight:700;font-variant-numeric:tabular-nums}
ul.checks .ok{color:var(--good);font-weight:700}
ul.checks .miss{color:var(--muted)}
table.data tr.you{background:#eef5fd}
.equation{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:12px 16px;font-size:1.1rem;font-variant-numeric:tabular-nums;display:flex;flex-wrap:wrap;gap:6px 10px;align-items:baseline}
.equation .term{display:inline-flex;flex-direction:column}
.equation .term small{font-size:.75rem;color:var(--muted)}
.equation .op{font-weight:700;color:var(--muted)}
.equation .verdict{color:var(--good);font-weight:700}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:16px}
tr.sub td,tr.sub th{color:var(--muted);font-size:.85rem}
tr.total th,tr.total td{font-weight:700}
@media screen and (max-width:640px){
table.lines,table.lines tbody,table.lines tfoot,table.lines tr,table.lines th,table.lines td{display:block;width:auto}
table.lines thead{display:none}
table.lines tr{padding:8px 10px;border-bottom:1px solid var(--line)}
table.lines th,table.lines td{border:0;padding:1px 0}
table.lines td:empty{display:none}
table.lines td[data-label]{display:flex;justify-content:space-between;gap:12px}
table.lines td[data-label]::before{content:attr(data-label);color:var(--muted);font-weight:400}
table.lines tfoot tr{border-top:2px solid var(--line)}
table.lines tfoot th{border:0}
}
@media (max-width:520px){.wrap{padding:10px}.hero .amount{font-size:2rem}.provisional strong{font-size:1.6rem}.page-head h1{font-size:1.3rem}}
@media print{.wrap{max-width:none;padding:0}.page-head,.hero,ul.checks li,.equation{border-color:#bbb}.provisional{color:#000}}
`;
