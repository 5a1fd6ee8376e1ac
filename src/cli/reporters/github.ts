/**
 * GitHub Actions workflow commands. GitHub shows at most ten annotations of each kind per
 * step, so the step summary gets a Markdown table of every finding as well.
 * https://docs.github.com/actions/reference/workflow-commands-for-github-actions
 */
import { codeTitle, type CheckReport, type Finding } from '../../shared/findings.js';

/** Escapes the message part of a workflow command. */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a property value (file, title...): also `:` and `,`. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function annotation(f: Finding, target: string): string {
  const props: string[] = [`file=${escapeProperty(f.file ?? target)}`];
  if (f.line !== undefined) props.push(`line=${f.line}`);
  if (f.column !== undefined) props.push(`col=${f.column}`);
  props.push(`title=${escapeProperty(f.code)}`);
  const message = `${f.message}${f.pointer ? ` (${f.pointer})` : ''}${f.hint ? `\n${f.hint}` : ''}`;
  return `::${f.severity === 'error' ? 'error' : 'warning'} ${props.join(',')}::${escapeData(message)}`;
}

export function renderGithub(report: CheckReport): string {
  const lines: string[] = [];
  for (const r of report.results) for (const f of r.findings) lines.push(annotation(f, r.target));
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function cell(s: string | number | undefined): string {
  return String(s ?? '')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, '<br>');
}

/** Markdown for $GITHUB_STEP_SUMMARY: a heading, the counts and a table of every finding. */
export function renderSummary(report: CheckReport, options: { tool: string }): string {
  const failed = report.results.filter((r) => !r.ok).length;
  const findings = report.results.flatMap((r) => r.findings.map((f) => ({ r, f })));
  const lines = [
    `### packops ${options.tool}: ${report.ok ? 'passed' : 'failed'}`,
    '',
    `${report.results.length - failed} of ${report.results.length} targets ok, ${findings.length} findings.`,
    '',
  ];
  if (findings.length > 0) {
    lines.push('| target | severity | code | file | line | pointer | message |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const { r, f } of findings) {
      lines.push(
        `| ${cell(r.target)} | ${f.severity} | \`${cell(f.code)}\` | ${cell(f.file)} | ${cell(f.line !== undefined ? `${f.line}:${f.column ?? 1}` : '')} | ${cell(f.pointer !== undefined ? `\`${f.pointer}\`` : '')} | ${cell(f.message)}${f.hint ? ` <br>_${cell(f.hint)}_` : ''} |`,
      );
    }
    lines.push('');
    const codes = [...new Set(findings.map(({ f }) => f.code))].sort();
    lines.push('<details><summary>Codes</summary>', '', ...codes.map((c) => `- \`${c}\`: ${cell(codeTitle(c))}`), '', '</details>', '');
  }
  return `${lines.join('\n')}\n`;
}
