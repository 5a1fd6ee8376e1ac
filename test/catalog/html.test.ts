import { describe, expect, it } from 'vitest';
import { buildFeed } from '../../src/catalog/feed.js';
import { escapeHtml, renderCatalogPage, thumbnailVariant } from '../../src/catalog/html.js';
import { manifest, registered } from './sample.js';

const now = new Date('2026-11-26T00:00:00Z');

describe('index.html', () => {
  const hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>';
  const { feed } = buildFeed({
    packs: [
      registered(manifest({ slug: 'ocean-creatures', name: hostile, tagline: 'Fish & "friends"', ageRange: { min: 3, max: 8 } })),
      registered(manifest({ slug: 'forest-scenes', name: 'Forest Scenes', category: 'environments', ageRange: { min: 5, max: 5 } })),
    ],
    bundles: [{ slug: 'starter-bundle', name: 'Starter <b>Bundle</b>', packs: ['ocean-creatures', 'forest-scenes'], priceMinor: 749, individualTotalMinor: 998, currency: 'USD' }],
    now,
  });
  const html = renderCatalogPage(feed);

  it('escapes every string from data', () => {
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;');
    expect(html).toContain('Starter &#60;b&#62;Bundle&#60;/b&#62;');
    expect(html).toContain('Fish &#38; &#34;friends&#34;');
    expect(escapeHtml(`'`)).toBe('&#39;');
  });

  it('has exactly one script, inline, and a CSP that allows no other origin', () => {
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; img-src &#39;self&#39; file: data:; style-src &#39;sha256-[A-Za-z0-9+/=]+&#39;; script-src &#39;sha256-[A-Za-z0-9+/=]+&#39;; base-uri/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('shows each pack with cover (alt text from the manifest), name, ages, price and bundle', () => {
    expect(html).toContain('src="packs/ocean-creatures/1.0.0/assets/one/256.webp" alt="The one of ocean-creatures"');
    expect(html).toContain('Ages 3–8');
    expect(html).toContain('Age 5');
    expect(html).toContain('4.99 USD');
    expect(html).toContain('In bundle: <a href="#bundle-starter-bundle">');
    expect(html).toContain('save 24.9%');
  });

  it('labels both filters and offers only categories present', () => {
    expect(html).toContain('<label for="filter-category">');
    expect(html).toContain('<label for="filter-age">');
    expect(html).toContain('<option value="environments">Environments (1)</option>');
    expect(html).not.toContain('<option value="seasonal">');
  });

  it('is deterministic', () => {
    expect(renderCatalogPage(feed)).toBe(html);
  });

  it('picks the smallest variant at least 256 px wide for a card', () => {
    const v = (width: number) => ({ name: String(width), url: '', format: 'webp' as const, width, height: width, bytes: 1, sha256: '', placeholder: '' });
    expect(thumbnailVariant([v(512), v(256), v(96)])?.width).toBe(256);
    expect(thumbnailVariant([v(96), v(128)])?.width).toBe(128);
  });
});
