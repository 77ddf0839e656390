import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { match, pathToRegexp } from 'path-to-regexp';
import { type PathMatching, type RouteDefinition, RouteTable } from '../../src/routing/route-table.js';

/**
 * Route path pieces in path-to-regexp 8 syntax, left alone by the table's Fastify conversion (`$` is numbered into a
 * parameter name), each with request path pieces that match it or nearly do.
 */
const PIECES: Record<string, string[]> = {
  '/a': ['/a', '/A', '/b'],
  '/B': ['/B', '/b'],
  '/ab': ['/ab', '/aB', '/a'],
  '/k': ['/k', '/K', '/\u212A'],
  '/': ['/', ''],
  '/:$': ['/x', '/a', '', '/xyz'],
  '/:$.x': ['/y.x', '/.x', '/y'],
  '/x-:$': ['/x-y', '/x-', '/X-y'],
  '{/:$}': ['', '/z'],
  '{/b}': ['', '/b', '/B'],
  '{/:$/a}': ['', '/z/a', '/z'],
  '/*$': ['/w', '/w/vvv', ''],
  '/{*$}': ['', '/w/v', '/'],
  '/ΟΔΟΣ': ['/οδοσ', '/οδος', '/ΟΔΟΣ'],
};

interface Route extends RouteDefinition<number> {
  pieces: string[];
}

/** A request as the table is asked about it. */
interface Probe {
  method: string;
  path: string;
  hostname: string | undefined;
}

interface RequestShape extends Probe {
  near: { route: number; choices: number[]; slash: boolean } | undefined;
}

const routeDefinition = fc.record({
  method: fc.constantFrom('GET', 'POST', 'ALL'),
  pieces: fc.array(fc.constantFrom(...Object.keys(PIECES)), { minLength: 1, maxLength: 4 }),
  hosts: fc.option(fc.constant([':tenant.example.com']), { nil: undefined, freq: 2 }),
});

/** A request shaped after one of the routes (`near`), so that many match one route or several, or any path. */
const requestShape: fc.Arbitrary<RequestShape> = fc.record({
  method: fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE'),
  hostname: fc.constantFrom('acme.example.com', 'example.org', undefined),
  near: fc.option(
    fc.record({ route: fc.nat(), choices: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }), slash: fc.boolean() }),
    {
      nil: undefined,
      freq: 4,
    },
  ),
  path: fc
    .array(fc.constantFrom(...Object.values(PIECES).flat()), { maxLength: 5 })
    .map((pieces) => pieces.join('') || '/'),
});

function requestFor(routes: Route[], { method, hostname, near, path }: RequestShape): Probe {
  if (near === undefined) return { method, hostname, path };
  const { pieces } = routes[near.route % routes.length];
  const nearPath = pieces.map((piece, i) => PIECES[piece][near.choices[i] % PIECES[piece].length]).join('') || '/';
  return { method, hostname, path: nearPath + (near.slash ? '/' : '') };
}

/** The first route in order that matches, testing every route: what the index must agree with. */
function linearMatch(routes: Route[], matching: PathMatching, { method, path, hostname }: Probe): number | undefined {
  return routes.find((route) => {
    let compiled: ReturnType<typeof pathToRegexp>;
    try {
      compiled = pathToRegexp(route.path, {
        sensitive: matching.caseSensitive,
        trailing: matching.ignoreTrailingSlash,
      });
    } catch {
      return false;
    }
    const values = compiled.regexp.exec(path);
    // A parameter longer than the bound fails the route; a wildcard has no bound.
    const withinBound = (value: string | undefined, i: number) =>
      compiled.keys[i].type !== 'param' || (value ?? '').length <= (matching.maxParamLength ?? Infinity);
    return (
      (route.method === method || route.method === 'ALL' || (method === 'HEAD' && route.method === 'GET')) &&
      values !== null &&
      values.slice(1).every(withinBound) &&
      (route.hosts === undefined || route.hosts.some((host) => match(host as string)(hostname ?? '') !== false))
    );
  })?.value;
}

describe('RouteTable properties', () => {
  it('finds the same route as testing every route in order', () => {
    let matched = 0;
    let contested = 0;
    fc.assert(
      fc.property(
        fc.array(routeDefinition, { minLength: 1, maxLength: 12 }),
        fc.record({
          caseSensitive: fc.boolean(),
          ignoreTrailingSlash: fc.boolean(),
          maxParamLength: fc.option(fc.constantFrom(1, 2), { nil: undefined }),
        }),
        fc.array(requestShape, { minLength: 1, maxLength: 10 }),
        (definitions, matching, requests) => {
          const routes = definitions.map((definition, value) => {
            let names = 0;
            return { ...definition, path: definition.pieces.join('').replace(/\$/g, () => `p${names++}`), value };
          });
          const table = new RouteTable(routes, matching);
          for (const request of requests.map((each) => requestFor(routes, each))) {
            const expected = linearMatch(routes, matching, request);
            if (expected !== undefined) matched++;
            if (expected !== undefined && linearMatch(routes.slice(expected + 1), matching, request) !== undefined)
              contested++;
            expect(table.match(request.method, request.path, request.hostname)).toBe(expected);
          }
        },
      ),
      { numRuns: 1000 },
    );
    // The property was exercised, often with requests that several routes match, where order decides.
    expect(matched).toBeGreaterThan(1000);
    expect(contested).toBeGreaterThan(150);
  });
});
