/**
 * The page in a real browser (Debian chromium, installed by .ci/run): opened from
 * file://, every card's cover decodes, filters hide exactly the right cards, data cannot
 * inject script, and the page requests nothing but its own files.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { cardStates, loadAllImages, openFilePage, type OpenedPage } from './browser.js';
import { writeSite } from './site.js';

describe('index.html in headless Chromium', () => {
  const tmp = tempDir('packops-site-');
  let opened: OpenedPage;

  beforeAll(async () => {
    await writeSite(
      tmp.dir,
      [
        { slug: 'ocean-creatures', name: 'Ocean Creatures', category: 'characters', ageRange: { min: 3, max: 8 } },
        { slug: 'forest-scenes', name: 'Forest Scenes', category: 'environments', ageRange: { min: 4, max: 10 } },
        { slug: 'counting-garden', name: 'Counting Garden', category: 'educational', ageRange: { min: 3, max: 6 } },
        {
          slug: 'hostile-pack',
          name: '<img src=x onerror="alert(1)"><script>alert(2)</script>',
          category: 'characters',
          ageRange: { min: 9, max: 12 },
          altText: '"><script>alert(3)</script>',
        },
      ],
      [{ slug: 'starter-bundle', name: 'Starter Bundle', packs: ['ocean-creatures', 'forest-scenes'], priceMinor: 599, individualTotalMinor: 798, currency: 'USD' }],
    );
    opened = await openFilePage(join(tmp.dir, 'index.html'));
    await loadAllImages(opened.page);
  });

  afterAll(async () => {
    await opened?.close();
    tmp.cleanup();
  });

  it('renders every card with its cover image decoded', async () => {
    const cards = await cardStates(opened.page);
    expect(cards.map((c) => c.slug).sort()).toEqual(['counting-garden', 'forest-scenes', 'hostile-pack', 'ocean-creatures']);
    for (const c of cards) expect(c, c.slug).toMatchObject({ visible: true, imageLoaded: true });
  });

  it('shows hostile names as text and runs none of them', async () => {
    const cards = await cardStates(opened.page);
    expect(cards.find((c) => c.slug === 'hostile-pack')?.name).toBe('<img src=x onerror="alert(1)"><script>alert(2)</script>');
    expect(await opened.page.locator('script').count()).toBe(1);
    expect(opened.dialogs).toEqual([]);
  });

  it('hides the right cards with the category filter, and with the age filter', async () => {
    const { page } = opened;
    await page.selectOption('#filter-category', 'characters');
    let visible = (await cardStates(page)).filter((c) => c.visible).map((c) => c.slug).sort();
    expect(visible).toEqual(['hostile-pack', 'ocean-creatures']);
    expect(await page.textContent('#count')).toBe('Showing 2 of 4 packs');

    await page.selectOption('#filter-category', '');
    await page.selectOption('#filter-age', '10');
    visible = (await cardStates(page)).filter((c) => c.visible).map((c) => c.slug).sort();
    expect(visible).toEqual(['forest-scenes', 'hostile-pack']);

    await page.selectOption('#filter-category', 'environments');
    visible = (await cardStates(page)).filter((c) => c.visible).map((c) => c.slug);
    expect(visible).toEqual(['forest-scenes']);

    await page.selectOption('#filter-age', '');
    await page.selectOption('#filter-category', '');
    expect((await cardStates(page)).every((c) => c.visible)).toBe(true);
  });

  it('requests nothing but its own files, and breaks no CSP rule', () => {
    expect(opened.requests.length).toBeGreaterThan(0);
    for (const url of opened.requests) expect(url).toMatch(/^(file:|data:)/);
    expect(opened.consoleErrors).toEqual([]);
  });
});
