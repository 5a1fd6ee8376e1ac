/**
 * Paths shown to people. One rule everywhere (messages, findings, JSON output): relative to
 * the working directory when the path is inside it, absolute otherwise.
 */
import { isAbsolute, relative, resolve } from 'node:path';

/** `path` as a person would type it from `cwd`: relative when inside it, `.` for `cwd` itself. */
export function displayPath(path: string, cwd: string = process.cwd()): string {
  const abs = isAbsolute(path) ? path : resolve(cwd, path);
  const rel = relative(cwd, abs);
  if (rel === '') return '.';
  if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) return abs;
  return rel;
}
