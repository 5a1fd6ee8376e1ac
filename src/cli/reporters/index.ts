/**
 * Reporters turn a CheckReport (validate, assets, verify) into output. They are plain
 * functions returning strings; only this module's `emitCheckReport` writes.
 *
 * - pretty: for people; findings with a code frame of the text the check read (never re-read).
 * - json:   the §3 document (`--json` is `--format json`).
 * - github: workflow commands (`::error file=…,line=…,col=…,title=CODE::…`) and, when
 *           $GITHUB_STEP_SUMMARY is set, a Markdown table of every finding appended to it.
 * - junit:  JUnit XML, a testsuite per target and a testcase per finding.
 * - sarif:  SARIF 2.1.0, one rule per code, results with physical locations.
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
  switch (format) {
    case 'github': {
      const { renderGithub, renderSummary } = await import('./github.js');
      ctx.out.raw(renderGithub(report));
      const summary = ctx.env.GITHUB_STEP_SUMMARY;
      if (summary) {
        const { appendFile } = await import('node:fs/promises');
        // The step summary is a file GitHub gives each step to append Markdown to. It only
        // repeats the annotations above: a summary that cannot be written is a warning, and
        // the exit code stays the one the findings give.
        try {
          await appendFile(summary, renderSummary(report, options));
        } catch (err) {
          ctx.out.warn(`Cannot write the step summary to GITHUB_STEP_SUMMARY (${summary}): ${(err as Error).message}`);
        }
      }
      return;
    }
    case 'junit': {
      const { renderJunit } = await import('./junit.js');
      ctx.out.raw(renderJunit(report, options));
      return;
    }
    case 'sarif': {
      const { renderSarif } = await import('./sarif.js');
      ctx.out.raw(`${JSON.stringify(renderSarif(report, options, ctx.cwd), null, 2)}\n`);
      return;
    }
    default: {
      const { renderPretty } = await import('./pretty.js');
      ctx.out.result(report, () => renderPretty(report, ctx.out.stdoutColor, options));
    }
  }
}
