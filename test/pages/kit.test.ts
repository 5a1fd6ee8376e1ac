import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { barChart } from '../../src/pages/chart.js';
import { canonicalJson, sha256Hex } from '../../src/pages/digest.js';
import { escapeHtml, html, raw } from '../../src/pages/escape.js';
import { formatMoney } from '../../src/pages/money.js';
import { renderPage } from '../../src/pages/shell.js';

describe('formatMoney', () => {
  it('groups thousands, uses symbols people know and ISO minor units', () => {
    expect(formatMoney(123456, 'USD')).toBe('$1,234.56');
    expect(formatMoney(750, 'JPY')).toBe('¥750');
    expect(formatMoney(123456789, 'JPY')).toBe('¥123,456,789');
    expect(formatMoney(-5, 'USD')).toBe('-$0.05');
    expect(formatMoney(0, 'GBP')).toBe('£0.00');
    expect(formatMoney(1299, 'EUR')).toBe('€12.99');
    expect(formatMoney(1200, 'CHF')).toBe('CHF 12.00');
    expect(formatMoney(1234, 'KWD')).toBe('KWD 1.234');
    expect(formatMoney(9007199254740991n * 10n, 'USD')).toBe('$900,719,925,474,099.10');
  });
});

describe('escaping', () => {
  it('escapes the five characters, in the html tag too; raw() passes markup through', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
    const name = '<script>alert(1)</script>';
    expect(html`<h1>${name}</h1>${raw('<br>')}`.__html).toBe('<h1>&#60;script&#62;alert(1)&#60;/script&#62;</h1><br>');
    expect(html`<p>${[html`<b>${'&'}</b>`, 'x<']}</p>`.__html).toBe('<p><b>&#38;</b>x&#60;</p>');
  });
});

describe('canonicalJson', () => {
  it('orders keys by code point, so the same figures give the same digest', () => {
    const a = canonicalJson({ b: 1, a: [{ y: 'x', x: null }], é: 2, Z: 3 });
    expect(a).toBe('{"Z":3,"a":[{"x":null,"y":"x"}],"b":1,"é":2}');
    expect(canonicalJson({ Z: 3, é: 2, a: [{ x: null, y: 'x' }], b: 1 })).toBe(a);
    expect(sha256Hex(a)).toBe(createHash('sha256').update(a).digest('hex'));
  });
});

describe('barChart', () => {
  const bars = [
    { label: 'Sep', key: '2026-09', valueMinor: 564 },
    { label: 'Oct', key: '2026-10', valueMinor: -233, provisional: true },
    { label: 'Nov', key: '2026-11', valueMinor: null },
  ];
  const chart = barChart({ id: 'c', title: 'Earnings <USD>', currency: 'USD', valueHeader: 'Earnings', bars }).__html;

  it('draws an SVG with a text alternative and the same figures as a table', () => {
    expect(chart).toMatch(/<svg[^>]*role="img"[^>]*aria-labelledby="c-caption"/);
    expect(chart).toContain('Earnings &#60;USD&#62;');
    expect(chart).toMatch(/<th scope="row">2026-09<\/th><td class="num">\$5\.64<\/td><td>final<\/td>/);
    expect(chart).toMatch(/<th scope="row">2026-10<\/th><td class="num">-\$2\.33<\/td><td>provisional<\/td>/);
    expect(chart).toMatch(/<th scope="row">2026-11<\/th><td class="num">—<\/td><td>no statement<\/td>/);
    expect(chart.match(/<rect class="bar/g)).toHaveLength(2);
    expect(chart).toContain('class="bar neg prov" fill="url(#c-hatch)"');
    expect(chart).not.toMatch(/style=/);
  });

  it('is deterministic, and an all-zero chart keeps its zero line at the bottom', () => {
    expect(barChart({ id: 'c', title: 'Earnings <USD>', currency: 'USD', valueHeader: 'Earnings', bars }).__html).toBe(chart);
    const zero = barChart({ id: 'z', title: 't', currency: 'USD', valueHeader: 'v', bars: [{ label: 'a', key: 'a', valueMinor: 0 }] }).__html;
    expect(zero).toMatch(/<line class="zero" x1="8" x2="632" y1="186" y2="186">/);
  });
});

describe('renderPage', () => {
  it('one self-contained document: the CSP admits its one stylesheet (and script) by hash', () => {
    const page = renderPage({ title: 'T <x>', css: 'p{color:red}', body: '<p>hi</p>' });
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)![1]!;
    const hash = createHash('sha256').update(style).digest('base64');
    expect(page).toContain(`style-src &#39;sha256-${hash}&#39;`);
    expect(page).toContain("default-src &#39;none&#39;; img-src data:;");
    expect(page).not.toContain('<script');
    expect(page).toContain('<title>T &#60;x&#62;</title>');
    expect(style).toMatch(/@media print/);
    const withScript = renderPage({ title: 't', css: '', body: '', script: 'void 0;', imgSrc: "'self'" });
    expect(withScript).toMatch(/script-src &#39;sha256-[^&]+&#39;/);
    expect(withScript).toContain('<script>void 0;</script>');
  });
});
