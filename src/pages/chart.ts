/**
 * A bar chart as inline SVG, with the same figures as a table beside it: the SVG is a
 * picture (role="img" with a text alternative), the table is what screen readers and
 * copy-paste get. Integer minor units in, no script, deterministic markup. Bars for
 * provisional months (figures that may still change) are hatched and say so.
 */
import { html, raw, type Raw } from './escape.js';
import { formatMoney } from './money.js';

export interface Bar {
  /** Short label under the bar, e.g. "Oct". */
  label: string;
  /** Full label in the table, e.g. "2026-10". */
  key: string;
  /** null: no figure for this slot (drawn as an empty slot, "—" in the table). */
  valueMinor: number | null;
  provisional?: boolean;
  /** Extra attributes for the table's figure cell (e.g. data-json pointers for tests). */
  figureAttrs?: string;
}

export interface ChartOptions {
  id: string;
  title: string;
  currency: string;
  /** Header of the figure column in the table. */
  valueHeader: string;
  bars: readonly Bar[];
}

const W = 640;
const H = 220;
const PAD = { top: 22, right: 8, bottom: 34, left: 8 };

/** The chart and its table, as one figure. */
export function barChart(o: ChartOptions): Raw {
  const values = o.bars.map((b) => b.valueMinor ?? 0);
  const max = Math.max(0, ...values);
  const min = Math.min(0, ...values);
  // All zero: the zero line sits at the bottom, as it does for a chart of positive figures.
  const scaleTop = max === 0 && min === 0 ? 1 : max;
  const span = scaleTop - min;
  const plotH = H - PAD.top - PAD.bottom;
  // Integer pixel arithmetic on integer cents: exact, so the markup is the same everywhere.
  const y = (v: number) => PAD.top + Math.round(((scaleTop - v) * plotH) / span);
  const slot = (W - PAD.left - PAD.right) / Math.max(1, o.bars.length);
  const barW = Math.max(4, Math.floor(slot * 0.62));
  const zeroY = y(0);
  const bars = o.bars.map((b, i) => {
    const x = Math.round(PAD.left + i * slot + (slot - barW) / 2);
    const cx = Math.round(PAD.left + i * slot + slot / 2);
    const label = html`<text x="${cx}" y="${H - PAD.bottom + 16}" class="axis" text-anchor="middle">${b.label}</text>`;
    if (b.valueMinor === null) return html`${label}`;
    const top = Math.min(y(b.valueMinor), zeroY);
    const height = Math.max(1, Math.abs(y(b.valueMinor) - zeroY));
    const cls = `bar${b.valueMinor < 0 ? ' neg' : ''}${b.provisional ? ' prov' : ''}`;
    const mark = b.provisional ? html`<text x="${cx}" y="${H - PAD.bottom + 29}" class="axis prov-mark" text-anchor="middle">prov.</text>` : html``;
    // The hatch is a presentation attribute, not a style: the page's CSP admits one stylesheet.
    const fill = b.provisional ? raw(` fill="url(#${o.id}-hatch)"`) : raw('');
    return html`<rect class="${cls}"${fill} x="${x}" y="${top}" width="${barW}" height="${height}"></rect>${label}${mark}`;
  });
  const grid =
    max > 0
      ? html`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(max)}" y2="${y(max)}"></line><text class="axis" x="${PAD.left + 2}" y="${y(max) - 6}">${formatMoney(max, o.currency)}</text>`
      : html``;
  const gridMin =
    min < 0
      ? html`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(min)}" y2="${y(min)}"></line><text class="axis" x="${PAD.left + 2}" y="${y(min) + 14}">${formatMoney(min, o.currency)}</text>`
      : html``;
  const anyProvisional = o.bars.some((b) => b.provisional && b.valueMinor !== null);
  const rows = o.bars.map(
    (b) =>
      html`<tr><th scope="row">${b.key}</th><td class="num"${raw(b.figureAttrs ? ` ${b.figureAttrs}` : '')}>${b.valueMinor === null ? '—' : formatMoney(b.valueMinor, o.currency)}</td><td>${b.provisional ? 'provisional' : b.valueMinor === null ? 'no statement' : 'final'}</td></tr>`,
  );
  return html`<figure class="chart" aria-labelledby="${o.id}-caption">
<figcaption id="${o.id}-caption">${o.title}${anyProvisional ? ' (hatched bars are provisional: the month is not closed)' : ''}</figcaption>
<div class="chart-body">
<svg class="bars" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="${o.id}-caption" focusable="false" xmlns="http://www.w3.org/2000/svg">
<defs><pattern id="${o.id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" class="hatch-bg"></rect><line x1="0" y1="0" x2="0" y2="6" class="hatch"></line></pattern></defs>
${grid}${gridMin}<line class="zero" x1="${PAD.left}" x2="${W - PAD.right}" y1="${zeroY}" y2="${zeroY}"></line>
${bars}
</svg>
<table class="chart-table">
<caption class="visually-hidden">${o.title}</caption>
<thead><tr><th scope="col">Month</th><th scope="col" class="num">${o.valueHeader}</th><th scope="col">Status</th></tr></thead>
<tbody>
${rows.map((r) => html`${r}\n`)}</tbody>
</table>
</div>
</figure>`;
}
