/**
 * `packops preview`: a contact sheet of a pack. Every asset's thumbnail sits on a
 * checkerboard (so transparency shows) with its id under it; the pack name is on top;
 * the column count follows the number of assets. Drawn from the sources or from the
 * variants `packops assets` wrote. A source that cannot be drawn gets a tile naming its
 * problem code and a finding, and never stops the sheet.
 */
import { realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { OverlayOptions } from 'sharp';
import { statOutput, writeFileAtomic } from '../shared/atomic.js';
import { inputError, isPackopsError } from '../shared/errors.js';
import { fileKind } from '../shared/input.js';
import { isOk, type Finding } from '../shared/findings.js';
import type { LockVariant, ManifestAsset } from '../manifest/types.js';
import { loadPackManifest } from '../manifest/load.js';
import { displayPath } from '../shared/paths.js';
import { locateFindings } from '../manifest/position.js';
import { isVariantPath, LOCK_FILE, readLock } from './lock.js';
import { loadAssetRules } from '../manifest/asset-rules.js';
import { probeImage } from '../shared/image-probe.js';
import { classifyDecodeError, gateManifest, resolveAssetSource } from './source.js';

export interface PreviewOptions {
  /** The PNG to write (default `<pack>/.packops/preview.png`). */
  out?: string;
  from?: 'sources' | 'variants';
  /** With from: 'variants', the folder `packops assets` wrote (default `<pack>/.packops/out`). */
  variantsDir?: string;
  /** Thumbnail box in pixels (default 160). */
  tile?: number;
  /** Base for relative file names in findings (default: process.cwd()). */
  cwd?: string;
}

export interface PreviewTile {
  id: string;
  ok: boolean;
  /** The file drawn (relative to cwd), when one was. */
  file?: string;
  /** Problem code of a tile that could not be drawn. */
  code?: string;
}

export interface PreviewResult {
  ok: boolean;
  target: string;
  /** The PNG written (absolute), or undefined when the manifest could not be read. */
  path?: string;
  width: number;
  height: number;
  columns: number;
  rows: number;
  from: 'sources' | 'variants';
  tiles: PreviewTile[];
  findings: Finding[];
}

export const LAYOUT = {
  margin: 24,
  gap: 16,
  label: 26,
  header: 72,
  /** Sheets grow downwards past this width. */
  maxWidth: 1600,
  minWidth: 480,
  square: 12,
} as const;

/** Columns for `n` tiles: about 3:2 landscape for few assets, capped by the maximum width. */
export function chooseColumns(n: number, tile: number): number {
  const fit = Math.max(1, Math.floor((LAYOUT.maxWidth - 2 * LAYOUT.margin + LAYOUT.gap) / (tile + LAYOUT.gap)));
  return Math.max(1, Math.min(n, fit, Math.ceil(Math.sqrt(n * 1.5))));
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Shortens `text` to about `px` pixels of `size`-point DejaVu/Helvetica-like text. */
function fit(text: string, px: number, size: number): string {
  const max = Math.max(4, Math.floor(px / (size * 0.6)));
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** An RGBA checkerboard of `size`×`size`, light squares so art of any colour reads. */
function checkerboard(size: number): Buffer {
  const buf = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const light = (Math.floor(x / LAYOUT.square) + Math.floor(y / LAYOUT.square)) % 2 === 0;
      const v = light ? 0xff : 0xd6;
      const i = (y * size + x) * 4;
      buf[i] = v;
      buf[i + 1] = v;
      buf[i + 2] = v;
      buf[i + 3] = 0xff;
    }
  }
  return buf;
}

/** The variant to draw: the smallest at least as large as the tile, else the largest. */
export function pickVariant(variants: readonly LockVariant[], tile: number): LockVariant | undefined {
  const bySize = [...variants].sort((a, b) => Math.max(a.width, a.height) - Math.max(b.width, b.height));
  return bySize.find((v) => Math.max(v.width, v.height) >= tile) ?? bySize[bySize.length - 1];
}

/**
 * Why a variant path read from a lock may not be read (undefined when it may): it must be
 * `assets/<id>/<name>.<ext>` (`isVariantPath`), and a regular file reached from `dir` with
 * no link below `base` (`statOutput`). A missing file is left to the probe to report.
 */
function unsafeVariant(path: unknown, dir: string, base: string, cwd: string): string | undefined {
  if (!isVariantPath(path)) return 'is not of the form assets/<id>/<name>.<format> (absolute, .., or another shape)';
  let info;
  try {
    info = statOutput(join(dir, path), { base, cwd });
  } catch {
    return 'leads through a symbolic link or a file, out of the variants folder';
  }
  if (info !== undefined && !info.isFile()) return `is ${fileKind(info)}, not a regular file`;
  return undefined;
}

export async function renderPreview(target: string, options: PreviewOptions = {}): Promise<PreviewResult> {
  const cwd = options.cwd ?? process.cwd();
  const display = (p: string) => displayPath(p, cwd);
  const from = options.from ?? 'sources';
  const tile = options.tile ?? 160;
  const loaded = await loadPackManifest(target, { cwd });
  const packDir = resolve(loaded.packDir);
  const empty = { width: 0, height: 0, columns: 0, rows: 0, from, tiles: [] };
  if (!loaded.ok) return { ok: false, target: display(packDir), ...empty, findings: loaded.findings };
  const manifest = loaded.manifest;
  const gate = gateManifest(manifest, loaded.text, display(loaded.manifestPath));
  if (gate.blocking.length > 0) return { ok: false, target: display(packDir), ...empty, findings: gate.blocking };
  const assets: ManifestAsset[] = manifest.assets;
  const rules = loadAssetRules();
  sharp.cache(false);

  let lockVariants: Map<string, LockVariant[]> | undefined;
  let variantsDir = '';
  // The default variants folder is inside the pack: no link below the pack is followed to
  // it. A --variants folder the user typed may hold links; below it, none is followed.
  let variantsBase = '';
  if (from === 'variants') {
    variantsDir = resolve(cwd, options.variantsDir ?? join(packDir, '.packops', 'out'));
    variantsBase = options.variantsDir === undefined ? packDir : variantsDir;
    const lockPath = join(variantsDir, LOCK_FILE);
    let lock;
    try {
      lock = await readLock(lockPath, { base: variantsBase, cwd });
    } catch (err) {
      if (!isPackopsError(err)) throw err;
      throw inputError('PATH_UNSAFE', `${display(lockPath)} is reached through a symbolic link or a file inside ${display(variantsBase)}; packops reads no lock through one.`, {
        hint: `Run \`packops assets ${display(packDir)}\` to write the variants again, or preview the sources (--from sources).`,
        cause: err,
      });
    }
    if (lock === undefined) {
      throw inputError('LOCK_MISSING', `No ${LOCK_FILE} in ${display(variantsDir)} (a regular file; a link there is not read).`, {
        hint: `Run \`packops assets ${display(packDir)}\` first, or preview the sources (--from sources).`,
      });
    }
    lockVariants = new Map(lock.assets.map((a) => [a.id, a.variants]));
  }

  const packReal = await realpath(packDir);
  const manifestFile = display(loaded.manifestPath);
  const board = checkerboard(tile);
  const findings: Finding[] = [];
  const tiles: PreviewTile[] = [];
  const images: Array<Buffer | undefined> = [];
  for (const [index, asset] of assets.entries()) {
    const problem = (code: string, message: string, file?: string) => {
      findings.push({ code, severity: 'error', file: manifestFile, pointer: `/assets/${index}/file`, message });
      tiles.push({ id: asset.id, ok: false, code, ...(file ? { file } : {}) });
      images.push(undefined);
    };
    const pathFindings = gate.perAsset.get(index);
    if (pathFindings) {
      findings.push(...pathFindings);
      tiles.push({ id: asset.id, ok: false, code: pathFindings[0]!.code });
      images.push(undefined);
      continue;
    }
    let file: string;
    if (lockVariants) {
      const variant = pickVariant(lockVariants.get(asset.id) ?? [], tile);
      if (variant === undefined) {
        problem('VARIANT_MISSING', `Asset "${asset.id}" has no variants in ${LOCK_FILE}; run \`packops assets\` again.`);
        continue;
      }
      // The lock is pack content when the folder is in the pack: its path is read only
      // when it has the shape packops writes and leads to a regular file through no link.
      const unsafe = unsafeVariant(variant.path, variantsDir, variantsBase, cwd);
      if (unsafe !== undefined) {
        problem('VARIANT_PATH_UNSAFE', `Asset "${asset.id}": the variant path ${JSON.stringify(variant.path)} in ${LOCK_FILE} ${unsafe}; it was not read.`);
        continue;
      }
      file = join(variantsDir, variant.path);
    } else {
      const resolved = await resolveAssetSource(packReal, asset);
      if (!resolved.ok) {
        problem(resolved.code, resolved.message, display(resolve(packDir, asset.file)));
        continue;
      }
      file = resolved.path;
    }
    const probe = await probeImage(file, { maxPixels: rules.maxSourcePixels });
    if (!probe.ok) {
      problem(probe.code, `Asset "${asset.id}" (${display(file)}): ${probe.message}`, display(file));
      continue;
    }
    try {
      const thumb = await sharp(file, { limitInputPixels: rules.maxSourcePixels, failOn: 'error' })
        .autoOrient()
        .resize({ width: tile, height: tile, fit: 'inside', withoutEnlargement: true })
        .toColourspace('srgb')
        .ensureAlpha()
        .png()
        .toBuffer();
      const drawn = await sharp(board, { raw: { width: tile, height: tile, channels: 4 } })
        .composite([{ input: thumb, gravity: 'centre' }])
        .png()
        .toBuffer();
      tiles.push({ id: asset.id, ok: true, file: display(file) });
      images.push(drawn);
    } catch (err) {
      const { code, reason } = classifyDecodeError(err);
      problem(code, `Asset "${asset.id}": ${display(file)} cannot be drawn (${reason}).`, display(file));
    }
  }

  const columns = chooseColumns(Math.max(1, tiles.length), tile);
  const rows = Math.max(1, Math.ceil(tiles.length / columns));
  const cell = { w: tile + LAYOUT.gap, h: tile + LAYOUT.label + LAYOUT.gap };
  const width = Math.max(LAYOUT.minWidth, 2 * LAYOUT.margin + columns * cell.w - LAYOUT.gap);
  const height = LAYOUT.header + LAYOUT.margin + rows * cell.h - LAYOUT.gap;
  const left0 = Math.floor((width - (columns * cell.w - LAYOUT.gap)) / 2);

  const composites: OverlayOptions[] = [];
  const text: string[] = [
    `<text x="${LAYOUT.margin}" y="40" font-family="DejaVu Sans, sans-serif" font-size="26" font-weight="bold" fill="#1d1d2b">${escapeXml(fit(String(manifest.name ?? manifest.slug ?? ''), width - 2 * LAYOUT.margin, 26))}</text>`,
    `<text x="${LAYOUT.margin}" y="62" font-family="DejaVu Sans, sans-serif" font-size="13" fill="#5b5b6b">${escapeXml(
      fit(`${String(manifest.slug ?? '')} ${String(manifest.version ?? '')} · ${tiles.length} assets · from ${from}`, width - 2 * LAYOUT.margin, 13),
    )}</text>`,
  ];
  tiles.forEach((t, i) => {
    const left = left0 + (i % columns) * cell.w;
    const top = LAYOUT.header + Math.floor(i / columns) * cell.h;
    const image = images[i];
    if (image) composites.push({ input: image, left, top });
    else {
      text.push(
        `<rect x="${left}" y="${top}" width="${tile}" height="${tile}" fill="#fde8e8" stroke="#c0392b" stroke-width="2"/>`,
        `<text x="${left + tile / 2}" y="${top + tile / 2 + 5}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="13" fill="#c0392b">${escapeXml(fit(`✖ ${t.code ?? 'ERROR'}`, tile - 8, 13))}</text>`,
      );
    }
    text.push(
      `<text x="${left + tile / 2}" y="${top + tile + 18}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="14" fill="#1d1d2b">${escapeXml(fit(t.id, tile, 14))}</text>`,
    );
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${text.join('')}</svg>`;
  composites.push({ input: Buffer.from(svg), left: 0, top: 0 });

  const png = await sharp({ create: { width, height, channels: 4, background: '#f6f6f9' } })
    .composite(composites)
    .png({ compressionLevel: 9 })
    .toBuffer();
  locateFindings(loaded.text, findings);
  const path = options.out ?? join(packDir, '.packops', 'preview.png');
  // The default place is inside the pack: a link there is never followed out of it.
  await writeFileAtomic(path, png, { cwd, ...(options.out === undefined ? { base: packDir } : {}) });
  return { ok: isOk(findings), target: display(packDir), path, width, height, columns, rows, from, tiles, findings };
}
