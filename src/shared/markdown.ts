/**
 * Text that comes from data (names, file names, messages, ids) placed in GitHub-flavoured
 * Markdown: the step summary, payouts and catalog reports. It must stay text: no raw HTML
 * (`<img src=…>`, `<script>`), no links or images (`[x](…)`, `![x](…)`), no autolinks
 * (`https://…`, `www.…`, `a@b`), no broken table (`|`, line breaks) and no terminal
 * control characters.
 */

/** C0/C1 controls, DEL and bidi overrides: shown as U+FFFD, never passed on. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** One line of data as Markdown text (line breaks become spaces). */
export function markdownText(value: string): string {
  return value
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(CONTROLS, '\ufffd')
    .replace(/[\\[\]|@]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/:(?=\/\/)/g, '\\:')
    .replace(/\b(www)\./gi, '$1\\.');
}

/** Several lines of data in one table cell: each line escaped, joined with <br>. */
export function markdownLines(value: string): string {
  return value.split(/\r\n|\r|\n/).map(markdownText).join('<br>');
}

/** Data as an inline code span (shown literally): a fence longer than any backtick run in it. */
export function markdownCode(value: string): string {
  const text = value.replace(/\r\n|\r|\n/g, ' ').replace(CONTROLS, '\ufffd').replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}
