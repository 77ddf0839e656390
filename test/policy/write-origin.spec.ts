import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import type { CorsOptions } from '../../src/cors-options.interface.js';
import { CorsConfigError } from '../../src/policy/cors-config.error.js';
import { CorsPolicy } from '../../src/policy/cors-policy.js';
import { mergePolicyLevels } from '../../src/policy/policy-levels.js';

/** The matcher only hands the request on to a function origin. */
const nodeRequest = {} as IncomingMessage;

const APP = 'https://app.example.com';
const OTHER = 'https://other.example.com';
const PARTNER = 'https://partner.example.net';

function problemOf(options: CorsOptions, location = 'forRoot', sources = {}): string {
  try {
    CorsPolicy.compile(options, location, sources);
  } catch (error) {
    expect(error).toBeInstanceOf(CorsConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a CorsConfigError');
}

describe('writeOrigin: who may send writes, apart from who may read', () => {
  it('defaults to the very matcher of origin, so a policy without it decides and caches as before', () => {
    const policy = CorsPolicy.compile({ origin: [APP], methods: ['GET', 'POST'] }, 'forRoot');
    expect(policy.writes).toBe(policy.origins);
    expect(policy.originsFor('POST')).toBe(policy.originsFor('GET'));
    expect(policy.writeVary).toEqual(policy.vary);
  });

  it('decides unsafe methods, actual or announced, and leaves GET, HEAD and OPTIONS to origin', () => {
    const policy = CorsPolicy.compile({ origin: [APP, PARTNER], writeOrigin: [APP], methods: '*' }, 'forRoot');
    for (const method of ['GET', 'HEAD', 'OPTIONS'])
      expect(policy.originsFor(method).matches(PARTNER, nodeRequest)).toBe(true);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'PURGE']) {
      expect(policy.originsFor(method).matches(PARTNER, nodeRequest)).toBe(false);
      expect(policy.originsFor(method).matches(APP, nodeRequest)).toBe(true);
    }
    const announced = (method: string, origin: string) =>
      policy.resolvePreflight(
        { origin, requestMethod: method, requestHeaders: undefined, privateNetwork: false },
        policy.originsFor(method).matches(origin, nodeRequest) === true,
      );
    expect(announced('PUT', PARTNER)).toEqual({ accepted: false, reason: 'origin not allowed' });
    expect(announced('PUT', APP)).toMatchObject({ accepted: true });
  });

  it("answers an allowed write under origin '*' with its own origin, and varies writes and preflights on Origin", () => {
    const policy = CorsPolicy.compile({ origin: '*', writeOrigin: [APP], methods: ['GET', 'POST'] }, 'forRoot');
    expect(policy.headersForActual(APP, 'POST')).toEqual([['access-control-allow-origin', APP]]);
    expect(policy.headersForActual(PARTNER, 'GET')).toEqual([['access-control-allow-origin', '*']]);
    expect(policy.vary).toEqual([]);
    expect(policy.writeVary).toEqual(['Origin']);
    expect(policy.preflightVary).toEqual(['Origin', 'Access-Control-Request-Method', 'Access-Control-Request-Headers']);
    // A response to a write without Origin says nothing for any origin: who may write depends on it.
    expect(policy.headersForAnyOrigin('GET')).toEqual([['access-control-allow-origin', '*']]);
    expect(policy.headersForAnyOrigin('POST')).toBeUndefined();
  });

  it("answers a write allowed by writeOrigin '*' with '*', never echoing an origin no list validated", () => {
    const policy = CorsPolicy.compile({ origin: [APP], writeOrigin: '*', methods: ['GET', 'POST'] }, 'forRoot');
    expect(policy.headersForActual('not an origin', 'POST')).toEqual([['access-control-allow-origin', '*']]);
    expect(policy.headersForActual(APP, 'GET')).toEqual([['access-control-allow-origin', APP]]);
  });

  it('lists only the safe methods on the preflight of a read where writes are trusted apart, so none is cached for a write', () => {
    const methodsOf = (options: CorsOptions, requestMethod: string) => {
      const policy = CorsPolicy.compile(options, 'forRoot');
      const answer = policy.resolvePreflight(
        { origin: APP, requestMethod, requestHeaders: undefined, privateNetwork: false },
        true,
      );
      return answer.accepted ? Object.fromEntries(answer.headers)['access-control-allow-methods'] : answer.reason;
    };
    const apart = { origin: '*', writeOrigin: [APP], methods: ['GET', 'POST', 'PUT'] } satisfies CorsOptions;
    expect(methodsOf(apart, 'GET')).toBe('GET, HEAD');
    expect(methodsOf(apart, 'PUT')).toBe('GET, POST, PUT, HEAD');
    expect(methodsOf({ origin: [APP], methods: ['GET', 'POST'] }, 'GET')).toBe('GET, POST, HEAD');
  });

  it('is closed by @Cors(false) with origin, and reopened by a more specific level', () => {
    const { options, sources } = mergePolicyLevels([
      { source: 'forRoot', options: { origin: [APP], writeOrigin: [APP], methods: ['GET', 'POST'] } },
      { source: 'AdminController', options: false },
    ]);
    const closed = CorsPolicy.compile(options, 'AdminController', sources);
    expect(closed.originsFor('POST').matches(APP, nodeRequest)).toBe(false);
    expect(closed.originsFor('GET').matches(APP, nodeRequest)).toBe(false);
    // A route of the closed controller that reopens origin reopens writes with it, as before writeOrigin existed.
    const reopened = mergePolicyLevels([
      { source: 'forRoot', options: { origin: [APP], writeOrigin: [APP], methods: ['GET', 'POST'] } },
      { source: 'AdminController', options: false },
      { source: 'AdminController.update', options: { origin: [OTHER] } },
    ]);
    const update = CorsPolicy.compile(reopened.options, 'AdminController.update', reopened.sources);
    expect(update.originsFor('POST').matches(OTHER, nodeRequest)).toBe(true);
    expect(update.originsFor('POST').matches(APP, nodeRequest)).toBe(false);
    expect(reopened.sources.writeOrigin).toBeUndefined();
  });
});

describe("origin '*' with a write method needs writeOrigin (CorsConfigError)", () => {
  it.each<[string, CorsOptions]>([
    ['POST', { origin: '*', methods: ['GET', 'POST'] }],
    ["methods '*'", { origin: '*', methods: '*' }],
    ['DELETE only', { origin: '*', methods: ['DELETE'] }],
  ])('is refused with %s, naming the location and both ways out', (_, options) => {
    const message = problemOf(options, 'PublicController');
    expect(message).toMatch(/^Invalid CORS configuration in PublicController: origin '\*' with methods /);
    expect(message).toContain("writeOrigin: ['https://app.example.com'] to trust your own sites");
    expect(message).toContain("writeOrigin: '*' to let any site write");
  });

  it('says where an inherited origin and methods came from', () => {
    expect(
      problemOf({ origin: '*', methods: ['GET', 'POST'] }, 'PublicController', {
        origin: 'PublicController',
        methods: 'forRoot',
      }),
    ).toContain("origin '*' with methods 'POST' from forRoot would let any site write");
  });

  it('is accepted with safe methods only, or with writeOrigin in any form', () => {
    const accepted: CorsOptions[] = [
      { origin: '*', methods: ['GET', 'HEAD', 'OPTIONS'] },
      { origin: '*' },
      { origin: '*', writeOrigin: '*', methods: '*' },
      { origin: '*', writeOrigin: [APP], methods: ['POST'] },
      { origin: '*', writeOrigin: [], methods: ['POST'] },
    ];
    for (const options of accepted) expect(() => CorsPolicy.compile(options, 'PublicController')).not.toThrow();
  });
});

describe('writeOrigin is validated as origin is', () => {
  it.each<[string, CorsOptions, string]>([
    [
      'an origin with a path',
      { writeOrigin: ['https://a.example.com/app'] },
      "writeOrigin: origin 'https://a.example.com/app' has a path",
    ],
    ["'*' inside an array", { writeOrigin: ['*'] }, "writeOrigin: origin '*' must stand alone"],
    ['an unanchored RegExp', { writeOrigin: [/example\.com$/] }, 'not anchored'],
    ['a catastrophic RegExp', { writeOrigin: [/^https:\/\/(a+)+\.example\.com$/] }, 'can backtrack exponentially'],
    ['a pattern over a top-level domain', { writeOrigin: ['https://*.com'] }, 'top-level domain'],
    ['origin: true', { writeOrigin: true as never }, 'not supported'],
    [
      "credentials with writeOrigin '*'",
      { origin: [APP], writeOrigin: '*', credentials: true },
      "credentials cannot be used with writeOrigin '*'",
    ],
    [
      "allowPrivateNetwork with writeOrigin '*'",
      { origin: [APP], writeOrigin: '*', allowPrivateNetwork: true },
      "allowPrivateNetwork cannot be used with writeOrigin '*'",
    ],
    [
      'a public-suffix wildcard, with credentials',
      { origin: [APP], credentials: true, writeOrigin: ['https://*.github.io'] },
      "writeOrigin: origin pattern 'https://*.github.io' is a wildcard over the public suffix github.io, with credentials",
    ],
    [
      "'null', with credentials",
      { origin: [APP], credentials: true, writeOrigin: ['null'] },
      "writeOrigin: origin 'null', with credentials",
    ],
    [
      'plain http, with credentials',
      { origin: [APP], credentials: true, writeOrigin: ['http://app.example.com'] },
      "writeOrigin: origin 'http://app.example.com' is plain http, with credentials",
    ],
  ])('refuses %s', (_, options, expected) => {
    expect(problemOf(options)).toContain(expected);
  });

  it('reports the mistakes of origin and writeOrigin together', () => {
    expect(problemOf({ origin: ['https://a.example.com/'], writeOrigin: ['https://b.example.com/'] })).toMatch(
      /2 mistakes[\s\S]*origin 'https:\/\/a\.example\.com\/'[\s\S]*writeOrigin: origin 'https:\/\/b\.example\.com\/'/,
    );
  });

  it('warns for what an opt-in let through in writeOrigin, saying so', () => {
    const policy = CorsPolicy.compile(
      { origin: [APP], credentials: true, writeOrigin: ['null'], dangerouslyAllowNullOriginWithCredentials: true },
      'forRoot',
    );
    expect(policy.warnings).toEqual([expect.stringMatching(/^writeOrigin: origin 'null', with credentials/)]);
  });

  it('takes an origin function with the function settings of origin', async () => {
    const policy = CorsPolicy.compile(
      { origin: '*', writeOrigin: (origin) => origin === APP, methods: ['POST'], originTimeout: 50 },
      'forRoot',
    );
    expect(await policy.originsFor('POST').matches(APP, nodeRequest)).toBe(true);
    expect(await policy.originsFor('POST').matches(PARTNER, nodeRequest)).toBe(false);
  });
});
