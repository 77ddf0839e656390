import { describe, expect, it, jest } from '@jest/globals';
import { pathsMayOverlap } from '../../src/routing/route-paths.js';
import { type PathMatching, RouteTable } from '../../src/routing/route-table.js';
import { pathToRegexpSyntax } from '../../src/nest-internals.js';

const EXPRESS = { caseSensitive: false, ignoreTrailingSlash: true };
const FASTIFY = { caseSensitive: true, ignoreTrailingSlash: false };
const STRICT = { caseSensitive: true, ignoreTrailingSlash: false };
const route = (method: string, path: string, value: string, hosts?: string[]) => ({ method, path, value, hosts });

describe('RouteTable', () => {
  it('returns the first route in order, even when an earlier one sits higher in the prefix index', () => {
    const table = new RouteTable(
      [
        route('GET', '/api/:resource/me', 'param-first'),
        route('GET', '/api/users/me', 'literal'),
        route('GET', '/api/users/:id', 'id'),
      ],
      EXPRESS,
    );
    expect(table.match('GET', '/api/users/me', undefined)).toBe('param-first');
    expect(table.match('GET', '/api/users/7', undefined)).toBe('id');
  });

  it('prefers a deeper literal route when it comes first', () => {
    const table = new RouteTable(
      [route('GET', '/api/users/me', 'literal'), route('GET', '/api/:resource/me', 'param')],
      EXPRESS,
    );
    expect(table.match('GET', '/api/users/me', undefined)).toBe('literal');
    expect(table.match('GET', '/api/orders/me', undefined)).toBe('param');
  });

  it('matches methods exactly, ALL for any, and HEAD with GET routes', () => {
    const table = new RouteTable(
      [route('GET', '/a', 'get'), route('ALL', '/b', 'all'), route('POST', '/a', 'post')],
      EXPRESS,
    );
    expect(table.match('HEAD', '/a', undefined)).toBe('get');
    expect(table.match('POST', '/a', undefined)).toBe('post');
    expect(table.match('DELETE', '/b', undefined)).toBe('all');
    expect(table.match('PUT', '/a', undefined)).toBeUndefined();
  });

  it('compares case and trailing slashes as configured', () => {
    const routes = [route('GET', '/Shop/items', 'shop')];
    const lenient = new RouteTable(routes, EXPRESS);
    expect(['/shop/items', '/SHOP/items/', '/Shop/items'].map((path) => lenient.match('GET', path, undefined))).toEqual(
      ['shop', 'shop', 'shop'],
    );
    const strict = new RouteTable(routes, STRICT);
    expect(['/shop/items', '/Shop/items/', '/Shop/items'].map((path) => strict.match('GET', path, undefined))).toEqual([
      undefined,
      undefined,
      'shop',
    ]);
  });

  it('matches parameters, optional segments and wildcards in either router syntax', () => {
    const table = new RouteTable(
      [
        route('GET', '/files/thumbs{/:id}', 'optional'),
        route('GET', '/legacy/:id?', 'fastify-optional'),
        route('GET', '/files/*', 'fastify-wildcard'),
        route('GET', '/docs/*path', 'wildcard'),
      ],
      EXPRESS,
      pathToRegexpSyntax,
    );
    expect(table.match('GET', '/files/thumbs', undefined)).toBe('optional');
    expect(table.match('GET', '/files/thumbs/7', undefined)).toBe('optional');
    expect(table.match('GET', '/legacy', undefined)).toBe('fastify-optional');
    expect(table.match('GET', '/legacy/3', undefined)).toBe('fastify-optional');
    expect(table.match('GET', '/files/a/b', undefined)).toBe('fastify-wildcard');
    expect(table.match('GET', '/docs/a/b', undefined)).toBe('wildcard');
    expect(table.match('GET', '/docs', undefined)).toBeUndefined();
  });

  it('tells routes apart by host, with host parameters', () => {
    const table = new RouteTable(
      [route('GET', '/t', 'tenant', [':tenant.example.com']), route('GET', '/t', 'any')],
      EXPRESS,
    );
    expect(table.match('GET', '/t', 'acme.example.com')).toBe('tenant');
    expect(table.match('GET', '/t', 'other.test')).toBe('any');
    expect(table.match('GET', '/t', undefined)).toBe('any');
  });

  it('records a path it cannot compile instead of failing', () => {
    const table = new RouteTable([route('GET', '/bad/(unclosed', 'bad'), route('GET', '/ok', 'ok')], EXPRESS);
    expect(table.unsupported.map(({ method, path }) => `${method} ${path}`)).toEqual(['GET /bad/(unclosed']);
    expect(table.match('GET', '/ok', undefined)).toBe('ok');
  });

  it("refuses a parameter with a suffix in its segment where Fastify ignores case but not the suffix's", () => {
    const caseInsensitive = { ...FASTIFY, caseSensitive: false, caseSensitiveParamSuffix: true };
    const routes = [
      route('GET', '/files/:name.png', 'suffix'),
      route('GET', '/ranges/:from-:to', 'two'),
      route('GET', '/pages/:id.1', 'digit'),
      route('GET', '/pages/:id.V1', 'version'),
      route('GET', '/docs{/:name.md}', 'optional'),
      route('GET', '/plain/:name/png', 'segment'),
    ];
    const table = new RouteTable(routes, caseInsensitive);
    expect(table.unsupported.map(({ path, reason }) => `${path} ${reason}`)).toEqual([
      '/files/:name.png parameter suffix',
      '/pages/:id.V1 parameter suffix',
      '/docs{/:name.md} parameter suffix',
    ]);
    // Text that reads the same in any case matches alike both ways.
    expect(table.match('GET', '/RANGES/1-2', undefined)).toBe('two');
    expect(table.match('GET', '/PLAIN/a/PNG', undefined)).toBe('segment');
    // Where the whole path is compared as written, the suffix is too: nothing to refuse.
    expect(new RouteTable(routes, { ...caseInsensitive, caseSensitive: true }).unsupported).toEqual([]);
  });

  it('tells which route paths a request may match both of, for the routes a request can fall through to', () => {
    const [express, strict] = [EXPRESS, STRICT];
    const same = (path: string) => path;
    const overlap = (matching: PathMatching, a: string, b: string) => [
      pathsMayOverlap(a, b, matching, same),
      pathsMayOverlap(b, a, matching, same),
    ];
    expect(overlap(strict, '/shelf/special', '/shelf/:id')).toEqual([true, true]);
    expect(overlap(strict, '/shelf/special', '/shelf/status')).toEqual([false, false]);
    expect(overlap(strict, '/orders', '/orders/status')).toEqual([false, false]);
    expect(overlap(strict, '/orders', '/*rest')).toEqual([true, true]);
    expect(overlap(strict, '/orders/:id', '/orders{/:page}')).toEqual([true, true]);
    expect(overlap(strict, '/Orders', '/orders')).toEqual([false, false]);
    expect(overlap(express, '/Orders', '/orders')).toEqual([true, true]);
    expect(overlap(strict, '/orders/', '/orders')).toEqual([false, false]);
    expect(overlap(express, '/orders/', '/orders')).toEqual([true, true]);
    // Unsure: a path that does not compile may match anything.
    expect(overlap(strict, '/bad/(unclosed', '/orders')).toEqual([true, true]);
  });

  it('skips a route whose parameter is longer than maxParamLength, as find-my-way does, for the next match', () => {
    const table = new RouteTable([route('POST', '/files/:name', 'param'), route('POST', '/files/*rest', 'wildcard')], {
      ...FASTIFY,
      maxParamLength: 5,
    });
    expect(table.match('POST', '/files/abcde', undefined)).toBe('param');
    expect(table.match('POST', '/files/abcdef', undefined)).toBe('wildcard');
    // A wildcard's value has no bound.
    expect(table.match('POST', '/files/abcdef/ghijklmnop', undefined)).toBe('wildcard');
    const optional = new RouteTable([route('GET', '/a{/:b}', 'optional')], { ...FASTIFY, maxParamLength: 2 });
    expect(optional.match('GET', '/a/bb', undefined)).toBe('optional');
    expect(optional.match('GET', '/a/bbb', undefined)).toBeUndefined();
    // An optional group compiles into alternatives, each with its own capture of the parameter: each is bounded.
    const beforeParam = new RouteTable([route('GET', '/a{/b}/:c', 'group first')], { ...FASTIFY, maxParamLength: 2 });
    expect(beforeParam.match('GET', '/a/cc', undefined)).toBe('group first');
    expect(beforeParam.match('GET', '/a/b/cc', undefined)).toBe('group first');
    expect(beforeParam.match('GET', '/a/ccc', undefined)).toBeUndefined();
    expect(beforeParam.match('GET', '/a/b/ccc', undefined)).toBeUndefined();
    // In Fastify's syntax, a parameter followed by an optional one: both forms of the path bound the first.
    const fastifyOptional = new RouteTable(
      [route('GET', '/x/:a/:b?', 'optional last'), route('GET', '/x/*', 'wildcard')],
      { ...FASTIFY, maxParamLength: 2 },
      pathToRegexpSyntax,
    );
    expect(fastifyOptional.match('GET', '/x/aa', undefined)).toBe('optional last');
    expect(fastifyOptional.match('GET', '/x/aa/bb', undefined)).toBe('optional last');
    expect(fastifyOptional.match('GET', '/x/aaa', undefined)).toBe('wildcard');
    expect(fastifyOptional.match('GET', '/x/aaa/bb', undefined)).toBe('wildcard');
  });

  it('finds the right route among 10,000 by looking at a handful', () => {
    const routes = Array.from({ length: 2500 }, (_, i) => [
      route('GET', `/api/c${i}`, `list${i}`),
      route('GET', `/api/c${i}/:id`, `get${i}`),
      route('PUT', `/api/c${i}/:id`, `put${i}`),
      route('POST', `/api/c${i}`, `create${i}`),
    ]).flat();
    const table = new RouteTable(routes, EXPRESS);
    let tested = 0;
    const test = RegExp.prototype.test;
    RegExp.prototype.test = function (this: RegExp, input: string) {
      tested++;
      return test.call(this, input);
    };
    const lookups: Array<{ value: string | undefined; tested: number }> = [];
    try {
      for (const [method, path] of [
        ['PUT', '/api/c2499/42'],
        ['GET', '/api/c0'],
        ['GET', '/api/nothing/here'],
      ]) {
        const before = tested;
        lookups.push({ value: table.match(method, path, undefined), tested: tested - before });
      }
    } finally {
      RegExp.prototype.test = test;
    }
    expect(lookups.map(({ value }) => value)).toEqual(['put2499', 'list0', undefined]);
    // Paths of literal segments and whole parameters: the walk along the request's segments proves the route (the
    // property test holds it to the routes' own regexps), and a path no route's segments lead to has nothing to test.
    expect(tested).toBe(0);
  });

  it('tests the regexp of a route whose segments the walk cannot prove, and only where the path ends', () => {
    const routes = Array.from({ length: 2500 }, (_, i) => [
      route('GET', `/api/c${i}`, `list${i}`),
      route('GET', `/api/c${i}/:name.json`, `json${i}`),
    ]).flat();
    const table = new RouteTable(routes, EXPRESS);
    const test = jest.spyOn(RegExp.prototype, 'test');
    const json = table.match('GET', '/api/c2499/report.json', undefined);
    const tested = test.mock.calls.map(([input]) => input);
    test.mockRestore();
    expect(json).toBe('json2499');
    // `/api/c2499`, closed, is not tested against a path that goes on past it.
    expect(tested).toEqual(['/api/c2499/report.json']);
  });

  describe('with routes whose first segment is a parameter', () => {
    const paramFirst = [route('GET', '/:tenant/users', 'tenant-users'), route('GET', '/:tenant/orders/:id', 'order')];

    it('finds each by its later segments', () => {
      const table = new RouteTable(paramFirst, EXPRESS);
      expect(table.match('GET', '/acme/users', undefined)).toBe('tenant-users');
      expect(table.match('GET', '/acme/orders/7', undefined)).toBe('order');
      expect(table.match('GET', '/acme/orders', undefined)).toBeUndefined();
      expect(table.match('GET', '/acme', undefined)).toBeUndefined();
      expect(table.match('GET', '/acme/users/7', undefined)).toBeUndefined();
    });

    it('lets a literal route declared before them win where both match, and only there', () => {
      const table = new RouteTable([route('GET', '/admin/users', 'admin'), ...paramFirst], EXPRESS);
      expect(table.match('GET', '/admin/users', undefined)).toBe('admin');
      expect(table.match('GET', '/acme/users', undefined)).toBe('tenant-users');
      expect(table.match('GET', '/admin/orders/7', undefined)).toBe('order');
    });

    it('lets them win over a literal route declared after them', () => {
      const table = new RouteTable(
        [...paramFirst, route('GET', '/admin/users', 'admin'), route('GET', '/admin/orders/:id', 'admin-order')],
        EXPRESS,
      );
      expect(table.match('GET', '/admin/users', undefined)).toBe('tenant-users');
      expect(table.match('GET', '/admin/orders/7', undefined)).toBe('order');
    });
  });

  it('decides by order between a literal and a parameter sibling that both match, at any depth', () => {
    const literalFirst = [
      route('GET', '/api/v1/:resource', 'literal-first'),
      route('GET', '/api/:version/items', 'param-second'),
    ];
    const paramFirst = [
      route('GET', '/api/:version/items', 'param-first'),
      route('GET', '/api/v1/:resource', 'literal-second'),
    ];
    for (const matching of [EXPRESS, STRICT]) {
      expect(new RouteTable(literalFirst, matching).match('GET', '/api/v1/items', undefined)).toBe('literal-first');
      expect(new RouteTable(literalFirst, matching).match('GET', '/api/v2/items', undefined)).toBe('param-second');
      expect(new RouteTable(paramFirst, matching).match('GET', '/api/v1/items', undefined)).toBe('param-first');
      expect(new RouteTable(paramFirst, matching).match('GET', '/api/v1/users', undefined)).toBe('literal-second');
    }
  });

  it('matches wildcards after a parameter, in order with the routes beside them', () => {
    const table = new RouteTable(
      [
        route('GET', '/:tenant/files/*path', 'files'),
        route('GET', '/:tenant/files/:name', 'shadowed'),
        route('GET', '/:tenant/docs/:page', 'page'),
        route('GET', '/:tenant/{*rest}', 'rest'),
      ],
      EXPRESS,
    );
    expect(table.match('GET', '/acme/files/a', undefined)).toBe('files');
    expect(table.match('GET', '/acme/files/a/b', undefined)).toBe('files');
    expect(table.match('GET', '/acme/docs/intro', undefined)).toBe('page');
    expect(table.match('GET', '/acme/docs/intro/more', undefined)).toBe('rest');
    expect(table.match('GET', '/acme/files', undefined)).toBe('rest');
    expect(table.match('GET', '/acme/', undefined)).toBe('rest');
    expect(table.match('GET', '/acme', undefined)).toBeUndefined();
  });

  it('matches optional segments at the end, in the middle and nested, in order with the routes beside them', () => {
    const table = new RouteTable(
      [
        route('GET', '/:tenant/items{/:id}', 'items'),
        route('GET', '/:tenant/items/new', 'shadowed'),
        route('GET', '/shop{/:tenant}/cart', 'cart'),
        route('GET', '/:tenant/archive{/:year{/:month}}', 'archive'),
        route('GET', '/:tenant/legacy/:id?', 'fastify-optional'),
        route('GET', '/:tenant/cart', 'tenant-cart'),
      ],
      EXPRESS,
      pathToRegexpSyntax,
    );
    expect(table.match('GET', '/acme/items', undefined)).toBe('items');
    expect(table.match('GET', '/acme/items/new', undefined)).toBe('items');
    expect(table.match('GET', '/shop/cart', undefined)).toBe('cart');
    expect(table.match('GET', '/shop/acme/cart', undefined)).toBe('cart');
    expect(table.match('GET', '/acme/cart', undefined)).toBe('tenant-cart');
    expect(table.match('GET', '/acme/archive', undefined)).toBe('archive');
    expect(table.match('GET', '/acme/archive/2024/05', undefined)).toBe('archive');
    expect(table.match('GET', '/acme/archive/2024/05/01', undefined)).toBeUndefined();
    expect(table.match('GET', '/acme/legacy', undefined)).toBe('fastify-optional');
    expect(table.match('GET', '/acme/legacy/3', undefined)).toBe('fastify-optional');
    const newFirst = new RouteTable(
      [route('GET', '/:tenant/items/new', 'new'), route('GET', '/:tenant/items{/:id}', 'items')],
      EXPRESS,
    );
    expect(newFirst.match('GET', '/acme/items/new', undefined)).toBe('new');
    expect(newFirst.match('GET', '/acme/items/7', undefined)).toBe('items');
  });

  it('compares trailing slashes as configured after a parameter, and never takes an empty segment for one', () => {
    const routes = [route('GET', '/:tenant/users', 'users'), route('GET', '/:tenant/team/', 'team')];
    const lenient = new RouteTable(routes, EXPRESS);
    const strict = new RouteTable(routes, STRICT);
    const paths = [
      '/acme/users',
      '/acme/users/',
      '/acme/users//',
      '/acme/team',
      '/acme/team/',
      '//users',
      '/acme//users',
    ];
    expect(paths.map((path) => lenient.match('GET', path, undefined))).toEqual([
      'users',
      'users',
      undefined,
      undefined,
      'team',
      undefined,
      undefined,
    ]);
    expect(paths.map((path) => strict.match('GET', path, undefined))).toEqual([
      'users',
      undefined,
      undefined,
      undefined,
      'team',
      undefined,
      undefined,
    ]);
  });

  it('compares the case of literal segments after a parameter as configured', () => {
    const routes = [route('GET', '/:tenant/Users', 'users'), route('GET', '/:tenant/ΟΔΟΣ', 'greek')];
    const lenient = new RouteTable(routes, EXPRESS);
    expect(['/acme/users', '/ACME/USERS', '/acme/Users'].map((path) => lenient.match('GET', path, undefined))).toEqual([
      'users',
      'users',
      'users',
    ]);
    // The regexp's case-insensitive flag takes σ and ς for Σ, which toLowerCase does not tell apart from context.
    expect(['/acme/οδοσ', '/acme/οδος', '/acme/ΟΔΟΣ'].map((path) => lenient.match('GET', path, undefined))).toEqual([
      'greek',
      'greek',
      'greek',
    ]);
    const strict = new RouteTable(routes, STRICT);
    expect(['/acme/users', '/ACME/Users', '/acme/οδος'].map((path) => strict.match('GET', path, undefined))).toEqual([
      undefined,
      'users',
      undefined,
    ]);
  });

  it('answers HEAD with GET routes and any method with ALL routes behind a parameter', () => {
    const table = new RouteTable(
      [
        route('POST', '/:tenant/users', 'create'),
        route('GET', '/:tenant/users', 'list'),
        route('ALL', '/:tenant/*rest', 'any'),
      ],
      EXPRESS,
    );
    expect(table.match('HEAD', '/acme/users', undefined)).toBe('list');
    expect(table.match('POST', '/acme/users', undefined)).toBe('create');
    expect(table.match('DELETE', '/acme/users', undefined)).toBe('any');
    expect(table.match('HEAD', '/acme/x/y', undefined)).toBe('any');
  });

  it('tells host-bound routes behind a parameter apart by host', () => {
    const table = new RouteTable(
      [route('GET', '/:tenant/users', 'api', ['api.example.com']), route('GET', '/:tenant/users', 'any')],
      EXPRESS,
    );
    expect(table.hostBound).toBe(true);
    expect(table.match('GET', '/acme/users', 'api.example.com')).toBe('api');
    expect(table.match('GET', '/acme/users', 'www.example.com')).toBe('any');
    expect(table.match('GET', '/acme/users', undefined)).toBe('any');
    expect(new RouteTable([route('GET', '/:tenant/users', 'any')], EXPRESS).hostBound).toBe(false);
  });

  it('finds a route among 10,000 that start with a parameter by testing a handful', () => {
    const routes = Array.from({ length: 10_000 }, (_, i) => [
      route('GET', `/:tenant/r${i}`, `r${i}`),
      route('GET', `/:tenant/r${i}/:id{/:part}`, `r${i}-id`),
    ]).flat();
    const table = new RouteTable([...routes, route('GET', '/:tenant/{*rest}', 'rest')], EXPRESS);
    const paths = ['/acme/r9999', '/acme/r0/7/cover', '/acme/R5000/', '/acme/nothing/here', '/acme', '//r5'];
    const test = jest.spyOn(RegExp.prototype, 'test');
    const lookups = paths.map((path) => {
      const before = test.mock.calls.length;
      return { value: table.match('GET', path, undefined), tested: test.mock.calls.length - before };
    });
    test.mockRestore();
    expect(lookups.map(({ value }) => value)).toEqual(['r9999', 'r0-id', 'r5000', 'rest', undefined, undefined]);
    // At most the catch-all, the route of the request's second segment, and that of its third.
    for (const { tested } of lookups) expect(tested).toBeLessThanOrEqual(3);
    // The catch-all's wildcard spans segments: its regexp decides, tested where the walk passes it.
    expect(lookups[3].tested).toBe(1);
    // An empty segment is no parameter value, so no route is worth testing.
    expect(lookups[5].tested).toBe(0);
  });
});
