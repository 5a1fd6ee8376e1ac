/**
 * The page shell every packops page shares: one self-contained HTML file with inline CSS
 * (and, for the catalog, one inline script), system fonts, and a Content-Security-Policy
 * that admits only that CSS and script by hash, so the page can load nothing from
 * anywhere. Print rules fit A4 and Letter (the printer's paper; margins that fit both).
 */
import { createHash } from 'node:crypto';
import { escapeHtml } from './escape.js';

/** Colours, type, tables, figures and print rules shared by every page. */
export const BASE_CSS = `
:root{color-scheme:light;--ink:#1d2433;--muted:#5b6477;--line:#d9dee8;--accent:#0b6bcb;--bg:#f6f7fb;--card:#fff;--good:#0a7a3d;--warn:#8a5a00;--warn-bg:#fff6e0;--bad:#b42318;--bar:#0b6bcb}
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg);-webkit-text-size-adjust:100%}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.data{border-collapse:collapse;width:100%;background:var(--card);font-size:.92rem}
table.data th,table.data td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
table.data .num{text-align:right}
table.data thead th{font-size:.8rem;color:var(--muted);font-weight:600;border-bottom:2px solid var(--line)}
table.data tfoot td,table.data tfoot th{font-weight:700;border-top:2px solid var(--line);border-bottom:0}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid var(--line);border-radius:10px;background:var(--card)}
.scroll table.data{border:0}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
figure.chart{margin:0}
figure.chart figcaption{font-weight:600;margin:0 0 6px}
.chart-body{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px;align-items:start}
svg.bars{display:block;background:var(--card);border:1px solid var(--line);border-radius:10px;height:auto}
svg.bars .bar:not(.prov){fill:var(--bar)}
svg.bars .bar.neg:not(.prov){fill:var(--bad)}
svg.bars .hatch-bg{fill:#cfe0f5}
svg.bars .hatch{stroke:var(--bar);stroke-width:2}
svg.bars .grid{stroke:var(--line);stroke-dasharray:4 3}
svg.bars .zero{stroke:var(--muted)}
svg.bars .axis{font:12px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;fill:var(--muted)}
table.chart-table{border-collapse:collapse;width:100%;font-size:.85rem;background:var(--card)}
table.chart-table th,table.chart-table td{padding:3px 6px;border-bottom:1px solid var(--line);text-align:left}
table.chart-table td.num{text-align:right}
@media (max-width:720px){.chart-body{grid-template-columns:1fr}}
@page{margin:14mm 12mm}
@media print{
:root{--bg:#fff}
body{font-size:10pt;background:#fff}
.scroll{overflow:visible;border:0}
table.data{font-size:8.5pt}
table.data th,table.data td{padding:3px 4px}
tr,figure,.keep{break-inside:avoid}
h2,h3{break-after:avoid}
.chart-body{grid-template-columns:3fr 2fr}
a{color:inherit;text-decoration:none}
}
`;

/** Layout of report pages (statements, summaries, tier and catalog reports): header, blocks, footer. */
export const LAYOUT_CSS = `
.wrap{max-width:980px;margin:0 auto;padding:16px}
.page-head{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px 18px;margin:0 0 16px}
.platform{margin:0;color:var(--muted);font-weight:600;letter-spacing:.02em}
.page-head h1{font-size:1.5rem;line-height:1.2;margin:.2em 0 .5em;overflow-wrap:anywhere}
.page-head h1 .id{font-weight:400;color:var(--muted);font-size:1rem}
dl.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:8px 16px;margin:0}
dl.facts div{min-width:0}
dl.facts dt{font-size:.78rem;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
dl.facts dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.block{margin:0 0 18px}
.block h2{font-size:1.1rem;margin:0 0 8px}
.block h3{font-size:1rem;margin:14px 0 6px}
.note{color:var(--muted);font-size:.88rem;margin:6px 0 0}
.warnings{list-style:none;margin:0;padding:0;display:grid;gap:8px}
.warnings li{background:var(--warn-bg);border:1px solid #f0d48a;border-left:4px solid var(--warn);border-radius:8px;padding:8px 12px}
footer.page-foot{margin:22px 0 8px;padding-top:10px;border-top:1px solid var(--line);color:var(--muted);font-size:.8rem}
footer.page-foot code{font-size:.78rem;overflow-wrap:anywhere;word-break:break-all;color:var(--ink)}
@media (max-width:520px){.wrap{padding:10px}.page-head h1{font-size:1.3rem}}
@media print{.wrap{max-width:none;padding:0}.page-head{border-color:#bbb}}
`;

function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

export interface PageShell {
  title: string;
  /** CSS for this page, after BASE_CSS. */
  css: string;
  /** Markup of <body>, already escaped. */
  body: string;
  /** One inline script (the catalog's filters); statements have none. */
  script?: string;
  /** Extra img-src sources (the catalog links its images by relative path). */
  imgSrc?: string;
  lang?: string;
}

/** The whole document. Deterministic: the same input gives the same bytes. */
export function renderPage(p: PageShell): string {
  const css = `${BASE_CSS}${p.css}`;
  const csp = [
    "default-src 'none'",
    `img-src ${p.imgSrc ?? 'data:'}`,
    `style-src ${cspHash(css)}`,
    ...(p.script !== undefined ? [`script-src ${cspHash(p.script)}`] : []),
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return `<!doctype html>
<html lang="${escapeHtml(p.lang ?? 'en')}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(p.title)}</title>
<style>${css}</style>
</head>
<body>
${p.body}
${p.script !== undefined ? `<script>${p.script}</script>\n` : ''}</body>
</html>
`;
}
