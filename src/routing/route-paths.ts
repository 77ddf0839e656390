import { type Group, parse, type Token } from 'path-to-regexp';
import type { PathMatching } from './route-table.js';

/** A route path segment as the index files it: its literal text, or `undefined` for any non-empty segment. */
export type SegmentKey = string | undefined;

/** A path token once optional groups are expanded. */
export type FlatToken = Exclude<Token, Group>;

/** A path's leading segments as the index files them, and whether it goes on past them into any number of segments. */
export interface PathShape {
  keys: SegmentKey[];
  /** A wildcard follows them, or the path does not start with `/` (the index does not file it, any request tests it). */
  open: boolean;
  /**
   * Not open, and each key stands for its whole segment: a literal, or one parameter without text around it. A request
   * path whose segments lead along the keys to their end, and no further, then matches the path: the walk proves it.
   */
  walked: boolean;
}

/**
 * The keys of the leading segments of a path without groups, each of which matches exactly one request segment. A
 * wildcard can span segments, so the keys stop before the segment holding one.
 */
export function pathShape(tokens: FlatToken[], caseSensitive: boolean): PathShape {
  const segments = [{ text: '', params: 0 }];
  let open = false;
  for (const token of tokens) {
    if (token.type === 'wildcard') {
      segments.pop();
      open = true;
      break;
    }
    if (token.type === 'param') {
      segments[segments.length - 1].params++;
    } else {
      const [head, ...rest] = token.value.split('/');
      segments[segments.length - 1].text += head;
      segments.push(...rest.map((text) => ({ text, params: 0 })));
    }
  }
  if (segments[0]?.text !== '' || segments[0].params > 0) return { keys: [], open: true, walked: false };
  const named = segments.slice(1);
  const keys = named.map(({ text, params }) => (params > 0 ? undefined : literalKey(text, caseSensitive)));
  const whole = named.every(({ text, params }, i) =>
    params === 0 ? keys[i] !== undefined : params === 1 && text === '',
  );
  return { keys, open, walked: !open && whole };
}

/**
 * The key of literal text, as the path regexp compares it. Its case-insensitive flag folds ASCII letters as
 * `toLowerCase` does, but not all others (`σ` matches `ς`), so other text is filed as any non-empty segment.
 */
function literalKey(text: string, caseSensitive: boolean): SegmentKey {
  if (caseSensitive) return text;
  return isAscii(text) ? text.toLowerCase() : undefined;
}

/** Whether `text` is ASCII, whose letters `toLowerCase` folds as a case-insensitive regexp does (`K` and `k` alike). */
export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Whether some request path may match both route paths (written in `syntax`, compared as `matching` says): `true`
 * where unsure (a segment of a parameter and text is taken for any segment; a path that does not compile may match
 * anything). For the routes a request can fall through to from a route none of whose handlers takes it.
 */
export function pathsMayOverlap(
  a: string,
  b: string,
  { caseSensitive, ignoreTrailingSlash }: PathMatching,
  syntax: (path: string) => string,
): boolean {
  const shapes = (path: string) => {
    try {
      return groupCombinations(parse(syntax(path)).tokens).map((tokens) => {
        const shape = pathShape(tokens, caseSensitive);
        // `/a/` and `/a` both match a request for `/a/` where the adapter ignores a trailing slash.
        if (ignoreTrailingSlash && !shape.open && shape.keys.at(-1) === '') shape.keys.pop();
        return shape;
      });
    } catch {
      return undefined;
    }
  };
  const [ofA, ofB] = [shapes(a), shapes(b)];
  return ofA === undefined || ofB === undefined || ofA.some((x) => ofB.some((y) => shapesOverlap(x, y)));
}

/** Whether a request path may have both shapes: segment by segment alike, where the shorter does not go on past its own. */
function shapesOverlap(x: PathShape, y: PathShape): boolean {
  const shared = Math.min(x.keys.length, y.keys.length);
  for (let i = 0; i < shared; i++) {
    const [p, q] = [x.keys[i], y.keys[i]];
    if (p !== undefined && q !== undefined && p !== q) return false;
  }
  if (x.keys.length === y.keys.length) return true;
  return x.keys.length < y.keys.length ? x.open : y.open;
}

/**
 * Whether a parameter is followed, in its own segment, by text whose case can differ (`:name.png`; not `:from-:to` or
 * `:id.1`, which read the same in any case).
 */
export function hasCasedParameterSuffix(tokens: FlatToken[]): boolean {
  return tokens.some((token, i) => {
    const next = tokens[i + 1];
    if (token.type !== 'param' || next?.type !== 'text') return false;
    const suffix = next.value.split('/')[0];
    return suffix.toLowerCase() !== suffix.toUpperCase();
  });
}

/** The paths without groups that a path stands for, with each optional group present or absent, as its regexp does. */
export function groupCombinations(tokens: Token[]): FlatToken[][] {
  let combinations: FlatToken[][] = [[]];
  for (const token of tokens) {
    if (token.type === 'group') {
      const inner = groupCombinations(token.tokens);
      combinations = combinations.flatMap((before) => [before, ...inner.map((group) => [...before, ...group])]);
    } else {
      combinations = combinations.map((before) => [...before, token]);
    }
  }
  return combinations;
}
