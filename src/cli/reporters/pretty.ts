import { SOURCE_TEXTS, type CheckReport, type Finding } from '../../shared/findings.js';
import type { Colors } from '../output.js';

export interface PrettyOptions {
  tool: string;
}

/**
 * Makes text from a manifest, a file name or an archive safe to print on a terminal: C0
 * controls and DEL become their Unicode control pictures (ESC shows as ␛, so a hostile
 * value cannot recolour, move the cursor or retitle the terminal), C1 controls and bidi
 * overrides become U+FFFD. One character stays one character, so code-frame carets still
 * line up.
 */
export function visible(s: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return s.replace(/[\u0000-\u0008\u000a-\u001f\u007f\u0080-\u009f\u202a-\u202e\u2066-\u2069]/g, (ch) => {
    const code = ch.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return '\u2421';
    return '\ufffd';
  });
}

export function renderPretty(report: CheckReport, c: Colors, options: PrettyOptions): string {
  const lines: string[] = [];
  let errors = 0;
  let warnings = 0;
  for (const result of report.results) {
    lines.push(`${result.ok ? c.green('✔') : c.red('✖')} ${visible(result.target)}`);
    for (const f of result.findings) {
      if (f.severity === 'error') errors++;
      else warnings++;
      const where = [f.file === undefined ? undefined : visible(f.file), f.line !== undefined ? `${f.line}:${f.column ?? 1}` : undefined].filter(Boolean).join(':');
      const sev = f.severity === 'error' ? c.red('error') : c.yellow('warning');
      lines.push(`  ${sev} ${c.bold(f.code)} ${visible(f.message)}`);
      if (where || f.pointer !== undefined) lines.push(`    ${c.dim(`at ${where}${f.pointer !== undefined ? ` (${visible(f.pointer || '/')})` : ''}`)}`);
      // The frame shows the text the check read (kept on the result), never the path read again.
      const frame = f.file !== undefined && f.line !== undefined ? codeFrame(result[SOURCE_TEXTS]?.get(f.file), f, c) : [];
      lines.push(...frame);
      if (f.hint) lines.push(`    ${c.cyan('hint:')} ${visible(f.hint)}`);
    }
  }
  const failed = report.results.filter((r) => !r.ok).length;
  const total = report.results.length;
  lines.push('');
  lines.push(
    `${options.tool}: ${total - failed} of ${total} ${total === 1 ? 'target' : 'targets'} ok` +
      (errors + warnings > 0 ? `; ${errors} ${errors === 1 ? 'error' : 'errors'}, ${warnings} ${warnings === 1 ? 'warning' : 'warnings'}` : ''),
  );
  return lines.join('\n');
}

/** Two lines of context around the finding's line, with a caret under its column. */
export function codeFrame(text: string | undefined, f: Finding, c: Colors): string[] {
  if (text === undefined || f.line === undefined) return [];
  const all = text.split('\n');
  const first = Math.max(1, f.line - 1);
  const last = Math.min(all.length, f.line + 1);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const raw = (all[n - 1] ?? '').replace(/\r$/, '');
    const shown = raw.length > 160 ? `${raw.slice(0, 157)}...` : raw;
    const mark = n === f.line ? c.red('>') : ' ';
    out.push(`    ${mark} ${c.dim(`${String(n).padStart(width)} |`)} ${visible(shown.replace(/\t/g, ' '))}`);
    if (n === f.line) {
      const col = Math.min(Math.max(1, f.column ?? 1), 160);
      out.push(`      ${' '.repeat(width)} ${c.dim('|')} ${' '.repeat(col - 1)}${c.red('^')}`);
    }
  }
  return out;
}
