/**
 * Paths shown to people, and the one containment test. One rule everywhere (messages,
 * findings, JSON output): relative to the working directory when the path is inside it,
 * absolute otherwise.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * Whether `rel` (a path relative to some folder, as `relative()` gives it) leaves that
 * folder: `..`, `../x` or absolute. A name that only starts with two dots (`..star.png`)
 * stays inside.
 */
export function climbsOut(rel: string): boolean {
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}

/**
 * True when `path` is `dir` or inside it, by name (both resolved; links are not followed:
 * pass `realpath`s where links matter).
 */
export function isInside(path: string, dir: string): boolean {
  const base = resolve(dir);
  return !climbsOut(relative(base, resolve(base, path)));
}

/** `path` as a person would type it from `cwd`: relative when inside it, `.` for `cwd` itself. */
export function displayPath(path: string, cwd: string = process.cwd()): string {
  const abs = isAbsolute(path) ? path : resolve(cwd, path);
  const rel = relative(cwd, abs);
  if (rel === '') return '.';
  if (climbsOut(rel)) return abs;
  return rel;
}
