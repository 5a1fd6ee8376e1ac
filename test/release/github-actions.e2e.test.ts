/**
 * The GitHub Actions example in the README, run for real: the workflow is read from the
 * README's catalog section, and each job's `npx packops …` steps run through bash (so
 * `packs/*` globs as on a runner) with the job's environment — the secret replaced by a
 * throwaway key — in a checkout-like folder holding the fixture packs and creators.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, FIXTURES, ROOT, runCli, tempDir, testCache } from '../helpers/cli.js';

interface Job {
  env: Record<string, string>;
  runs: string[];
}

/** The jobs of the README's workflow: each one's env and `run:` lines (a small, strict reader). */
export function readmeWorkflow(readme: string): Record<string, Job> {
  const section = readme.slice(readme.indexOf('<!-- section:catalog -->'), readme.indexOf('<!-- /section:catalog -->'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (!yaml) throw new Error('no ```yaml block in the README catalog section');
  const jobs: Record<string, Job> = {};
  let job: Job | undefined;
  let inEnv = false;
  for (const line of yaml.split('\n')) {
    const jobName = /^ {2}([\w-]+):$/.exec(line);
    if (jobName && yaml.indexOf('jobs:') < yaml.indexOf(line)) {
      job = { env: {}, runs: [] };
      jobs[jobName[1]!] = job;
      inEnv = false;
      continue;
    }
    if (!job) continue;
    if (/^ {4}env:$/.test(line)) {
      inEnv = true;
      continue;
    }
    const envLine = /^ {6}([A-Z_]+): (.+)$/.exec(line);
    if (inEnv && envLine) {
      job.env[envLine[1]!] = envLine[2]!.replace(/^'(.*)'$/, '$1');
      continue;
    }
    inEnv = false;
    const run = /^ {6}- run: (.+)$/.exec(line);
    if (run) job.runs.push(run[1]!);
  }
  return jobs;
}

function bash(command: string, cwd: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  // `npx packops` on a runner is the installed bin; here it is this checkout's built CLI.
  const script = `set -euo pipefail\npackops() { node ${JSON.stringify(BIN)} "$@"; }\n${command.replace(/\bnpx packops\b/g, 'packops')}\n`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd, env: { ...process.env, NO_COLOR: '1', CI: 'true', GITHUB_ACTIONS: 'true', PACKOPS_CACHE_DIR: testCache(), ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const workflow = readmeWorkflow(readFileSync(join(ROOT, 'README.md'), 'utf8'));
const packopsSteps = (job: Job) => job.runs.filter((r) => r.startsWith('npx packops '));

describe('the README GitHub Actions workflow', () => {
  const repo = tempDir('packops-gha-');
  let secret = '';

  beforeAll(async () => {
    for (const p of ['winter-wonders', 'counting-garden']) {
      cpSync(join(FIXTURES, 'packs', p), join(repo.dir, 'packs', p), { recursive: true, filter: (s) => !s.endsWith('.packops') });
    }
    cpSync(join(FIXTURES, 'ledger', 'creators.json'), join(repo.dir, 'creators.json'));
    mkdirSync(join(repo.dir, 'ledger'));
    const keys = tempDir('packops-gha-keys-');
    const gen = await runCli(['keys', 'generate', '--unencrypted', '--out', keys.dir]);
    expect(gen.code, gen.stderr).toBe(0);
    secret = readFileSync(join(keys.dir, 'packops.key'), 'utf8');
    keys.cleanup();
  }, 60_000);
  afterAll(() => repo.cleanup());

  it('has a validate job on pull requests and a release job on tags that takes the key from a secret', () => {
    expect(packopsSteps(workflow.validate!)).toEqual(['npx packops validate packs/* --format github']);
    expect(workflow.release!.env.PACKOPS_SECRET_KEY).toBe('${{ secrets.PACKOPS_SECRET_KEY }}');
    expect(packopsSteps(workflow.release!).some((r) => r.startsWith('npx packops release '))).toBe(true);
  });

  it('validate: passes on good packs and annotates a bad one, with a step summary', async () => {
    const summary = join(repo.dir, 'summary.md');
    writeFileSync(summary, '');
    for (const step of packopsSteps(workflow.validate!)) {
      const ok = await bash(step, repo.dir, { GITHUB_STEP_SUMMARY: summary });
      expect(ok.code, ok.stderr).toBe(0);
    }
    const manifest = join(repo.dir, 'packs', 'winter-wonders', 'pack.json');
    const original = readFileSync(manifest, 'utf8');
    writeFileSync(manifest, original.replace('"ageRange": {', '"ageRange": { "bogus": 1,'));
    try {
      const [step] = packopsSteps(workflow.validate!);
      const bad = await bash(step!, repo.dir, { GITHUB_STEP_SUMMARY: summary });
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(/^::error file=packs\/winter-wonders\/pack\.json,line=\d+,col=\d+,title=SCHEMA::/m);
      expect(readFileSync(summary, 'utf8')).toContain('SCHEMA');
    } finally {
      writeFileSync(manifest, original);
    }
  });

  it('release: releases every pack and publishes the catalog; a re-run of the tag changes nothing', async () => {
    const env = { ...workflow.release!.env, PACKOPS_SECRET_KEY: secret };
    for (const step of packopsSteps(workflow.release!)) {
      const r = await bash(step, repo.dir, env);
      expect(r.code, `${step}\n${r.stderr}`).toBe(0);
    }
    const feed = JSON.parse(readFileSync(join(repo.dir, 'site', 'catalog.json'), 'utf8'));
    expect(feed.packs.map((p: { slug: string }) => p.slug)).toEqual(['counting-garden', 'winter-wonders']);
    expect(existsSync(join(repo.dir, 'ledger', 'packops.db'))).toBe(true);
    const zip = readFileSync(join(repo.dir, 'dist', 'winter-wonders-1.0.0.zip'));

    const rerun = await bash(packopsSteps(workflow.release!).find((s) => s.startsWith('npx packops release '))!.concat(' --json'), repo.dir, env);
    expect(rerun.code, rerun.stderr).toBe(0);
    const out = JSON.parse(rerun.stdout);
    for (const p of out.packs) expect(p).toMatchObject({ archive: { status: 'unchanged' }, registration: { status: 'unchanged' }, assets: { encoded: 0 } });
    expect(readFileSync(join(repo.dir, 'dist', 'winter-wonders-1.0.0.zip'))).toEqual(zip);
  });
});
