/**
 * GitHub Actions workflow commands. GitHub shows at most ten annotations of each kind per
 * step, so the step summary gets a Markdown table of every finding as well.
 * https://docs.github.com/actions/reference/workflow-commands-for-github-actions
 */
import { codeTitle, type CheckReport, type Finding } from '../../shared/findings.js';
import { markdownCode, markdownLines } from '../../shared/markdown.js';
import { visible } from './pretty.js';

/**
 * Escapes the message part of a workflow command: `%`, CR and LF as GitHub decodes them,
 * and every other control character (ESC of an ANSI sequence, NUL, C1, bidi overrides)
 * as its visible stand-in, so data can neither start a second command nor colour the log.
 */
export function escapeData(s: string): string {
  return visibleExceptNewlines(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function visibleExceptNewlines(s: string): string {
  return s.split(/(\r|\n)/).map((part) => (part === '\r' || part === '\n' ? part : visible(part))).join('');
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

/** Data in a table cell: text only (no HTML, links or images), lines joined with <br>. */
function cell(s: string | number | undefined): string {
  return markdownLines(String(s ?? ''));
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
        `| ${cell(r.target)} | ${f.severity} | ${markdownCode(f.code)} | ${cell(f.file)} | ${cell(f.line !== undefined ? `${f.line}:${f.column ?? 1}` : '')} | ${f.pointer !== undefined ? markdownCode(f.pointer || '/') : ''} | ${cell(f.message)}${f.hint ? ` <br>_${cell(f.hint)}_` : ''} |`,
      );
    }
    lines.push('');
    const codes = [...new Set(findings.map(({ f }) => f.code))].sort();
    lines.push('<details><summary>Codes</summary>', '', ...codes.map((c) => `- ${markdownCode(c)}: ${cell(codeTitle(c))}`), '', '</details>', '');
  }
  return `${lines.join('\n')}\n`;
}
