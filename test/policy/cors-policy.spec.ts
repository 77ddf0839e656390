import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import type { CorsOptions } from '../../src/cors-options.interface.js';
import { CorsConfigError } from '../../src/policy/cors-config.error.js';
import { CorsPolicy, type PreflightRequest } from '../../src/policy/cors-policy.js';
import { mergePolicyLevels } from '../../src/policy/policy-levels.js';
import { OriginTimeoutError } from '../../src/policy/origin-function.js';

/** The matcher only hands the request on to a function origin. */
const nodeRequest = {} as IncomingMessage;

const APP = 'https://app.example.com';

function preflight(policy: CorsPolicy, overrides: Partial<PreflightRequest> = {}) {
  const origin = overrides.origin ?? APP;
  const request = { origin, requestMethod: 'GET', requestHeaders: undefined, privateNetwork: false, ...overrides };
  return policy.resolvePreflight(
    request,
    policy.originsFor(request.requestMethod).matches(origin, nodeRequest) === true,
  );
}

function headersOf(answer: ReturnType<typeof preflight>): Record<string, string> {
  if (!answer.accepted) throw new Error(`expected an accepted preflight, got: ${answer.reason}`);
  return Object.fromEntries(answer.headers);
}

describe('CorsPolicy defaults (restrictive, as Starlette)', () => {
  const policy = CorsPolicy.compile({}, 'forRoot');

  it('allows no origin at all', () => {
    expect(policy.origins.matches(APP, nodeRequest)).toBe(false);
    expect(preflight(policy)).toEqual({ accepted: false, reason: 'origin not allowed' });
  });

  it('allows GET, and HEAD with it, and nothing else', () => {
    expect(policy.allowsMethod('GET')).toBe(true);
    expect(policy.allowsMethod('HEAD')).toBe(true);
    expect(policy.allowsMethod('POST')).toBe(false);
    expect(policy.allowsMethod('OPTIONS')).toBe(false);
  });

  it('varies on Origin, enforces unsafe methods only, sends no credentials and does not pass preflights on', () => {
    expect(policy.vary).toEqual(['Origin']);
    expect(policy.preflightVary).toEqual(['Origin', 'Access-Control-Request-Method', 'Access-Control-Request-Headers']);
    expect(policy.disallowedOutcome('POST')).toBe('refused');
    expect(policy.disallowedOutcome('DELETE')).toBe('refused');
    expect(policy.disallowedOutcome('GET')).toBe('withheld');
    expect(policy.disallowedOutcome('HEAD')).toBe('withheld');
    const open = CorsPolicy.compile({ origin: [APP] }, 'forRoot');
    expect(open.headersForActual(APP, 'GET')).toEqual([['access-control-allow-origin', APP]]);
    expect(preflight(open)).toMatchObject({ accepted: true, continue: false });
  });

  it('answers an accepted preflight with the safelisted headers, GET/HEAD and max-age 600', () => {
    const open = CorsPolicy.compile({ origin: [APP] }, 'forRoot');
    const answer = preflight(open);
    expect(answer).toMatchObject({ accepted: true, status: 204 });
    expect(headersOf(answer)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, HEAD',
      'access-control-allow-headers': 'accept, accept-language, content-language, content-type',
      'access-control-max-age': '600',
    });
  });
});

describe('CorsPolicy preflight decisions', () => {
  const policy = CorsPolicy.compile(
    {
      origin: [APP],
      credentials: true,
      methods: ['GET', 'POST'],
      allowedHeaders: ['Authorization', 'X-Trace'],
      maxAge: 60,
    },
    'forRoot',
  );

  it('accepts an allowed origin, method and headers with every header of the answer', () => {
    const answer = preflight(policy, { requestMethod: 'POST', requestHeaders: 'authorization, content-type' });
    expect(headersOf(answer)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST, HEAD',
      'access-control-allow-headers': 'accept, accept-language, content-language, content-type, authorization, x-trace',
      'access-control-max-age': '60',
    });
  });

  it.each([
    ['an origin not listed', { origin: 'https://evil.example.com' }, 'origin not allowed'],
    ['a method not listed', { requestMethod: 'DELETE' }, 'method not allowed'],
    ['a method in the wrong case', { requestMethod: 'post' }, 'method not allowed'],
    ['a method that is not a token', { requestMethod: 'PO ST' }, 'method not allowed'],
    ['a header not listed', { requestHeaders: 'authorization, x-other' }, 'header not allowed'],
    ['a header item that is not a token', { requestHeaders: 'authorization, x(bad)' }, 'header not allowed'],
    ['a header with a CR LF in it', { requestHeaders: 'authorization\r\nx-injected: 1' }, 'header not allowed'],
  ])('rejects %s', (_case, request, reason) => {
    expect(preflight(policy, request as Partial<PreflightRequest>)).toEqual({ accepted: false, reason });
  });

  it.each([
    ['upper case', 'AUTHORIZATION'],
    ['odd spacing', '  authorization ,\tx-trace  '],
    ['duplicates', 'authorization, Authorization, x-trace'],
    ['empty items', ',authorization,, ,x-trace,'],
    ['several header lines', ['authorization', 'x-trace']],
    ['no header at all', ''],
  ])('reads Access-Control-Request-Headers with %s', (_case, requestHeaders) => {
    expect(preflight(policy, { requestHeaders }).accepted).toBe(true);
  });

  it('always allows the safelisted headers, whatever their case', () => {
    expect(
      preflight(policy, { requestHeaders: 'Content-Type, ACCEPT, accept-language, Content-Language' }).accepted,
    ).toBe(true);
  });

  it("mirrors the validated method and headers for '*'", () => {
    const open = CorsPolicy.compile({ origin: [APP], methods: '*', allowedHeaders: '*' }, 'forRoot');
    const headers = headersOf(preflight(open, { requestMethod: 'PURGE', requestHeaders: 'X-One, x-two, x-one' }));
    expect(headers['access-control-allow-methods']).toBe('PURGE');
    expect(headers['access-control-allow-headers']).toBe(
      'accept, accept-language, content-language, content-type, x-one, x-two',
    );
    expect(preflight(open, { requestHeaders: 'x-one, bad header' })).toEqual({
      accepted: false,
      reason: 'header not allowed',
    });
  });

  it("answers '*' origins with '*' and does not vary on Origin", () => {
    const open = CorsPolicy.compile({ origin: '*' }, 'forRoot');
    expect(headersOf(preflight(open, { origin: 'https://anyone.test' }))['access-control-allow-origin']).toBe('*');
    expect(open.headersForActual('https://anyone.test', 'GET')).toEqual([['access-control-allow-origin', '*']]);
    expect(open.vary).toEqual([]);
    expect(open.preflightVary).toEqual(['Access-Control-Request-Method', 'Access-Control-Request-Headers']);
  });

  it('uses optionsSuccessStatus for accepted preflights', () => {
    const ok200 = CorsPolicy.compile({ origin: [APP], optionsSuccessStatus: 200 }, 'forRoot');
    expect(preflight(ok200)).toMatchObject({ accepted: true, status: 200 });
  });

  it('allows private network access only when enabled and asked for', () => {
    const pna = CorsPolicy.compile({ origin: [APP], allowPrivateNetwork: true }, 'forRoot');
    expect(headersOf(preflight(pna, { privateNetwork: true }))['access-control-allow-private-network']).toBe('true');
    expect(
      headersOf(preflight(pna, { privateNetwork: false }))['access-control-allow-private-network'],
    ).toBeUndefined();
    const plain = CorsPolicy.compile({ origin: [APP] }, 'forRoot');
    expect(
      headersOf(preflight(plain, { privateNetwork: true }))['access-control-allow-private-network'],
    ).toBeUndefined();
  });
});

describe('CorsPolicy actual-request headers', () => {
  it('echoes the origin byte for byte, with credentials and exposed headers', () => {
    const policy = CorsPolicy.compile(
      { origin: [APP], credentials: true, exposedHeaders: ['X-Request-Id', 'X-Total'] },
      'forRoot',
    );
    expect(policy.headersForActual(APP, 'GET')).toEqual([
      ['access-control-allow-origin', APP],
      ['access-control-allow-credentials', 'true'],
      ['access-control-expose-headers', 'X-Request-Id, X-Total'],
    ]);
  });

  it("enforces every method with 'all' and none with false", () => {
    const all = CorsPolicy.compile({ enforce: 'all' }, 'forRoot');
    const none = CorsPolicy.compile({ enforce: false }, 'forRoot');
    expect(['GET', 'HEAD', 'POST'].map((method) => all.disallowedOutcome(method))).toEqual([
      'refused',
      'refused',
      'refused',
    ]);
    expect(['GET', 'POST', 'DELETE'].map((method) => none.disallowedOutcome(method))).toEqual([
      'withheld',
      'withheld',
      'withheld',
    ]);
  });

  it('reports instead of refusing with reportOnly, where it would enforce', () => {
    const reporting = CorsPolicy.compile({ enforce: 'unsafe', reportOnly: true }, 'forRoot');
    expect(['GET', 'POST'].map((method) => reporting.disallowedOutcome(method))).toEqual(['withheld', 'reported']);
    expect(() => CorsPolicy.compile({ reportOnly: 'yes' as never }, 'forRoot')).toThrow(
      "'reportOnly' must be true or false",
    );
  });
});

describe('mergePolicyLevels', () => {
  it('resolves field by field, the most specific level winning, and says where each field came from', () => {
    const merged = mergePolicyLevels([
      { source: 'forRoot', options: { origin: [APP], credentials: true, exposedHeaders: ['X-Request-Id'] } },
      { source: 'PublicController', options: { origin: '*', credentials: false } },
      { source: 'PublicController.count', options: { exposedHeaders: ['X-Total-Count'] } },
    ]);
    expect(merged.options).toEqual({ origin: '*', credentials: false, exposedHeaders: ['X-Total-Count'] });
    expect(merged.sources).toEqual({
      origin: 'PublicController',
      credentials: 'PublicController',
      exposedHeaders: 'PublicController.count',
    });
  });

  it('closes an endpoint with false, which a more specific level can reopen', () => {
    const closed = mergePolicyLevels([
      { source: 'forRoot', options: { origin: [APP], methods: ['POST'] } },
      { source: 'AdminController', options: false },
    ]);
    expect(closed).toEqual({
      options: { origin: [], methods: ['POST'] },
      sources: { origin: 'AdminController', methods: 'forRoot' },
    });
    const reopened = mergePolicyLevels([
      { source: 'forRoot', options: { origin: [APP] } },
      { source: 'AdminController', options: false },
      { source: 'AdminController.status', options: { origin: ['https://b.test'] } },
    ]);
    expect(reopened.options.origin).toEqual(['https://b.test']);
    expect(reopened.sources.origin).toBe('AdminController.status');
  });

  it('skips levels without options', () => {
    expect(
      mergePolicyLevels([
        { source: 'forRoot', options: { maxAge: 60 } },
        { source: 'UsersController', options: undefined },
      ]),
    ).toEqual({
      options: { maxAge: 60 },
      sources: { maxAge: 'forRoot' },
    });
  });
});

describe('CorsConfigError at compile time (README: Startup validation)', () => {
  it.each<[string, CorsOptions, string]>([
    ["credentials with origin '*'", { origin: '*', credentials: true }, 'credentials cannot be used with'],
    ['an origin with a path', { origin: ['https://a.example.com/app'] }, 'has a path'],
    ['an origin with a trailing slash', { origin: ['https://a.example.com/'] }, 'trailing slash'],
    ['an origin with the default https port', { origin: ['https://a.example.com:443'] }, 'default port'],
    ['an origin with the default http port', { origin: ['http://a.example.com:80'] }, 'default port'],
    ['an origin in upper case', { origin: ['https://App.example.com'] }, 'upper case'],
    ['an origin with whitespace', { origin: [' https://a.example.com'] }, 'whitespace'],
    ['an origin with userinfo', { origin: ['https://user@a.example.com'] }, 'userinfo'],
    ['an origin that is not ASCII', { origin: ['https://bücher.example'] }, 'punycode'],
    ['an origin without a scheme', { origin: ['a.example.com'] }, 'scheme://host'],
    ["'*' inside an array", { origin: ['*'] }, 'must stand alone'],
    ['an unsupported pattern', { origin: ['https://a.*.example.com'] }, 'is not supported'],
    ['a pattern over a top-level domain', { origin: ['https://*.com'] }, 'top-level domain'],
    ['an unanchored RegExp', { origin: [/example\.com$/] }, 'not anchored'],
    ['a RegExp anchored only at the start', { origin: [/^https:\/\/example\.com/] }, 'not anchored'],
    ['a RegExp with top-level alternation', { origin: [/^https:\/\/a\.com|b\.com$/] }, 'not anchored'],
    ['a RegExp whose final $ is escaped', { origin: [/^https:\/\/a\.com\$/] }, 'not anchored'],
    ['a multiline RegExp', { origin: [/^https:\/\/a\.com$/m] }, 'not anchored'],
    ['a global RegExp', { origin: [/^https:\/\/a\.com$/g] }, 'g or y flag'],
    ['a sticky RegExp', { origin: [/^https:\/\/a\.com$/y] }, 'g or y flag'],
    ['a catastrophic RegExp', { origin: [/^https:\/\/(a+)+\.example\.com$/] }, 'can backtrack exponentially'],
    ['a RegExp with an unescaped dot', { origin: [/^https:\/\/app.example\.com$/] }, 'look-alike gap'],
    ['a non-string origin entry', { origin: [42 as never] }, 'strings or RegExps'],
    ['an empty method', { methods: [''] }, 'not a valid name'],
    ['a method with a space', { methods: ['GET POST'] }, 'not a valid name'],
    ['a lower-case standard method', { methods: ['get'] }, "browsers send 'GET'"],
    ['methods that are not an array', { methods: 'GET' as never }, "array of names or '*'"],
    ['an empty allowed header', { allowedHeaders: [''] }, 'not a valid name'],
    ['an allowed header with a colon', { allowedHeaders: ['X-Bad:'] }, 'not a valid name'],
    ['an exposed header that is not a token', { exposedHeaders: ['X Total'] }, 'not a valid name'],
    ["'*' inside methods", { methods: ['*'] }, "write methods: '*' to allow every method"],
    ["'*' among other methods", { methods: ['GET', '*'] }, "write methods: '*'"],
    ["'*' inside allowedHeaders", { allowedHeaders: ['*'] }, "write allowedHeaders: '*' to allow every request header"],
    [
      "'*' inside exposedHeaders, with credentials",
      { origin: [APP], credentials: true, exposedHeaders: ['*'] },
      'list the names of the headers to expose',
    ],
    [
      "'*' inside exposedHeaders, without credentials",
      { exposedHeaders: ['X-Request-Id', '*'] },
      'list the names of the headers to expose',
    ],
    ["exposedHeaders '*'", { exposedHeaders: '*' as never }, 'list the names of the headers to expose'],
    [
      'exposedHeaders that are not an array',
      { exposedHeaders: 'X-Total' as never },
      "'exposedHeaders' must be an array of names",
    ],
    ['a negative maxAge', { maxAge: -1 }, 'maxAge'],
    ['a fractional maxAge', { maxAge: 1.5 }, 'maxAge'],
    ['a negative originCacheTtl', { originCacheTtl: -5 }, 'originCacheTtl'],
    [
      'originTimeout 0',
      { originTimeout: 0 },
      "'originTimeout' must be a whole number of milliseconds from 1 to 2147483647",
    ],
    ['a negative originTimeout', { originTimeout: -1 }, "'originTimeout' must be"],
    ['a fractional originTimeout', { originTimeout: 1.5 }, "'originTimeout' must be"],
    ['an originTimeout longer than a timer allows', { originTimeout: 2 ** 31 }, "'originTimeout' must be"],
    ['an originTimeout in a string', { originTimeout: '1000' as never }, "'originTimeout' must be"],
    [
      'an originCacheKey that is not a function',
      { origin: () => true, originCacheKey: 'host' as never },
      "'originCacheKey' must be a function",
    ],
    ['optionsSuccessStatus 302', { optionsSuccessStatus: 302 }, '2xx'],
    ['optionsSuccessStatus 199', { optionsSuccessStatus: 199 }, '2xx'],
    ['a non-boolean credentials', { credentials: 'yes' as never }, "'credentials' must be true or false"],
    ['an unknown enforce mode', { enforce: 'strict' as never }, "'enforce' must be"],
    ['an unknown option (typo)', { allowedHeader: ['X'] } as never, "unknown option 'allowedHeader'"],
  ])('rejects %s', (_case, options, message) => {
    let error: unknown;
    try {
      CorsPolicy.compile(options, 'UsersController.create');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CorsConfigError);
    expect((error as Error).message).toContain('Invalid CORS configuration in UsersController.create: ');
    expect((error as Error).message).toContain(message);
  });

  /** `origin` allows each of `allowed` and none of `denied`. */
  const admits = (policy: CorsPolicy, allowed: string[], denied: string[], request = nodeRequest) => {
    expect(allowed.map((origin) => policy.origins.matches(origin, request))).toEqual(allowed.map(() => true));
    expect(denied.map((origin) => policy.origins.matches(origin, request))).toEqual(denied.map(() => false));
  };
  const answerAfter = (ms: number) => () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), ms));
  const withHost = (host: string) => ({ headers: { host } }) as unknown as IncomingMessage;

  // Each accepted configuration also does what it says, compiled.
  it.each<[string, CorsOptions, (policy: CorsPolicy) => void | Promise<void>]>([
    [
      'exact origins, null and IPv6',
      { origin: ['https://a.example.com', 'http://localhost:3000', 'null', 'http://[::1]:8080'] },
      (policy) =>
        admits(
          policy,
          ['https://a.example.com', 'http://localhost:3000', 'null', 'http://[::1]:8080'],
          ['https://b.example.com', 'http://localhost:3001', 'http://[::1]:8081', 'http://[::2]:8080'],
        ),
    ],
    [
      'patterns',
      { origin: ['https://*.example.com', 'http://localhost:*', 'https://*.example.org:8443'] },
      (policy) =>
        admits(
          policy,
          [
            'https://app.example.com',
            'https://a.b.example.com',
            'http://localhost:5173',
            'http://localhost',
            'https://x.example.org:8443',
          ],
          [
            'https://example.com',
            'https://evilexample.com',
            'https://localhost:5173',
            'https://x.example.org',
            'https://example.org:8443',
          ],
        ),
    ],
    [
      'an anchored, safe RegExp',
      { origin: [/^https:\/\/(app|admin)\.example\.com$/i] },
      (policy) =>
        admits(
          policy,
          ['https://app.example.com', 'https://admin.example.com'],
          ['https://api.example.com', 'https://app.example.com.evil.com'],
        ),
    ],
    // The function is asked for well-formed origins only: never for 'null', which only a list can allow.
    [
      'a function',
      { origin: () => true },
      (policy) =>
        admits(
          policy,
          ['https://any.example', 'http://localhost:3000'],
          ['null', 'https://any.example/', 'HTTPS://ANY.EXAMPLE'],
        ),
    ],
    [
      "'*' without credentials",
      { origin: '*', writeOrigin: '*', methods: '*', allowedHeaders: '*' },
      (policy) => {
        expect(
          headersOf(
            preflight(policy, { origin: 'https://any.example', requestMethod: 'PURGE', requestHeaders: 'X-Custom' }),
          ),
        ).toEqual({
          'access-control-allow-origin': '*',
          'access-control-allow-methods': 'PURGE',
          'access-control-allow-headers': 'accept, accept-language, content-language, content-type, x-custom',
          'access-control-max-age': '600',
        });
        expect(policy.headersForActual('https://any.example', 'PURGE')).toEqual([['access-control-allow-origin', '*']]);
      },
    ],
    [
      'custom methods',
      { methods: ['PATCH', 'PURGE', 'patch'] },
      (policy) =>
        expect(
          ['PATCH', 'PURGE', 'patch', 'GET', 'HEAD', 'Patch'].map((method) => policy.allowsMethod(method)),
        ).toEqual([true, true, true, false, false, false]),
    ],
    [
      'maxAge 0 and status 200',
      { origin: [APP], maxAge: 0, optionsSuccessStatus: 200 },
      (policy) => {
        const answer = preflight(policy);
        expect(answer).toMatchObject({ accepted: true, status: 200 });
        expect(headersOf(answer)['access-control-max-age']).toBe('0');
      },
    ],
    [
      'the shortest originTimeout',
      { origin: answerAfter(50), originTimeout: 1 },
      async (policy) => {
        await expect(Promise.resolve(policy.origins.matches(APP, nodeRequest))).rejects.toBeInstanceOf(
          OriginTimeoutError,
        );
      },
    ],
    [
      'the longest originTimeout a timer allows',
      { origin: answerAfter(20), originTimeout: 2 ** 31 - 1 },
      async (policy) => {
        await expect(Promise.resolve(policy.origins.matches(APP, nodeRequest))).resolves.toBe(true);
      },
    ],
    [
      'a function that reads the request, with its originCacheKey',
      {
        origin: (_origin, req) => req.headers.host === 'a.test',
        originCacheKey: (_origin, req) => req.headers.host ?? '',
      },
      (policy) => {
        admits(policy, [APP], [], withHost('a.test'));
        admits(policy, [], [APP], withHost('b.test'));
      },
    ],
  ])('accepts %s', async (_case, options, check) => {
    expect(() => CorsPolicy.compile(options, 'forRoot')).not.toThrow();
    await check(CorsPolicy.compile(options, 'forRoot'));
  });
});
