/**
 * Secrets that must never be printed: the password of a PostgreSQL ledger in use (from its
 * URL, or PGPASSWORD when the URL carries none), registered when the location is parsed.
 *
 * Passwords are kept out of messages where those are made: a location is only ever shown
 * as its `display` (password as `***`), and driver messages pass through `redactSecrets`
 * when they become ledger errors. The terminal module also filters what goes to stderr and
 * the message of an error document, as defence in depth. Data (a report's JSON, CSV or
 * Markdown on stdout) is never filtered: a password that happens to equal a figure or a
 * slug must not change a report.
 */
const secrets = new Set<string>();

/**
 * Secrets shorter than this are not searched for in free text: a short password is likely
 * to equal some word of a message, and it is kept out of messages at their source anyway.
 */
export const MIN_SECRET_LENGTH = 8;

export function addSecret(secret: string | undefined): void {
  if (secret === undefined || secret.length < MIN_SECRET_LENGTH) return;
  secrets.add(secret);
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) secrets.add(encoded);
}

/** Letters, digits, `_` and `-`: a secret with one of these next to it is part of a longer word. */
const WORD = /[\p{L}\p{N}_-]/u;

/** Whether the text around [start, end) leaves the secret whole (not inside a longer word). */
function whole(text: string, start: number, end: number): boolean {
  const before = start > 0 ? text[start - 1]! : '';
  const after = end < text.length ? text[end]! : '';
  const first = text[start]!;
  const last = text[end - 1]!;
  return !(before && WORD.test(before) && WORD.test(first)) && !(after && WORD.test(after) && WORD.test(last));
}

/** Replaces every whole occurrence of a registered secret with `***`. */
export function redactSecrets(text: string): string {
  if (secrets.size === 0) return text;
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    let from = 0;
    let i = out.indexOf(s, from);
    if (i < 0) continue;
    let result = '';
    while (i >= 0) {
      if (whole(out, i, i + s.length)) {
        result += `${out.slice(from, i)}***`;
        from = i + s.length;
        i = out.indexOf(s, from);
      } else {
        i = out.indexOf(s, i + 1);
      }
    }
    out = result + out.slice(from);
  }
  return out;
}

/** Forgets every registered secret (tests). */
export function clearSecrets(): void {
  secrets.clear();
}
