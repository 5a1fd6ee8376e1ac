/**
 * Headless Debian Chromium driven by playwright-core (no browser download): a fresh
 * profile, no network services, and a record of every request and console message the
 * page makes, so tests can prove a page works from file:// without any other origin.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface OpenedPage {
  page: Page;
  requests: string[];
  consoleErrors: string[];
  dialogs: string[];
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Abort every request that is not for a file: URL (it is still recorded in `requests`). */
  blockNetwork?: boolean;
  viewport?: { width: number; height: number };
}

export async function openFilePage(htmlPath: string, options: OpenOptions = {}): Promise<OpenedPage> {
  const profile = mkdtempSync(join(tmpdir(), 'packops-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: options.viewport ?? { width: 1100, height: 900 },
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  const dialogs: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  if (options.blockNetwork) {
    await context.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort('blockedbyclient')));
  }
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
  return {
    page,
    requests,
    consoleErrors,
    dialogs,
    async close() {
      await context!.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Cards as the page shows them: slug, visibility, whether the cover image decoded. */
export async function cardStates(page: Page): Promise<Array<{ slug: string; visible: boolean; imageLoaded: boolean; name: string }>> {
  // The callbacks run in the page (the project's lib has no DOM types, hence `any`).
  return page.$$eval('li.card', (cards: any[]) =>
    cards.map((card) => {
      const img = card.querySelector('img');
      return {
        slug: String(card.getAttribute('data-slug') ?? ''),
        visible: !card.hidden && card.offsetParent !== null,
        imageLoaded: img !== null && img.complete === true && img.naturalWidth > 0,
        name: String(card.querySelector('h3')?.textContent ?? ''),
      };
    }),
  );
}

/** Scrolls every lazy image into view and waits until each has loaded or failed. */
export async function loadAllImages(page: Page): Promise<void> {
  await page.$$eval('img', (imgs: any[]) => imgs.forEach((i) => (i.loading = 'eager')));
  await page.waitForFunction(() => Array.from((globalThis as any).document.images as any[]).every((i) => i.complete === true), undefined, {
    timeout: 15_000,
  });
}
