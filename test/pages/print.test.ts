// printPdfs against the real headless Chromium: the PDFs are handed over one by one as they
// are printed, a browser that dies in the middle of a run is PDF_PRINT_FAILED (never a
// crash of packops), and an error of the writer reaches the caller as it is.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findChromium, printPdfs } from '../../src/pages/pdf.js';
import { inputError } from '../../src/shared/errors.js';

const executable = findChromium();
const page = (n: number) => ({ html: `<!doctype html><html><head><meta charset="utf-8"></head><body><h1>Page ${n}</h1></body></html>` });

/** Our own Chromium processes: children (and their children) of this test process. */
function ownBrowserPids(): number[] {
  const parent = new Map<number, number>();
  const names = new Map<number, string>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      names.set(Number(d), readFileSync(`/proc/${d}/cmdline`, 'utf8'));
    } catch {
      // gone
    }
  }
  return [...parent.keys()].filter((pid) => parent.get(pid) === process.pid && /chrom/.test(names.get(pid) ?? ''));
}

describe('printPdfs', () => {
  it('hands over every page once, as a PDF, with progress', async () => {
    const got = new Map<number, Uint8Array>();
    const progress: number[] = [];
    await printPdfs([page(0), page(1), page(2), page(3), page(4)], {
      executable,
      paper: 'a4',
      concurrency: 2,
      onPdf: async (i, pdf) => {
        expect(got.has(i)).toBe(false);
        got.set(i, pdf);
      },
      onPage: (done) => progress.push(done),
    });
    expect([...got.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
    for (const pdf of got.values()) expect(Buffer.from(pdf.subarray(0, 5)).toString()).toBe('%PDF-');
    expect(progress).toEqual([1, 2, 3, 4, 5]);
  }, 60_000);

  it('a browser killed in the middle of the run is PDF_PRINT_FAILED (exit 3) saying how far it got', async () => {
    let printed = 0;
    const run = printPdfs(Array.from({ length: 6 }, (_, i) => page(i)), {
      executable,
      paper: 'letter',
      concurrency: 1,
      onPdf: async () => {
        if (++printed === 2) for (const pid of ownBrowserPids()) process.kill(pid, 'SIGKILL');
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'PDF_PRINT_FAILED', exitCode: 3, message: expect.stringMatching(/of 6/) });
    expect(printed).toBe(2);
    expect(ownBrowserPids()).toEqual([]);
  }, 60_000);

  it("the writer's own error (a full disk, a bad place) reaches the caller unchanged", async () => {
    const full = inputError('OUTPUT_UNWRITABLE', 'Cannot write x: ENOSPC.');
    const run = printPdfs([page(0), page(1)], { executable, paper: 'a4', onPdf: async () => Promise.reject(full) });
    await expect(run).rejects.toBe(full);
  }, 60_000);
});
