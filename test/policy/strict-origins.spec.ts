import { inspect } from 'node:util';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import type { CorsOptions } from '../../src/cors-options.interface.js';
import { CorsConfigError } from '../../src/policy/cors-config.error.js';
import { CorsPolicy } from '../../src/policy/cors-policy.js';

/** The matcher only hands the request on to a function origin. */
const nodeRequest = {} as IncomingMessage;

function failure(options: CorsOptions): CorsConfigError {
  try {
    CorsPolicy.compile(options, 'forRoot');
  } catch (error) {
    if (error instanceof CorsConfigError) return error;
    throw error;
  }
  throw new Error(`compiled: ${inspect(options)}`);
}

const credentialed = (origin: CorsOptions['origin'], more: CorsOptions = {}): CorsOptions => ({
  origin,
  credentials: true,
  ...more,
});

describe('refused with credentials, each with its opt-in (jub0bs/cors parity)', () => {
  it.each([
    ['https://*.github.io', 'github.io'],
    ['https://*.co.uk', 'co.uk'],
    ['https://*.vercel.app', 'vercel.app'],
    ['https://*.herokuapp.com', 'herokuapp.com'],
    ['https://*.s3.amazonaws.com', 's3.amazonaws.com'],
  ])('a wildcard over the public suffix of %s', (pattern, suffix) => {
    const error = failure(credentialed([pattern]));
    expect(error.message).toContain(
      `origin pattern '${pattern}' is a wildcard over the public suffix ${suffix}, with credentials`,
    );
    expect(error.message).toContain('or set dangerouslyAllowPublicSuffixWildcards: true');
    expect(() =>
      CorsPolicy.compile(credentialed([pattern], { dangerouslyAllowPublicSuffixWildcards: true }), 'forRoot'),
    ).not.toThrow();
  });

  it("'null', which any sandboxed iframe or data: page sends", () => {
    const error = failure(credentialed(['null']));
    expect(error.message).toContain(
      "origin 'null', with credentials: sandboxed iframes, data: URLs and local files of any site send 'null'",
    );
    expect(error.message).toContain('dangerouslyAllowNullOriginWithCredentials: true');
    const allowed = CorsPolicy.compile(
      credentialed(['null'], { dangerouslyAllowNullOriginWithCredentials: true }),
      'forRoot',
    );
    expect(allowed.origins.matches('null', nodeRequest)).toBe(true);
    expect(allowed.warnings).toEqual([
      expect.stringContaining("origin 'null', with credentials (dangerouslyAllowNullOriginWithCredentials)"),
    ]);
  });

  it.each<[string, CorsOptions['origin'], string]>([
    [
      'a plain http origin',
      ['http://app.example.com'],
      "origin 'http://app.example.com' is plain http, with credentials",
    ],
    [
      'an http pattern',
      ['http://*.example.com'],
      "origin pattern 'http://*.example.com' is plain http, with credentials",
    ],
    ['an http port pattern', ['http://app.example.com:*'], "origin pattern 'http://app.example.com:*' is plain http"],
    [
      'an https? RegExp',
      [/^https?:\/\/app\.example\.com$/],
      'allows http://app.example.com, which is plain http, with credentials',
    ],
    ['an http RegExp', [/^http:\/\/(?:[a-z0-9-]+\.)?example\.com$/], 'allows http://example.com, which is plain http'],
    [
      'a RegExp over a private network',
      [/^http:\/\/192\.168\.1\.\d{1,3}:3000$/],
      'allows http://192.168.1.0:3000, which is plain http',
    ],
  ])('%s', (_case, origin, message) => {
    const error = failure(credentialed(origin));
    expect(error.message).toContain(message);
    expect(error.message).toContain('dangerouslyAllowInsecureOriginsWithCredentials: true');
    expect(() =>
      CorsPolicy.compile(credentialed(origin, { dangerouslyAllowInsecureOriginsWithCredentials: true }), 'forRoot'),
    ).not.toThrow();
  });

  it('a RegExp that leaves a label under a public suffix open', () => {
    const error = failure(credentialed([/^https:\/\/[a-z0-9-]+\.github\.io$/]));
    expect(error.message).toContain(
      'allows any name under the public suffix github.io, such as https://a.github.io, with credentials',
    );
    expect(() =>
      CorsPolicy.compile(
        credentialed([/^https:\/\/[a-z0-9-]+\.github\.io$/], { dangerouslyAllowPublicSuffixWildcards: true }),
        'forRoot',
      ),
    ).not.toThrow();
  });
});

describe('refused always', () => {
  it.each<[string, CorsOptions, string]>([
    [
      'an origin port over 65535',
      { origin: ['https://foo:65536'] },
      "origin 'https://foo:65536' has port 65536, over 65535",
    ],
    ['a pattern port over 65535', { origin: ['https://*.example.com:70000'] }, 'has port 70000, over 65535'],
    [
      'a wildcard over an IPv4 address',
      { origin: ['http://*.127.0.0.1:3999'] },
      'is a wildcard over the IP address 127.0.0.1',
    ],
    ['a wildcard over an IPv6 address', { origin: ['http://*.[::1]'] }, 'is a wildcard over the IP address [::1]'],
    [
      'an IPv4 address browsers write otherwise',
      { origin: ['http://127.1:3000'] },
      "is sent by browsers as 'http://127.0.0.1:3000'",
    ],
    [
      'an IPv6 address browsers compress',
      { origin: ['http://[0:0:0:0:0:0:0:1]'] },
      "is sent by browsers as 'http://[::1]'",
    ],
    ['a host that is no valid IPv4 address', { origin: ['http://300.1.1.1'] }, 'is not a valid URL origin'],
    [
      "allowPrivateNetwork with '*'",
      { origin: '*', allowPrivateNetwork: true },
      "allowPrivateNetwork cannot be used with origin '*'",
    ],
    [
      'a polynomial RegExp that safe-regex2 lets through',
      { origin: [/^https:\/\/[a-z0-9-]+[a-z0-9-]*[a-z0-9-]*[a-z0-9-]*\.example\.com$/] },
      'can backtrack polynomially',
    ],
    [
      'a polynomial RegExp of two digit loops',
      { origin: [/^https:\/\/pr-\d+\d+\.example\.com$/] },
      'can backtrack polynomially',
    ],
    ['an exponential RegExp', { origin: [/^https:\/\/(\w|\d)+\.example\.com$/] }, 'can backtrack exponentially'],
    [
      'an exponential RegExp of nested loops',
      { origin: [/^https:\/\/(?:[a-z]*)*\.example\.com$/] },
      'can backtrack exponentially',
    ],
    [
      'anything after the host',
      { origin: [/^https:\/\/app\.example\.com.*$/] },
      "look-alike gap: . matches a '.' of the host",
    ],
    [
      'a last label left open',
      { origin: [/^https:\/\/app\.example\.com[a-z]*$/] },
      'lets the host go on past what is written (anything after the host, such as https://app.example.coma)',
    ],
    [
      'labels added after the host',
      { origin: [/^https:\/\/app\.example\.com(?:\.[a-z]+)*$/] },
      'lets the host go on past what is written',
    ],
    [
      'an open label under a top-level domain',
      { origin: [/^https:\/\/[a-z0-9-]+\.com$/] },
      'allows every domain under the top-level domain .com, such as https://a.com',
    ],
    [
      'a RegExp that matches no origin',
      { origin: [/^https:\/\/app\.example\.com\/$/] },
      'matches no serialized origin',
    ],
    ['a backreference', { origin: [/^https:\/\/(a)\1\.example\.com$/] }, 'has a backreference (\\1)'],
    ['a lookahead', { origin: [/^https:\/\/(?!admin)[a-z]+\.example\.com$/] }, 'has a lookaround ((?!admin))'],
    ['a word boundary', { origin: [/^https:\/\/\bapp\.example\.com$/] }, 'has a word boundary (\\b)'],
  ])('%s', (_case, options, message) => {
    expect(failure(options).message).toContain(message);
    expect(
      failure({
        ...options,
        dangerouslyAllowPublicSuffixWildcards: true,
        dangerouslyAllowInsecureOriginsWithCredentials: true,
      }).message,
    ).toContain(message);
  });
});

describe('accepted, with the origins they allow', () => {
  it.each<[string, CorsOptions, string[], string[]]>([
    [
      'loopback http origins with credentials',
      credentialed(['http://localhost:3000', 'http://127.0.0.1:8080', 'http://[::1]:8080', 'http://*.localhost:*']),
      ['http://localhost:3000', 'http://[::1]:8080', 'http://app.localhost:5173'],
      ['http://localhost:3001', 'http://localhost.evil.example:3000'],
    ],
    [
      'a loopback RegExp with credentials',
      credentialed([/^http:\/\/(?:localhost|127\.0\.0\.1):[0-9]+$/]),
      ['http://127.0.0.1:4200'],
      ['http://127.0.0.2:4200'],
    ],
    [
      'wildcards over public suffixes without credentials',
      { origin: ['https://*.github.io'] },
      ['https://anyone.github.io'],
      ['https://github.io'],
    ],
    ["'null' without credentials", { origin: ['null'] }, ['null'], []],
    [
      'http origins without credentials',
      { origin: ['http://app.example.com'] },
      ['http://app.example.com'],
      ['https://app.example.com'],
    ],
    [
      'an optional label, which safe-regex2 refuses',
      credentialed([/^https:\/\/(?:[a-z0-9-]+\.)?example\.com$/]),
      ['https://example.com', 'https://a-b.example.com'],
      ['https://a.b.example.com', 'https://a-example.com', 'https://example.com.evil.example'],
    ],
    [
      'hyphenated labels, which safe-regex2 refuses',
      credentialed([/^https:\/\/[a-z0-9]+(-[a-z0-9]+)*\.example\.com$/]),
      ['https://pr-12-x.example.com'],
      ['https://-x.example.com', 'https://x-.example.com'],
    ],
    [
      'any number of labels',
      credentialed([/^https:\/\/([a-z0-9-]+\.)*example\.com$/]),
      ['https://a.b.example.com'],
      ['https://a.bexample.com'],
    ],
    [
      'a bounded label and an optional port',
      credentialed([/^https:\/\/[a-z0-9-]{1,63}\.example\.com(?::[0-9]+)?$/]),
      ['https://a.example.com:8443'],
      ['https://a.example.com.'],
    ],
    [
      'an alternation of literals',
      credentialed([/^https:\/\/(app|admin)\.example\.(com|org)$/]),
      ['https://admin.example.org'],
      ['https://app.example.net'],
    ],
  ])('%s', (_case, options, allowed, denied) => {
    const policy = CorsPolicy.compile(options, 'forRoot');
    for (const origin of allowed) expect([origin, policy.origins.matches(origin, nodeRequest)]).toEqual([origin, true]);
    for (const origin of denied) expect([origin, policy.origins.matches(origin, nodeRequest)]).toEqual([origin, false]);
    expect(policy.warnings).toEqual([]);
  });

  it('checks a long RegExp at startup in milliseconds, and refuses one too long to check', () => {
    const labels = Array.from({ length: 12 }, (_, i) => `app${i}`).join('|');
    const started = performance.now();
    CorsPolicy.compile(
      credentialed([new RegExp(`^https:\\/\\/(?:[a-z0-9-]+\\.)*(?:${labels})\\.example\\.com(?::[0-9]{2,5})?$`)]),
      'forRoot',
    );
    expect(performance.now() - started).toBeLessThan(1000);
    expect(failure({ origin: [new RegExp(`^https:\\/\\/${'a'.repeat(200)}\\.example\\.com$`)] }).message).toContain(
      'is longer than 150 characters',
    );
  });
});

describe('every mistake of a location, reported together', () => {
  it("reports the four mistakes of the issue's forRoot, and prints without [Circular]", () => {
    const error = failure({
      origin: ['http://example.com', 'https://example.com/'],
      methods: ['résumé'],
      allowedHeaders: ['résumé'],
      maxAge: -1,
    });
    expect(error.errors.map((each) => each.problem)).toEqual([
      "'maxAge' must be a whole number of seconds >= 0",
      `'methods' has "résumé", which is not a valid name (an RFC 9110 token)`,
      `'allowedHeaders' has "résumé", which is not a valid name (an RFC 9110 token)`,
      "origin 'https://example.com/' has a path, query or trailing slash ('/'): an origin is scheme://host[:port] only",
    ]);
    expect(error.message).toMatch(
      /^Invalid CORS configuration \(4 mistakes\):\n {2}- Invalid CORS configuration in forRoot: 'maxAge'/,
    );
    expect(inspect(error)).not.toContain('Circular');
    expect(inspect(error)).toContain(
      "- Invalid CORS configuration in forRoot: origin 'https://example.com/' has a path",
    );
  });

  it('reports the plain http origin too once credentials are on', () => {
    const error = failure({ origin: ['http://example.com', 'https://example.com/'], credentials: true });
    expect(error.errors.map((each) => each.problem)).toEqual([
      expect.stringContaining("origin 'http://example.com' is plain http, with credentials"),
      expect.stringContaining("origin 'https://example.com/' has a path"),
    ]);
  });

  it('refuses an opt-in that is not a boolean, and accepts the opt-ins as known options', () => {
    expect(failure({ dangerouslyAllowNullOriginWithCredentials: 'yes' as never }).message).toContain(
      "'dangerouslyAllowNullOriginWithCredentials' must be true or false",
    );
    expect(failure({ dangerouslyAllowNullOrigin: true } as never).message).toContain(
      "unknown option 'dangerouslyAllowNullOrigin'",
    );
  });
});
