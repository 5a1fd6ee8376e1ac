/**
 * Pages to PDF with headless Chromium's print-to-PDF. One browser process renders every
 * page (over the DevTools protocol, through puppeteer-core, imported only when a PDF is
 * asked for), a few reused tabs at a time, and hands each PDF on as soon as it is printed;
 * the pages may load nothing: JavaScript is off and every request other than the page
 * itself is aborted.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { inputError, isPackopsError } from '../shared/errors.js';

export const BROWSER_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'] as const;

const INSTALL_HINT =
  'Install Chromium (Debian/Ubuntu: apt-get install chromium; macOS: brew install --cask chromium) or Google Chrome, or set PACKOPS_CHROMIUM to the browser executable.';

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The browser to print with: PACKOPS_CHROMIUM when set (it must be an executable file),
 * else the first of chromium, chromium-browser, google-chrome on PATH. CHROMIUM_MISSING
 * (exit 3) names what to install.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.PACKOPS_CHROMIUM;
  if (explicit !== undefined && explicit !== '') {
    if (isAbsolute(explicit) ? isExecutableFile(explicit) : false) return explicit;
    const onPath = isAbsolute(explicit) ? undefined : searchPath(explicit, env);
    if (onPath) return onPath;
    throw inputError('CHROMIUM_MISSING', `PACKOPS_CHROMIUM names ${explicit}, which is not an executable browser.`, {
      hint: INSTALL_HINT,
      details: { PACKOPS_CHROMIUM: explicit },
    });
  }
  for (const name of BROWSER_NAMES) {
    const found = searchPath(name, env);
    if (found) return found;
  }
  throw inputError('CHROMIUM_MISSING', `PDF needs headless Chromium, and none of ${BROWSER_NAMES.join(', ')} is on PATH.`, {
    hint: `${INSTALL_HINT} The HTML pages were written; print them from a browser in the meantime.`,
    details: { searched: [...BROWSER_NAMES] },
  });
}

function searchPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

export type Paper = 'a4' | 'letter';

export interface PdfJob {
  html: string;
}

export interface PrintOptions {
  executable: string;
  paper: Paper;
  /** Tabs printing at once in the one browser (default: one per core, 1 to 4). */
  concurrency?: number;
  /**
   * Receives each page's PDF as soon as it is printed (in any order); printing waits for
   * it, so at most `concurrency` PDFs are in memory at once. A rejection stops the run.
   */
  onPdf: (index: number, pdf: Uint8Array) => Promise<void>;
  /** Called after each page, for progress. */
  onPage?: (done: number, total: number) => void;
}

/** Tabs to print with: one per core (2 on a 2-core machine), at least 1 and at most 4. */
export function defaultConcurrency(cores = availableParallelism()): number {
  return Math.max(1, Math.min(4, cores));
}

const LAUNCH_ARGS = [
  // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
  // The pages are our own HTML with JavaScript off and the network refused.
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--disable-default-apps',
  '--mute-audio',
];

/**
 * Prints every page to PDF in one headless Chromium: launched once, `concurrency` tabs each
 * reused for page after page (no new tab and no new browser per page). A page is handed to
 * its tab with `setContent` and printed once its DOM is parsed: the pages are
 * self-contained (inline CSS and SVG, system fonts), so there is nothing to wait for, and
 * anything they might request is refused anyway.
 */
export async function printPdfs(jobs: readonly PdfJob[], options: PrintOptions): Promise<void> {
  if (jobs.length === 0) return;
  const { default: puppeteer } = await import('puppeteer-core');
  let browser: import('puppeteer-core').Browser;
  try {
    browser = await puppeteer.launch({ executablePath: options.executable, headless: true, args: LAUNCH_ARGS, timeout: 60_000 });
  } catch (err) {
    throw inputError('CHROMIUM_MISSING', `Chromium at ${options.executable} could not be started: ${firstLine(err)}`, {
      hint: INSTALL_HINT,
      details: { executable: options.executable },
      cause: err,
    });
  }
  let next = 0;
  let done = 0;
  let failed = false;
  const format = options.paper === 'letter' ? 'Letter' : 'A4';
  try {
    const worker = async () => {
      const page = await browser.newPage();
      await page.setJavaScriptEnabled(false);
      await page.setRequestInterception(true);
      page.on('request', (request) => {
        // The page itself arrives by setContent; anything else it asks for is refused.
        if (request.isInterceptResolutionHandled()) return;
        void request.abort('blockedbyclient');
      });
      for (;;) {
        const index = next++;
        if (index >= jobs.length || failed) return;
        await page.setContent(jobs[index]!.html, { waitUntil: 'domcontentloaded' });
        const pdf = await page.pdf({ format, printBackground: true, displayHeaderFooter: false });
        await options.onPdf(index, pdf);
        options.onPage?.(++done, jobs.length);
      }
    };
    const n = Math.max(1, Math.min(options.concurrency ?? defaultConcurrency(), jobs.length));
    const results = await Promise.allSettled(
      Array.from({ length: n }, () =>
        worker().catch((err: unknown) => {
          failed = true;
          throw err;
        }),
      ),
    );
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) {
      const err: unknown = rejected.reason;
      if (isPackopsError(err)) throw err;
      throw inputError('PDF_PRINT_FAILED', `Chromium stopped while printing page ${done + 1} of ${jobs.length}: ${firstLine(err)}`, {
        hint: 'The HTML pages were written; no PDF was. Run the command again; if it fails again, check that Chromium has memory and /tmp space.',
        details: { executable: options.executable, printed: done, pages: jobs.length },
        cause: err,
      });
    }
  } finally {
    await browser.close().catch(() => undefined);
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}
