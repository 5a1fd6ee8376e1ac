import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// Several branches land on main through merges; a conflict resolved in a hurry can leave its
// markers in a script or a source file that no compiler reads (.ci/run once had them).
describe('the tracked tree', () => {
  it('holds no merge-conflict markers', () => {
    let hits = '';
    try {
      hits = execFileSync('git', ['grep', '-n', '-I', '-E', '^(<{7}|>{7})( |$)', '--', '.', ':!package-lock.json'], {
        encoding: 'utf8',
      });
    } catch (err) {
      // git grep exits 1 when nothing matches.
      if ((err as { status?: number }).status !== 1) throw err;
    }
    expect(hits).toBe('');
  });
});
