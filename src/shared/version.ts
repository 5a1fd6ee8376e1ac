/**
 * Semantic-version precedence (semver.org §11), enough to pick each slug's latest
 * registered version. Build metadata does not change precedence; two versions equal in
 * precedence fall back to code-point order so the choice is still deterministic.
 */
import { compareCodePoints } from './money.js';

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

interface Parsed {
  core: [bigint, bigint, bigint];
  pre: string[];
}

function parse(version: string): Parsed | undefined {
  const m = SEMVER.exec(version);
  if (!m) return undefined;
  return { core: [BigInt(m[1]!), BigInt(m[2]!), BigInt(m[3]!)], pre: m[4] ? m[4].split('.') : [] };
}

export function isSemver(version: string): boolean {
  return SEMVER.test(version);
}

/** A semver pre-release (1.10.0-beta.1): never the live version of a pack. */
export function isPrerelease(version: string): boolean {
  return (parse(version)?.pre.length ?? 0) > 0;
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (an) return -1; // numeric identifiers have lower precedence than alphanumeric ones
  if (bn) return 1;
  return compareCodePoints(a, b);
}

/** Negative when a < b, positive when a > b. Versions that are not semver sort first. */
export function compareVersions(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : compareCodePoints(a, b);
  for (let i = 0; i < 3; i++) {
    const x = pa.core[i]!;
    const y = pb.core[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  // A pre-release has lower precedence than the release itself.
  if (pa.pre.length === 0 || pb.pre.length === 0) {
    if (pa.pre.length !== pb.pre.length) return pa.pre.length === 0 ? 1 : -1;
  } else {
    const n = Math.max(pa.pre.length, pb.pre.length);
    for (let i = 0; i < n; i++) {
      const x = pa.pre[i];
      const y = pb.pre[i];
      if (x === undefined) return -1;
      if (y === undefined) return 1;
      const c = compareIdentifiers(x, y);
      if (c !== 0) return c;
    }
  }
  return compareCodePoints(a, b);
}
