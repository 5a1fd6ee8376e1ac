/**
 * Secrets that must never be printed: database passwords found in `--db`, `PACKOPS_DB` or
 * PGPASSWORD are registered here when the location is parsed, and the one module that
 * writes to the terminal passes every line through `redactSecrets`. A belt to the braces
 * of showing URLs redacted: an error message quoting a driver's text cannot leak either.
 */
const secrets = new Set<string>();

/** Secrets shorter than this are not searched for in free text (they would mangle it). */
const MIN_LENGTH = 4;

export function addSecret(secret: string | undefined): void {
  if (secret === undefined || secret.length < MIN_LENGTH) return;
  secrets.add(secret);
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) secrets.add(encoded);
}

export function redactSecrets(text: string): string {
  if (secrets.size === 0) return text;
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join('***');
  }
  return out;
}
