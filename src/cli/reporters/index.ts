/**
 * Reporters turn a CheckReport (validate, assets, verify) into output. They are plain
 * functions returning strings; only this module's `emitCheckReport` writes.
 */
import type { CheckReport } from '../../shared/findings.js';
import type { CliContext } from '../context.js';

export const REPORT_FORMATS = ['pretty', 'json', 'github', 'junit', 'sarif'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface EmitOptions {
  /** Name of the tool step, used in JUnit suite names and SARIF runs ("validate", "verify"). */
  tool: string;
}

export async function emitCheckReport(
  ctx: CliContext,
  report: CheckReport,
  format: ReportFormat,
  options: EmitOptions,
): Promise<void> {
  if (ctx.global.json || format === 'json') {
    if (ctx.global.json) ctx.out.writeJson(report);
    else ctx.out.raw(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const { renderPretty } = await import('./pretty.js');
  ctx.out.result(report, () => renderPretty(report, ctx.out.stdoutColor, options));
}
