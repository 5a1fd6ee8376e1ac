/**
 * SARIF 2.1.0 for code-scanning dashboards: one run, one rule per code that occurs (its
 * description from `CODES`), one result per finding with its physical location (file,
 * line, column) and the JSON pointer as a logical location.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { codeTitle, type CheckReport } from '../../shared/findings.js';
import { climbsOut } from '../../shared/paths.js';

function toolVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** A relative file becomes a relative URI under %SRCROOT%; others a file:// URI. */
function artifact(file: string, cwd: string): { uri: string; uriBaseId?: string } {
  const rel = isAbsolute(file) ? relative(cwd, file) : file;
  if (climbsOut(rel)) return { uri: pathToFileURL(file).href };
  return { uri: rel.split(sep).map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
}

export function renderSarif(report: CheckReport, options: { tool: string }, cwd: string): object {
  const codes = [...new Set(report.results.flatMap((r) => r.findings.map((f) => f.code)))].sort();
  const index = new Map(codes.map((c, i) => [c, i]));
  const results = report.results.flatMap((r) =>
    r.findings.map((f) => {
      const physical = {
        artifactLocation: artifact(f.file ?? r.target, cwd),
        ...(f.line !== undefined ? { region: { startLine: f.line, startColumn: f.column ?? 1 } } : {}),
      };
      return {
        ruleId: f.code,
        ruleIndex: index.get(f.code),
        level: f.severity === 'error' ? 'error' : 'warning',
        message: { text: f.hint ? `${f.message} ${f.hint}` : f.message },
        locations: [
          {
            physicalLocation: physical,
            ...(f.pointer !== undefined ? { logicalLocations: [{ fullyQualifiedName: f.pointer || '/', kind: 'member' }] } : {}),
          },
        ],
        properties: { target: r.target },
      };
    }),
  );
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'packops',
            version: toolVersion(),
            rules: codes.map((code) => ({
              id: code,
              name: code
                .toLowerCase()
                .split('_')
                .map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1)))
                .join(''),
              shortDescription: { text: codeTitle(code) },
              fullDescription: { text: codeTitle(code) },
              defaultConfiguration: { level: 'error' },
            })),
          },
        },
        automationDetails: { id: `packops/${options.tool}/` },
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  };
}
