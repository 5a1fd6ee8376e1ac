/**
 * Blocks of the report whose shape belongs to another part of packops (the quarantine
 * counts, §14's subscriptions block): drawn generically, so a field added there shows up
 * here without a second definition of it. Keys ending in `Minor` are money (in the
 * object's `currency`, else USD); other scalars are shown as they are.
 */
import { html, type Raw } from '../../pages/escape.js';
import { figure, money } from './common.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** "amountMinor" → "amount", "activeDays" → "active days". */
export function humanKey(key: string): string {
  return key
    .replace(/Minor$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

function cell(value: Json, key: string, pointer: string, currency: string): Raw {
  if (value === null) return html`—`;
  if (typeof value === 'number' && key.endsWith('Minor')) return money(pointer, value, currency);
  if (typeof value === 'number' || typeof value === 'string') return figure(pointer, value);
  if (typeof value === 'boolean') return html`${value ? 'yes' : 'no'}`;
  return html`${JSON.stringify(value)}`;
}

function currencyOf(obj: { [key: string]: Json }): string {
  return typeof obj.currency === 'string' && /^[A-Z]{3}$/.test(obj.currency) ? obj.currency : 'USD';
}

function isRecord(v: Json): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function table(rows: Array<{ [key: string]: Json }>, pointer: string): Raw {
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k) && !isRecord(r[k]!) && !Array.isArray(r[k])) keys.push(k);
  return html`<div class="scroll"><table class="data">
<thead><tr>${keys.map((k) => html`<th scope="col">${humanKey(k)}</th>`)}</tr></thead>
<tbody>
${rows.map((r, i) => html`<tr>${keys.map((k) => html`<td${k.endsWith('Minor') ? html` class="num"` : html``}>${r[k] === undefined ? '' : cell(r[k]!, k, `${pointer}/${i}/${k}`, currencyOf(r))}</td>`)}</tr>\n`)}</tbody>
</table></div>`;
}

/** A definition list of the scalars, then a table per array of objects. */
export function genericBlock(value: unknown, pointer: string): Raw {
  const v = value as Json;
  if (Array.isArray(v)) return v.every(isRecord) ? table(v as Array<{ [key: string]: Json }>, pointer) : html`<p>${JSON.stringify(v)}</p>`;
  if (!isRecord(v)) return html`<p>${cell(v, '', pointer, 'USD')}</p>`;
  const scalars = Object.entries(v).filter(([, x]) => !isRecord(x) && !Array.isArray(x));
  const nested = Object.entries(v).filter(([, x]) => isRecord(x) || Array.isArray(x));
  const currency = currencyOf(v);
  return html`${
    scalars.length > 0
      ? html`<dl class="facts">${scalars.map(([k, x]) => html`<div><dt>${humanKey(k)}</dt><dd>${cell(x, k, `${pointer}/${k}`, currency)}</dd></div>`)}</dl>`
      : html``
  }${nested.map(([k, x]) => html`<h3>${humanKey(k)}</h3>${genericBlock(x, `${pointer}/${k}`)}`)}`;
}
