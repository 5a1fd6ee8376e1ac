/**
 * The common case of a store report's line, split without csv-parse: one line that is one
 * complete, well-formed record (RFC 4180 quoting: a quoted field is `"…"` with `""` for a
 * quote, followed by the delimiter or the end of the line). Anything else — a quoted line
 * break, a quote inside an unquoted field, text after a closing quote, a stray CR — gives
 * undefined, and the caller hands the text from that line on to csv-parse, whose results
 * and errors then stand. On the lines it accepts, this gives exactly the fields csv-parse
 * gives with the reader's options (no trimming, quote `"`, escape `"`, the file's one
 * record delimiter). It exists for speed: Google's earnings lines quote their date on every
 * row, so the reader of records.ts's quote-free path never applied, and csv-parse's
 * character loop was the largest single cost of an earnings import.
 */

/** The fields of one line, or undefined when csv-parse must decide. `quote` false: no quoting at all (Apple's tab files). */
export function splitLine(line: string, delimiter: string, quote: boolean): string[] | undefined {
  if (line.includes('\r') || line.includes('\n')) return undefined;
  if (!quote || !line.includes('"')) return line.split(delimiter);
  const d = delimiter.charCodeAt(0);
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    if (line.charCodeAt(i) === 34) {
      // A quoted field: up to the quote that is not doubled.
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = line.indexOf('"', from);
        if (q < 0) return undefined; // the quote closes on a later line (or never): csv-parse
        if (line.charCodeAt(q + 1) === 34) {
          value += line.slice(from, q + 1);
          from = q + 2;
          continue;
        }
        value += line.slice(from, q);
        i = q + 1;
        break;
      }
      out.push(value);
      if (i === n) return out;
      if (line.charCodeAt(i) !== d) return undefined; // text after a closing quote: csv-parse's error
      i++;
      if (i === n) {
        out.push('');
        return out;
      }
      continue;
    }
    let end = line.indexOf(delimiter, i);
    if (end < 0) end = n;
    const field = line.slice(i, end);
    if (field.includes('"')) return undefined; // a quote inside an unquoted field: csv-parse's error
    out.push(field);
    if (end === n) return out;
    i = end + 1;
    if (i === n) {
      out.push('');
      return out;
    }
  }
}
