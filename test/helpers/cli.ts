/**
 * Runs the built CLI as a process, as users and CI do. Tests assert the exit code,
 * stdout (JSON where --json is given) and stderr separately.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN = join(ROOT, 'bin', 'packops.js');
export const FIXTURES = join(ROOT, 'fixtures');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws a readable error when it is not). */
  json<T = any>(): T;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
}

let testCacheDir: string | undefined;

/**
 * The assets cache the spawned CLI uses unless a test sets PACKOPS_CACHE_DIR itself: one
 * fresh folder per test process (vitest runs each test file in its own), removed at exit,
 * so that tests never touch the user's ~/.cache/packops and start cold.
 */
export function testCache(): string {
  if (testCacheDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'packops-test-cache-'));
    testCacheDir = dir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return testCacheDir;
}

export function runCli(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', CI: 'true', PACKOPS_CACHE_DIR: testCache(), ...options.env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: env as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code: code ?? (signal ? 128 : -1),
        stdout,
        stderr,
        json() {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`stdout is not one JSON document:\n${stdout}\n--- stderr ---\n${stderr}`);
          }
        },
      });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'packops-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
