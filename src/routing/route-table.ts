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
  method: string;
  path: RegExp;
  hosts: RegExp[] | undefined;
  value: T;
}

/**
 * Finds the route a request reaches, so that a preflight is answered with the policy of the request it announces.
 * Routes are kept in the order the adapter tries them; the first that matches method, path and host wins, as it
 * does in the adapter.
 */
export class RouteTable<T> {
  private readonly entries: RouteEntry<T>[] = [];
  /** Paths the table could not compile; their requests fall back to the caller's default. */
  readonly unsupported: string[] = [];

  constructor(routes: ReadonlyArray<RouteDefinition<T>>, matching: PathMatching) {
    for (const route of routes) {
      try {
        this.entries.push({
          method: route.method,
          path: pathToRegexp(toPathToRegexpSyntax(route.path), {
            sensitive: matching.caseSensitive,
            trailing: matching.ignoreTrailingSlash,
          }).regexp,
          hosts: route.hosts?.map((host) => (typeof host === 'string' ? pathToRegexp(host).regexp : host)),
          value: route.value,
        });
      } catch {
        this.unsupported.push(`${route.method} ${route.path}`);
      }
    }
  }

  /** The value of the route `method path` reaches on `hostname`; HEAD falls back to GET routes, as in Express. */
  match(method: string, path: string, hostname: string | undefined): T | undefined {
    for (const entry of this.entries) {
      if (
        (entry.method === method || entry.method === 'ALL' || (method === 'HEAD' && entry.method === 'GET')) &&
        entry.path.test(path) &&
        (entry.hosts === undefined || entry.hosts.some((host) => host.test(hostname ?? '')))
      ) {
        return entry.value;
      }
    }
    return undefined;
  }
}

/** Fastify routes may use find-my-way's `*` and a trailing optional `:param?`; Express ones are path-to-regexp 8. */
function toPathToRegexpSyntax(path: string): string {
  return LegacyRouteConverter.tryConvert(path, { logs: false }).replace(/\/:(\w+)\?$/, '{/:$1}');
}
