/**
 * HTML escaping for every page packops writes (catalog, statements, summaries, tier
 * tables): text from data goes through `escapeHtml` before it is placed in content or in
 * a quoted attribute, so a creator named `<script>` renders as those characters.
 */

/** Escapes text for HTML content and double- or single-quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A template tag that escapes every interpolated value; `raw()` marks trusted markup. */
export interface Raw {
  readonly __html: string;
}

export function raw(html: string): Raw {
  return { __html: html };
}

type Value = string | number | Raw | null | undefined | ReadonlyArray<string | Raw>;

function piece(v: Value): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return escapeHtml(v);
  if (Array.isArray(v)) return v.map((x) => piece(x as Value)).join('');
  return (v as Raw).__html;
}

/** `html\`<td>${name}</td>\`` → escaped markup, as a Raw so it nests without double escaping. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Raw {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += piece(v) + strings[i + 1]!;
  });
  return raw(out);
}
