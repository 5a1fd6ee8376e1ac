/**
 * Building blocks of report pages: a header with a definition list of facts, a titled
 * section, and a plain data table (numbers right-aligned, horizontally scrollable on a
 * phone). Everything from data is escaped by the `html` tag.
 */
import { html, type Raw } from './escape.js';

export function pageHead(kicker: string, title: Raw | string, facts: Array<[string, Raw | string]>, extra: Raw = html``): Raw {
  return html`<header class="page-head">
<p class="platform">${kicker}</p>
<h1>${title}</h1>
<dl class="facts">
${facts.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>\n`)}</dl>
${extra}
</header>`;
}

export function section(id: string, title: string, body: Raw, cls = ''): Raw {
  return html`<section id="${id}" class="${`block ${cls}`.trim()}" aria-labelledby="${id}-h">
<h2 id="${id}-h">${title}</h2>
${body}
</section>`;
}

export interface Column {
  header: string;
  numeric?: boolean;
}

/** A table whose first column heads each row. Cells are text or markup. */
export function dataTable(columns: readonly Column[], rows: ReadonlyArray<ReadonlyArray<string | Raw>>, caption?: string): Raw {
  const cls = (c: Column | undefined) => (c?.numeric ? html` class="num"` : html``);
  return html`<div class="scroll"><table class="data">
${caption ? html`<caption class="visually-hidden">${caption}</caption>` : html``}<thead><tr>${columns.map((c) => html`<th scope="col"${cls(c)}>${c.header}</th>`)}</tr></thead>
<tbody>
${rows.map((r) => html`<tr>${r.map((cell, i) => (i === 0 ? html`<th scope="row">${cell}</th>` : html`<td${cls(columns[i])}>${cell}</td>`))}</tr>\n`)}</tbody>
</table></div>`;
}
