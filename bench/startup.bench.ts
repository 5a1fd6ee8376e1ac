// Start-up: `packops --version` against a bare `node -e 0` (target ≤ 1.5×).
import { median, PACKOPS, report, run } from './lib.js';

export default function startup(): void {
  const n = 15;
  run('warm-up', process.execPath, [PACKOPS, '--version']);
  const ours = median('packops --version', n, () => run('packops --version', process.execPath, [PACKOPS, '--version']));
  const theirs = median('node -e 0', n, () => run('node -e 0', process.execPath, ['-e', '0']));
  report({ name: 'start-up', ours, theirs, target: '≤ 1.5×', met: ours.ms / theirs.ms <= 1.5 });
}
