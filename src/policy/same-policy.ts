import type { CorsPolicy } from './cors-policy.js';

/**
 * Whether two compiled policies decide every request alike: each option equal, arrays item by item, RegExps by their
 * source and flags, functions by identity. Two `@Cors()` with the same options compile to two policies; this tells
 * them apart from two that differ.
 */
export function samePolicy(a: CorsPolicy, b: CorsPolicy): boolean {
  if (a === b) return true;
  const options = (policy: CorsPolicy) => policy.options as Readonly<Record<string, unknown>>;
  const keys = new Set([...Object.keys(a.options), ...Object.keys(b.options)]);
  return [...keys].every((key) => sameValue(options(a)[key], options(b)[key]));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof RegExp && b instanceof RegExp) return String(a) === String(b);
  return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
}
