/**
 * JUnit XML: a <testsuite> per target; a <testcase> per finding (failing for errors, and
 * for warnings when they failed the target), or one passing testcase for a clean target.
 */
import type { CheckReport, CheckResult, Finding } from '../../shared/findings.js';

/** Escapes text and attribute values; drops characters XML 1.0 cannot carry. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function failing(f: Finding, r: CheckResult): boolean {
  return f.severity === 'error' || !r.ok;
}

function testcase(f: Finding, r: CheckResult, tool: string): string {
  const place = f.pointer !== undefined ? ` ${f.pointer || '/'}` : '';
  const name = xmlEscape(`${f.code}${place}`);
  const where = [f.file, f.line !== undefined ? `${f.line}:${f.column ?? 1}` : undefined].filter(Boolean).join(':');
  const body = xmlEscape(`${f.message}${where ? `\nat ${where}` : ''}${f.hint ? `\nhint: ${f.hint}` : ''}`);
  const open = `    <testcase classname="${xmlEscape(`${tool}.${r.target}`)}" name="${name}"${f.file ? ` file="${xmlEscape(f.file)}"` : ''}`;
  if (failing(f, r)) {
    return `${open}>\n      <failure type="${xmlEscape(f.code)}" message="${xmlEscape(f.message)}">${body}</failure>\n    </testcase>`;
  }
  return `${open}>\n      <system-out>${xmlEscape(`warning ${f.code}: `)}${body}</system-out>\n    </testcase>`;
}

export function renderJunit(report: CheckReport, options: { tool: string }): string {
  const suites = report.results.map((r) => {
    const cases = r.findings.length
      ? r.findings.map((f) => testcase(f, r, options.tool))
      : [`    <testcase classname="${xmlEscape(`${options.tool}.${r.target}`)}" name="${xmlEscape(`${options.tool} ${r.target}`)}"/>`];
    const failures = r.findings.filter((f) => failing(f, r)).length;
    const tests = Math.max(1, r.findings.length);
    return `  <testsuite name="${xmlEscape(r.target)}" tests="${tests}" failures="${failures}" errors="0" skipped="0">\n${cases.join('\n')}\n  </testsuite>`;
  });
  const tests = report.results.reduce((n, r) => n + Math.max(1, r.findings.length), 0);
  const failures = report.results.reduce((n, r) => n + r.findings.filter((f) => failing(f, r)).length, 0);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="${xmlEscape(`packops ${options.tool}`)}" tests="${tests}" failures="${failures}" errors="0">\n` +
    `${suites.join('\n')}${suites.length ? '\n' : ''}</testsuites>\n`
  );
}
