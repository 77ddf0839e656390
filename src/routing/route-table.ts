import { parse, pathToRegexp, type Token } from 'path-to-regexp';
import { groupCombinations, hasCasedParameterSuffix, isAscii, pathShape } from './route-paths.js';

/** One route as the HTTP adapter serves it: method (`ALL` for `@All()`), full path, optional host patterns. */
export interface RouteDefinition<T> {
  method: string;
  path: string;
  hosts?: ReadonlyArray<string | RegExp>;
  value: T;
}

/** How the adapter compares paths, as its `getRouteMatchingOptions()` reports it. */
export interface PathMatching {
  caseSensitive: boolean;
  ignoreTrailingSlash: boolean;
  /**
   * Whether a parameter's suffix in its segment (`:name.png`) is compared as written even where paths ignore case:
   * find-my-way lower-cases the literal segments of a path only, so under `caseSensitive: false` `/FILES/a.png` reaches
   * `/files/:name.png` and `/files/a.PNG` does not. A table cannot mirror that, and refuses such routes then.
   */
  caseSensitiveParamSuffix?: boolean;
  /**
   * The longest value a parameter takes (find-my-way's `maxParamLength`, which Nest 12's Fastify adapter reports): a
   * longer one fails that route, and the router goes on to the next, a wildcard route for instance.
   */
  maxParamLength?: number;
}

interface RouteEntry<T> {
  /** Position in the adapter's order: of several matches, the lowest wins. */
  order: number;
  method: string;
  /** The route's whole path; the index only narrows which routes are tested, this decides. */
  path: RegExp;
  /** The capture groups of `path` that hold a parameter (not a wildcard), where parameter values have a bound. */
  boundedGroups: number[] | undefined;
  hosts: RegExp[] | undefined;
  value: T;
}

/**
 * Why a route is left out of the table: its path does not compile (`syntax`), or it has a parameter with a suffix the
 * adapter compares with another case rule than the rest of the path (see `PathMatching.caseSensitiveParamSuffix`).
 */
export type UnsupportedReason = 'syntax' | 'parameter suffix';

/** Routes filed by their path segments: `/api/:id/items` under api → (parameter) → items. */
interface SegmentNode<T> {
  /** The order of the first route filed in this subtree; routes are filed in order, so no route below comes earlier. */
  first: number;
  literals: Map<string, SegmentNode<T>>;
  /** For segments that match any non-empty request segment: those holding a parameter, and text without a key. */
  param: SegmentNode<T> | undefined;
  /** Routes whose indexed segments end here, in the adapter's order. */
  filings: Array<Filing<T>>;
}

/** A route filed at a node, by the shape of the paths it stands for there (see `PathShape`). */
interface Filing<T> {
  entry: RouteEntry<T>;
  /** No wildcard follows: the route matches only a request path that ends here (or has a trailing slash more). */
  closed: boolean;
  /** The walk to this node proves the route's path matches a request path that ends here. */
  walked: boolean;
}

/**
 * Finds the route a request reaches, so that a preflight is answered with the policy of the request it announces.
 * The first route in the adapter's order that matches method, path and host wins, as in the adapter. Routes are
 * filed in a tree of their path segments, literal or parametric, so a request only tests the routes along its own
 * segments, however many the app has.
 */
export class RouteTable<T> {
  private readonly root: SegmentNode<T> = segmentNode(0);
  private readonly caseSensitive: boolean;
  private readonly ignoreTrailingSlash: boolean;
  private readonly maxParamLength: number | undefined;
  /** The routes whose paths the table cannot compile: the caller must not guess their policy. */
  readonly unsupported: Array<RouteDefinition<T> & { reason: UnsupportedReason }> = [];
  /** Whether any route is bound to a host, so that `match` needs the request's host name. */
  readonly hostBound: boolean;

  /**
   * @param syntax turns a route path into path-to-regexp 8's syntax, for adapters whose route paths are written in
   *   another (Fastify's find-my-way)
   */
  constructor(
    routes: ReadonlyArray<RouteDefinition<T>>,
    matching: PathMatching,
    syntax: (path: string) => string = (path) => path,
  ) {
    this.caseSensitive = matching.caseSensitive;
    this.ignoreTrailingSlash = matching.ignoreTrailingSlash;
    this.maxParamLength = matching.maxParamLength;
    this.hostBound = routes.some((route) => route.hosts !== undefined);
    routes.forEach((route, order) => {
      let entry: RouteEntry<T>;
      let tokens: Token[];
      try {
        const path = parse(syntax(route.path));
        tokens = path.tokens;
        const { regexp, keys } = pathToRegexp(path, {
          sensitive: matching.caseSensitive,
          trailing: matching.ignoreTrailingSlash,
        });
        entry = {
          order,
          method: route.method,
          path: regexp,
          // One capture group per key, in order; an optional group's path is compiled as alternatives, each of which
          // has groups of its own for the same parameters.
          boundedGroups:
            matching.maxParamLength === undefined
              ? undefined
              : keys.flatMap((key, i) => (key.type === 'param' ? [i + 1] : [])),
          hosts: route.hosts?.map((host) => (typeof host === 'string' ? pathToRegexp(host).regexp : host)),
          value: route.value,
        };
      } catch {
        this.unsupported.push({ ...route, reason: 'syntax' });
        return;
      }
      const combinations = groupCombinations(tokens);
      if (matching.caseSensitiveParamSuffix && !matching.caseSensitive && combinations.some(hasCasedParameterSuffix)) {
        this.unsupported.push({ ...route, reason: 'parameter suffix' });
        return;
      }
      // The regexp matches a path when one of these does; filed under each, the route is found by any path it matches.
      // pathToRegexp has refused paths of more than 256 combinations, so there are few.
      for (const sequence of combinations) {
        let node = this.root;
        const shape = pathShape(sequence, this.caseSensitive);
        for (const key of shape.keys) {
          let child = key === undefined ? node.param : node.literals.get(key);
          if (child === undefined) {
            child = segmentNode(order);
            if (key === undefined) node.param = child;
            else node.literals.set(key, child);
          }
          node = child;
        }
        // Two combinations can lead to the same node (`{/:a}{/:b}`, `/a{/*rest}`): the route is filed there once, as
        // closed and walked only where both are.
        const last = node.filings.at(-1);
        if (last?.entry === entry) {
          last.closed &&= !shape.open;
          last.walked &&= shape.walked;
        } else node.filings.push({ entry, closed: !shape.open, walked: shape.walked });
      }
    });
  }

  /** The value of the route `method path` reaches on `hostname`; HEAD falls back to GET routes, as in Express. */
  match(method: string, path: string, hostname: string | undefined): T | undefined {
    // Lower-casing keeps the slashes where they are, so the segments line up with those of `path`.
    const folded = this.caseSensitive ? path : path.toLowerCase();
    // `toLowerCase` folds some letters the path regexp's case-insensitive flag does not (`K`, the Kelvin sign, to
    // `k`): where a path has such, only the regexp decides.
    const walkProves = this.caseSensitive || isAscii(path);
    return this.find(this.root, folded, 1, { method, path, hostname, walkProves }, undefined)?.value;
  }

  /**
   * The first route in order, filed at `node` or below it, that matches the request and comes before `best`. The
   * segment below `node` starts at `start` in `folded` (the path, lower case where routes ignore case); the path is
   * sliced segment by segment as the walk goes, not split up front, as most lookups stop after a few segments.
   */
  private find(
    node: SegmentNode<T>,
    folded: string,
    start: number,
    request: Lookup,
    best: RouteEntry<T> | undefined,
  ): RouteEntry<T> | undefined {
    if (best !== undefined && node.first > best.order) return best;
    // The path ends at this node, or has no more than a trailing slash to go where the routes ignore one.
    const ended = start > folded.length || (this.ignoreTrailingSlash && start === folded.length);
    for (const { entry, closed, walked } of node.filings) {
      if (best !== undefined && entry.order >= best.order) break;
      if (closed && !ended) continue;
      if (matches(entry, request, this.maxParamLength, walked && request.walkProves)) {
        best = entry;
        break;
      }
    }
    if (start > folded.length) return best;
    const slash = folded.indexOf('/', start);
    const end = slash === -1 ? folded.length : slash;
    const segment = folded.slice(start, end);
    const literal = node.literals.get(segment);
    if (literal !== undefined) best = this.find(literal, folded, end + 1, request, best);
    if (node.param !== undefined && segment !== '') best = this.find(node.param, folded, end + 1, request, best);
    return best;
  }
}

interface Lookup {
  method: string;
  path: string;
  hostname: string | undefined;
  /** Whether the walk through the tree proves a path of the routes it files as walked (see `Filing.walked`). */
  walkProves: boolean;
}

function segmentNode<T>(first: number): SegmentNode<T> {
  return { first, literals: new Map(), param: undefined, filings: [] };
}

/** Whether the route matches the request; `walked` where the walk to it proved its path matches, bounds aside. */
function matches<T>(
  entry: RouteEntry<T>,
  { method, path, hostname }: Lookup,
  maxParamLength: number | undefined,
  walked: boolean,
): boolean {
  return (
    (entry.method === method || entry.method === 'ALL' || (method === 'HEAD' && entry.method === 'GET')) &&
    pathMatches(entry, path, maxParamLength, walked) &&
    (entry.hosts === undefined || entry.hosts.some((host) => host.test(hostname ?? '')))
  );
}

function pathMatches<T>(
  { path, boundedGroups }: RouteEntry<T>,
  requestPath: string,
  maxParamLength: number | undefined,
  walked: boolean,
): boolean {
  // A parameter's value is part of the path: a path no longer than the bound has none longer, and needs no captures.
  if (boundedGroups === undefined || boundedGroups.length === 0 || requestPath.length <= (maxParamLength as number))
    return walked || path.test(requestPath);
  const values = path.exec(requestPath);
  return values !== null && boundedGroups.every((group) => (values[group] ?? '').length <= (maxParamLength as number));
}
