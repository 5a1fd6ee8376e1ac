/**
 * `index.html`: one static page a person can browse from the file system. No server, no
 * external requests (inline CSS and JS, images by relative path, a CSP that forbids any
 * other origin), category and age filters, every string from data escaped.
 */
import { thumbHashToDataURL } from 'thumbhash';
import { CATEGORIES, type Category } from '../manifest/types.js';
import { escapeHtml } from '../pages/escape.js';
import { renderPage } from '../pages/shell.js';
import { formatMinor } from '../shared/money.js';
import { type CatalogFeed, type FeedBundle, type FeedMoney, type FeedPack, type FeedVariant } from './feed.js';
import { own } from '../shared/lookup.js';

export const CATEGORY_LABELS = {
  characters: 'Characters',
  environments: 'Environments',
  educational: 'Educational',
  creative_tools: 'Creative tools',
  seasonal: 'Seasonal',
} as const satisfies Record<Category, string>;

/** The page kit's escaping (src/pages), re-exported for callers of the catalog page. */
export { escapeHtml };

export function formatPrice(m: FeedMoney): string {
  return m.amountMinor === 0 ? 'Free' : `${formatMinor(m.amountMinor, m.currency)} ${m.currency}`;
}

/** The variant a card shows: the smallest at least 256 px wide, else the largest. */
export function thumbnailVariant(variants: readonly FeedVariant[]): FeedVariant | undefined {
  const bySize = [...variants].sort((a, b) => a.width * a.height - b.width * b.height);
  return bySize.find((v) => v.width >= 256) ?? bySize[bySize.length - 1];
}

function coverOf(pack: FeedPack): { alt: string; variant: FeedVariant; fit: 'cover' | 'contain' } | undefined {
  const asset = pack.assets.find((a) => a.id === pack.cover) ?? pack.assets[0];
  if (!asset) return undefined;
  const variant = thumbnailVariant(asset.variants);
  if (!variant) return undefined;
  return { alt: asset.altText ?? `${pack.name}: ${asset.id}`, variant, fit: asset.type === 'background' ? 'cover' : 'contain' };
}

function placeholderDataUrl(base64: string): string | undefined {
  try {
    return thumbHashToDataURL(Uint8Array.from(Buffer.from(base64, 'base64')));
  } catch {
    return undefined; // a placeholder is a nicety: a bad one only loses the blur
  }
}

/** The catalog's own rules, on top of the page kit's BASE_CSS (colours, type, print). */
const CATALOG_CSS = `
header,main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:1.6rem;margin:.2em 0}
.meta{color:var(--muted);font-size:.9rem;margin:0}
form.filters{display:flex;flex-wrap:wrap;gap:16px;align-items:end;margin:12px 0 4px}
form.filters label{display:flex;flex-direction:column;font-weight:600;font-size:.9rem;gap:4px}
select{font:inherit;padding:6px 8px;border:1px solid var(--line);border-radius:6px;background:#fff;min-width:12em}
#count{color:var(--muted);margin:4px 0 12px}
ul.cards{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:16px}
li.card{background:#fff;border:1px solid var(--line);border-radius:12px;overflow:hidden;display:flex;flex-direction:column}
li.card[hidden]{display:none}
.cover{aspect-ratio:1/1;background-color:#eef1f6;background-size:cover;background-position:center;display:flex;align-items:center;justify-content:center}
.cover img{width:100%;height:100%;object-fit:contain;display:block}
.cover.fit-cover img{object-fit:cover}
.cover.loaded{background-image:none}
.body{padding:10px 12px 14px;display:flex;flex-direction:column;gap:4px}
.body h3{margin:0;font-size:1.05rem}
.tagline{margin:0;color:var(--muted);font-size:.9rem}
.facts{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0 0;padding:0;list-style:none;font-size:.85rem}
.facts li{background:#eef1f6;border-radius:999px;padding:1px 8px}
.price{font-weight:700;font-size:1.05rem}
.bundle-tag{font-size:.85rem;color:var(--accent)}
section.bundles{margin-top:28px}
ul.bundle-list{list-style:none;padding:0;display:grid;gap:12px;grid-template-columns:repeat(auto-fill,minmax(300px,1fr))}
ul.bundle-list>li{background:#fff;border:1px solid var(--line);border-radius:12px;padding:12px 14px}
ul.bundle-list h3{margin:0 0 4px;font-size:1.05rem}
.save{color:#0a7a3d;font-weight:600}
.empty{color:var(--muted)}
`;

// Reads the filters and toggles `hidden` on cards; no data is interpolated into the script.
const SCRIPT = `
(function(){
  var form=document.getElementById('filters');
  var category=document.getElementById('filter-category');
  var age=document.getElementById('filter-age');
  var count=document.getElementById('count');
  var cards=Array.prototype.slice.call(document.querySelectorAll('li.card'));
  function apply(){
    var c=category.value, a=age.value===''?null:Number(age.value), shown=0;
    cards.forEach(function(card){
      var ok=(c===''||card.getAttribute('data-category')===c)&&
        (a===null||(Number(card.getAttribute('data-age-min'))<=a&&a<=Number(card.getAttribute('data-age-max'))));
      card.hidden=!ok; if(ok) shown++;
    });
    count.textContent='Showing '+shown+' of '+cards.length+' packs';
  }
  // Drop the blurred placeholder once the real image is there.
  Array.prototype.forEach.call(document.querySelectorAll('.cover img'),function(img){
    function done(){ if(img.naturalWidth>0) img.parentNode.classList.add('loaded'); }
    if(img.complete) done(); else img.addEventListener('load',done);
  });
  form.addEventListener('change',apply);
  form.addEventListener('submit',function(e){e.preventDefault();});
  apply();
})();
`;

export interface PageOptions {
  /** Page title; the default names the catalog. */
  title?: string;
}

function priceOf(pack: FeedPack, market: string | null): FeedMoney {
  if (market !== null) return own(pack.markets, market) ?? pack.price;
  return pack.price;
}

function renderCard(pack: FeedPack, index: number, market: string | null, baseUrl: string | null, bundles: readonly FeedBundle[], placeholderClass: string | undefined): string {
  const cover = coverOf(pack);
  const inBundles = bundles.filter((b) => b.packs.includes(pack.slug));
  const img = cover
    ? `<img src="${escapeHtml(sitePathOf(cover.variant.url, baseUrl))}" alt="${escapeHtml(cover.alt)}" width="${cover.variant.width}" height="${cover.variant.height}" loading="lazy" decoding="async">`
    : '';
  const ages = pack.ageRange.min === pack.ageRange.max ? `Age ${pack.ageRange.min}` : `Ages ${pack.ageRange.min}–${pack.ageRange.max}`;
  return `<li class="card" id="pack-${escapeHtml(pack.slug)}" data-slug="${escapeHtml(pack.slug)}" data-category="${escapeHtml(pack.category)}" data-age-min="${pack.ageRange.min}" data-age-max="${pack.ageRange.max}" aria-labelledby="pack-name-${index}">
<div class="cover${cover?.fit === 'cover' ? ' fit-cover' : ''}${placeholderClass ? ` ${placeholderClass}` : ''}">${img}</div>
<div class="body">
<h3 id="pack-name-${index}">${escapeHtml(pack.name)}</h3>
${pack.tagline ? `<p class="tagline">${escapeHtml(pack.tagline)}</p>` : ''}
<p class="price">${escapeHtml(formatPrice(priceOf(pack, market)))}</p>
<ul class="facts" aria-label="Details">
<li class="age">${ages}</li>
<li class="category">${escapeHtml(own<string>(CATEGORY_LABELS, pack.category) ?? pack.category)}</li>
<li class="assets">${pack.assets.length} ${pack.assets.length === 1 ? 'item' : 'items'}</li>
</ul>
${inBundles.map((b) => `<p class="bundle-tag">In bundle: <a href="#bundle-${escapeHtml(b.slug)}">${escapeHtml(b.name)}</a></p>`).join('\n')}
</div>
</li>`;
}

/**
 * The page links every file by its path relative to the site, even when the feed's URLs
 * are absolute (--base-url), so that it works from the file system.
 */
export function sitePathOf(url: string, baseUrl: string | null): string {
  if (baseUrl === null) return url;
  if (!url.startsWith(baseUrl)) throw new Error(`URL ${url} is not under the base URL ${baseUrl}`);
  return url.slice(baseUrl.length);
}

function renderBundle(b: FeedBundle, names: Map<string, string>): string {
  const until = b.availability.until ? ` · until ${escapeHtml(b.availability.until)}` : '';
  return `<li id="bundle-${escapeHtml(b.slug)}" class="bundle" data-slug="${escapeHtml(b.slug)}">
<h3>${escapeHtml(b.name)}</h3>
<p><span class="price">${escapeHtml(formatPrice(b.price))}</span> <s>${escapeHtml(formatPrice(b.individualTotal))}</s> <span class="save">save ${escapeHtml(b.savingsPercent)}%</span>${until}</p>
<p>${b.packs.map((s) => `<a href="#pack-${escapeHtml(s)}">${escapeHtml(names.get(s) ?? s)}</a>`).join(', ')}</p>
</li>`;
}

/** Renders the whole page. Deterministic for a given feed. */
export function renderCatalogPage(feed: CatalogFeed, options: PageOptions = {}): string {
  const title = options.title ?? 'Content packs catalog';
  const placeholderCss: string[] = [];
  const cards = feed.packs.map((pack, i) => {
    const cover = coverOf(pack);
    const dataUrl = cover ? placeholderDataUrl(cover.variant.placeholder) : undefined;
    let cls: string | undefined;
    if (dataUrl) {
      cls = `ph-${i}`;
      placeholderCss.push(`.${cls}{background-image:url("${dataUrl}")}`);
    }
    return renderCard(pack, i, feed.market, feed.baseUrl, feed.bundles, cls);
  });
  const css = `${CATALOG_CSS}${placeholderCss.join('\n')}\n`;
  const presentCategories = new Set(feed.packs.map((p) => p.category));
  const categoryOptions = CATEGORIES.filter((c) => presentCategories.has(c))
    .map((c) => `<option value="${c}">${CATEGORY_LABELS[c]} (${feed.packs.filter((p) => p.category === c).length})</option>`)
    .join('');
  const ageOptions = Array.from({ length: 13 }, (_, age) => `<option value="${age}">${age} years</option>`).join('');
  const names = new Map(feed.packs.map((p) => [p.slug, p.name]));
  const marketNote = feed.market === null ? 'list prices in USD' : `prices for market ${escapeHtml(feed.market)}`;
  const body = `<header>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${feed.packs.length} ${feed.packs.length === 1 ? 'pack' : 'packs'} · ${feed.bundles.length} ${feed.bundles.length === 1 ? 'bundle' : 'bundles'} · ${marketNote} · published ${escapeHtml(feed.publishDate)} · feed: <a href="catalog.json">catalog.json</a></p>
</header>
<main>
<form id="filters" class="filters" aria-label="Filter packs">
<label for="filter-category">Category<select id="filter-category" name="category"><option value="">All categories</option>${categoryOptions}</select></label>
<label for="filter-age">Child's age<select id="filter-age" name="age"><option value="">Any age</option>${ageOptions}</select></label>
</form>
<p id="count" role="status" aria-live="polite">Showing ${feed.packs.length} of ${feed.packs.length} packs</p>
${feed.packs.length === 0 ? '<p class="empty">No pack is available on this day.</p>' : ''}
<ul class="cards" aria-label="Packs">
${cards.join('\n')}
</ul>
<section class="bundles" aria-labelledby="bundles-title">
<h2 id="bundles-title">Bundles</h2>
${feed.bundles.length === 0 ? '<p class="empty">No bundle is available on this day.</p>' : `<ul class="bundle-list">\n${feed.bundles.map((b) => renderBundle(b, names)).join('\n')}\n</ul>`}
</section>
</main>`;
  return renderPage({ title, css, body, script: SCRIPT, imgSrc: "'self' file: data:" });
}
