/**
 * Pages to PDF with headless Chromium's print-to-PDF. One browser process renders every
 * page (over the DevTools protocol, through puppeteer-core, imported only when a PDF is
 * asked for), a few tabs at a time; the pages may load nothing: JavaScript is off and
 * every request other than the page itself is aborted.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { inputError } from '../shared/errors.js';

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
  /** Tabs printing at once in the one browser (default 2). */
  concurrency?: number;
  /** Called after each page, for progress. */
  onPage?: (done: number, total: number) => void;
}

/** Prints every page to PDF in one browser process; the results are in the jobs' order. */
export async function printPdfs(jobs: readonly PdfJob[], options: PrintOptions): Promise<Uint8Array[]> {
  const { default: puppeteer } = await import('puppeteer-core');
  let browser: import('puppeteer-core').Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: options.executable,
      headless: true,
      // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
      // The pages are our own HTML with JavaScript off and the network refused.
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-extensions'],
      timeout: 60_000,
    });
  } catch (err) {
    throw inputError('CHROMIUM_MISSING', `Chromium at ${options.executable} could not be started: ${(err as Error).message.split('\n')[0]}`, {
      hint: INSTALL_HINT,
      details: { executable: options.executable },
      cause: err,
    });
  }
  const results: Uint8Array[] = new Array(jobs.length);
  let next = 0;
  let done = 0;
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
      try {
        for (;;) {
          const index = next++;
          if (index >= jobs.length) return;
          await page.setContent(jobs[index]!.html, { waitUntil: 'load' });
          results[index] = await page.pdf({
            format: options.paper === 'letter' ? 'Letter' : 'A4',
            printBackground: true,
            displayHeaderFooter: false,
          });
          options.onPage?.(++done, jobs.length);
        }
      } finally {
        await page.close();
      }
    };
    const n = Math.max(1, Math.min(options.concurrency ?? 2, jobs.length));
    await Promise.all(Array.from({ length: n }, worker));
  } finally {
    await browser.close();
  }
  return results;
}
