import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/**
 * The layers of src/, highest first. A file may import from its own folder or from a folder
 * in a LOWER layer; folders in the same layer never import each other. The order is the one
 * the imports showed when this test was written (cli > domains > shared):
 * - release puts archive, assets, catalog, ledger, manifest and signing together;
 * - archive builds on assets; catalog, payouts and pricing read the ledger;
 * - assets and ledger read manifest types; ledger reads store exports (stores);
 * - shared is the ground floor (errors, findings, money, image probing, version order...).
 */
const LAYERS: readonly (readonly string[])[] = [
  ['cli'],
  ['release'],
  ['archive', 'catalog', 'payouts', 'pricing'],
  ['assets', 'ledger'],
  ['manifest', 'pages', 'signing', 'stores', 'subscriptions'],
  ['shared'],
];

const SRC = join(ROOT, 'src');
const rank = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i] as const)));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * Every relative module a file names: static imports and re-exports (type-only ones too:
 * they tie the files together just the same) and dynamic `import()`s, resolved to src paths.
 */
function relativeImports(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts'));
}

const graph = new Map(sourceFiles(SRC).map((file) => [relative(SRC, file), relativeImports(file)]));
/** The folder under src/ that places a file in a layer (src/cli/commands/x.ts → cli). */
const folderOf = (path: string) => path.split('/')[0]!;

describe('imports in src/', () => {
  it('sees the source tree and every layer folder exists', () => {
    expect(graph.size).toBeGreaterThan(100);
    const folders = new Set([...graph.keys()].map(folderOf));
    expect([...folders].filter((f) => !rank.has(f))).toEqual([]); // a new folder needs its layer here
    expect([...rank.keys()].filter((f) => !folders.has(f))).toEqual([]);
  });

  it('name files that exist', () => {
    const missing = [...graph].flatMap(([from, tos]) => tos.filter((to) => !graph.has(to)).map((to) => `${from} → ${to}`));
    expect(missing).toEqual([]);
  });

  it('only point down the layers (cli > domains > shared)', () => {
    const upward: string[] = [];
    for (const [from, tos] of graph) {
      for (const to of tos) {
        const [a, b] = [folderOf(from), folderOf(to)];
        if (a === b) continue;
        if (!(rank.get(a)! < rank.get(b)!)) upward.push(`${from} → ${to}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('form no cycle, inside a folder or across folders', () => {
    expect(findCycles(graph)).toEqual([]);
  });
});

describe('the cycle finder', () => {
  it('reports a cycle and stays quiet on a tree', () => {
    const cyclic = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(findCycles(cyclic)).toEqual(['a.ts → b.ts → c.ts → a.ts']);
    expect(findCycles(new Map([['a.ts', ['b.ts', 'c.ts']], ['b.ts', ['c.ts']], ['c.ts', []]]))).toEqual([]);
  });
});

/** One cycle per strongly connected group of files (Tarjan), written as a path back to its start. */
function findCycles(edges: Map<string, string[]>): string[] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[] = [];
  const connect = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!edges.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group = new Set<string>();
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      group.add(w);
      if (w === v) break;
    }
    const self = edges.get(v)!.includes(v);
    if (group.size > 1 || self) cycles.push(pathWithin(edges, group, [...group].sort()[0]!));
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) connect(v);
  return cycles;
}

/** A shortest path from `start` back to itself through files of one group (breadth first). */
function pathWithin(edges: Map<string, string[]>, group: Set<string>, start: string): string {
  const from = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of edges.get(v) ?? []) {
      if (!group.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = from.get(u)!) path.unshift(u);
        path.unshift(start);
        return path.join(' → ');
      }
      if (!from.has(w)) {
        from.set(w, v);
        queue.push(w);
      }
    }
  }
  return start;
}
