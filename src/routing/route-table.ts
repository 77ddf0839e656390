import { LegacyRouteConverter } from '@nestjs/core/router/legacy-route-converter.js';
import { pathToRegexp } from 'path-to-regexp';

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
}

interface RouteEntry<T> {
  /** Position in the adapter's order: of several matches, the lowest wins. */
  order: number;
  method: string;
  path: RegExp;
  hosts: RegExp[] | undefined;
  value: T;
}

/** Routes filed under the literal segments their path starts with (`/api/v1/users/:id` under api → v1 → users). */
interface PrefixNode<T> {
  children: Map<string, PrefixNode<T>>;
  /** Routes whose literal prefix ends here, in the adapter's order. */
  entries: RouteEntry<T>[];
}

/**
 * Finds the route a request reaches, so that a preflight is answered with the policy of the request it announces.
 * The first route in the adapter's order that matches method, path and host wins, as in the adapter. Routes are
 * indexed by their literal leading segments, so a request only tests the few routes that share its prefix, however
 * many the app has.
 */
export class RouteTable<T> {
  private readonly root: PrefixNode<T> = { children: new Map(), entries: [] };
  private readonly caseSensitive: boolean;
  /** Paths the table could not compile; their requests fall back to the caller's default. */
  readonly unsupported: string[] = [];
  /** Whether any route is bound to a host, so that `match` needs the request's host name. */
  readonly hostBound: boolean;

  constructor(routes: ReadonlyArray<RouteDefinition<T>>, matching: PathMatching) {
    this.caseSensitive = matching.caseSensitive;
    this.hostBound = routes.some((route) => route.hosts !== undefined);
    routes.forEach((route, order) => {
      let entry: RouteEntry<T>;
      const path = toPathToRegexpSyntax(route.path);
      try {
        entry = {
          order,
          method: route.method,
          path: pathToRegexp(path, { sensitive: matching.caseSensitive, trailing: matching.ignoreTrailingSlash }).regexp,
          hosts: route.hosts?.map((host) => (typeof host === 'string' ? pathToRegexp(host).regexp : host)),
          value: route.value,
        };
      } catch {
        this.unsupported.push(`${route.method} ${route.path}`);
        return;
      }
      let node = this.root;
      for (const segment of literalPrefix(path)) {
        const key = this.caseSensitive ? segment : segment.toLowerCase();
        let child = node.children.get(key);
        if (child === undefined) node.children.set(key, (child = { children: new Map(), entries: [] }));
        node = child;
      }
      node.entries.push(entry);
    });
  }

  /** The value of the route `method path` reaches on `hostname`; HEAD falls back to GET routes, as in Express. */
  match(method: string, path: string, hostname: string | undefined): T | undefined {
    let best: RouteEntry<T> | undefined;
    let node: PrefixNode<T> | undefined = this.root;
    let start = 1;
    while (node !== undefined) {
      for (const entry of node.entries) {
        if (best !== undefined && entry.order > best.order) break;
        if (matches(entry, method, path, hostname)) {
          best = entry;
          break;
        }
      }
      if (start > path.length) break;
      const end = path.indexOf('/', start);
      const segment = path.slice(start, end === -1 ? undefined : end);
      node = node.children.get(this.caseSensitive ? segment : segment.toLowerCase());
      start = end === -1 ? path.length + 1 : end + 1;
    }
    return best?.value;
  }
}

function matches<T>(entry: RouteEntry<T>, method: string, path: string, hostname: string | undefined): boolean {
  return (
    (entry.method === method || entry.method === 'ALL' || (method === 'HEAD' && entry.method === 'GET')) &&
    entry.path.test(path) &&
    (entry.hosts === undefined || entry.hosts.some((host) => host.test(hostname ?? '')))
  );
}

/** The leading segments of a route path that hold no parameter, wildcard, group or escape. */
function literalPrefix(path: string): string[] {
  const segments = path.split('/').slice(1);
  const literal = segments.findIndex((segment) => segment === '' || /[:*{}()\\?+!]/.test(segment));
  return literal === -1 ? segments : segments.slice(0, literal);
}

/** Fastify routes may use find-my-way's `*` and a trailing optional `:param?`; Express ones are path-to-regexp 8. */
function toPathToRegexpSyntax(path: string): string {
  return LegacyRouteConverter.tryConvert(path, { logs: false }).replace(/\/:(\w+)\?$/, '{/:$1}');
}
