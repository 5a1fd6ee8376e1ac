import type { ChalkInstance } from 'chalk';
import type { CheckReport } from '../../shared/findings.js';

export function renderPretty(report: CheckReport, c: ChalkInstance, _options: { tool: string }): string {
  const lines: string[] = [];
  for (const result of report.results) {
    lines.push(`${result.ok ? c.green('✔') : c.red('✖')} ${result.target}`);
    for (const f of result.findings) {
      const where = [f.file, f.line !== undefined ? `${f.line}:${f.column ?? 1}` : undefined].filter(Boolean).join(':');
      const sev = f.severity === 'error' ? c.red('error') : c.yellow('warning');
      lines.push(`  ${sev} ${c.bold(f.code)} ${f.message}${where ? c.dim(` (${where}${f.pointer !== undefined ? ` ${f.pointer}` : ''})`) : ''}`);
      if (f.hint) lines.push(`    ${c.dim(`hint: ${f.hint}`)}`);
    }
  }
  return lines.join('\n');
}
