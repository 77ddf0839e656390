import { pathToRegexp } from 'path-to-regexp';

/** One route as the HTTP adapter serves it: method (`ALL` for `@All()`), full path, optional host patterns. */
export interface RouteDefinition<T> {
  method: string;
  path: string;
  hosts?: ReadonlyArray<string | RegExp>;
  value: T;
}

/** How the adapter compares paths: Express 5 by default ignores case and one trailing slash. */
export interface PathMatching {
  caseSensitive: boolean;
  strictTrailingSlash: boolean;
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
  private readonly entries: RouteEntry<T>[];

  constructor(routes: ReadonlyArray<RouteDefinition<T>>, matching: PathMatching) {
    this.entries = routes.map((route) => ({
      method: route.method,
      path: pathToRegexp(route.path, {
        sensitive: matching.caseSensitive,
        trailing: !matching.strictTrailingSlash,
      }).regexp,
      hosts: route.hosts?.map((host) => (typeof host === 'string' ? pathToRegexp(host).regexp : host)),
      value: route.value,
    }));
  }

  get size(): number {
    return this.entries.length;
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
