// Start-up: `packops --version` against a bare `node -e 0` (target ≤ 1.5×). The shim answers
// a lone --version without loading the CLI; `packops --help`, which loads commander and
// registers every command (but no heavy module), is measured beside it for the record.
import { median, PACKOPS, report, run } from './lib.js';

export default function startup(): void {
  const n = 15;
  run('warm-up', process.execPath, [PACKOPS, '--version']);
  const ours = median('packops --version', n, () => run('packops --version', process.execPath, [PACKOPS, '--version']));
  const theirs = median('node -e 0', n, () => run('node -e 0', process.execPath, ['-e', '0']));
  const help = median('packops --help', n, () => run('packops --help', process.execPath, [PACKOPS, '--help']));
  report({
    name: 'start-up',
    ours,
    theirs,
    target: '≤ 1.5×',
    met: ours.ms / theirs.ms <= 1.5,
    extra: `packops --help: ${help.ms.toFixed(0)} ms (${(help.ms / theirs.ms).toFixed(2)}× node -e 0)`,
  });
}
