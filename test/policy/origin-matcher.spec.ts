import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { OriginMatcher } from '../../src/policy/origin-matcher.js';

/** The matcher only hands the request on to a function origin. */
const nodeRequest = {} as IncomingMessage;

const exact = OriginMatcher.compile(['https://app.example.com', 'http://localhost:3000'], 'forRoot');

describe('exact origins compare byte for byte', () => {
  it.each(['https://app.example.com', 'http://localhost:3000'])('allows %s', (origin) => {
    expect(exact.matches(origin, nodeRequest)).toBe(true);
  });

  it.each([
    ['a trailing slash', 'https://app.example.com/'],
    ['a path', 'https://app.example.com/x'],
    ['upper case host', 'https://APP.example.com'],
    ['upper case scheme', 'HTTPS://app.example.com'],
    ['another scheme', 'http://app.example.com'],
    ['the default port spelled out', 'https://app.example.com:443'],
    ['another port', 'http://localhost:3001'],
    ['no port', 'http://localhost'],
    ['a suffix', 'https://app.example.com.evil.com'],
    ['a prefix', 'https://evilapp.example.com'],
    ['a trailing dot', 'https://app.example.com.'],
    ['userinfo', 'https://app.example.com@evil.com'],
    ['leading whitespace', ' https://app.example.com'],
    ['two joined Origin values', 'https://app.example.com, https://evil.com'],
    ['the null origin', 'null'],
    ['an empty value', ''],
  ])('denies %s', (_case, origin) => {
    expect(exact.matches(origin, nodeRequest)).toBe(false);
  });

  it("allows 'null' only when listed explicitly", () => {
    expect(OriginMatcher.compile(['null'], 'forRoot').matches('null', nodeRequest)).toBe(true);
    expect(
      OriginMatcher.compile([/^https:\/\/[a-z0-9-]+\.example\.com$/], 'forRoot').matches('null', nodeRequest),
    ).toBe(false);
  });
});

describe('patterns', () => {
  const subdomains = OriginMatcher.compile(['https://*.example.com'], 'forRoot');
  it.each(['https://a.example.com', 'https://a.b.example.com', 'https://x-1.example.com'])(
    '*.example.com allows %s',
    (origin) => {
      expect(subdomains.matches(origin, nodeRequest)).toBe(true);
    },
  );
  it.each([
    ['the apex', 'https://example.com'],
    ['a name that only ends like it', 'https://evilexample.com'],
    ['the suffix under another domain', 'https://a.example.com.evil.com'],
    ['another scheme', 'http://a.example.com'],
    ['a port', 'https://a.example.com:8443'],
    ['an empty label', 'https://.example.com'],
    ['an underscore label', 'https://a_b.example.com'],
    ['upper case', 'https://A.example.com'],
  ])('*.example.com denies %s', (_case, origin) => {
    expect(subdomains.matches(origin, nodeRequest)).toBe(false);
  });

  const anyPort = OriginMatcher.compile(['http://localhost:*'], 'forRoot');
  it.each(['http://localhost:3000', 'http://localhost:65535', 'http://localhost'])(
    'localhost:* allows %s',
    (origin) => {
      expect(anyPort.matches(origin, nodeRequest)).toBe(true);
    },
  );
  it.each(['https://localhost:3000', 'http://localhost.evil.com:3000', 'http://127.0.0.1:3000', 'http://localhost:0'])(
    'localhost:* denies %s',
    (origin) => {
      expect(anyPort.matches(origin, nodeRequest)).toBe(false);
    },
  );
});

describe('RegExp origins', () => {
  const regexp = OriginMatcher.compile([/^https:\/\/(app|admin)\.example\.com$/], 'forRoot');
  it('matches well-formed origins the RegExp accepts', () => {
    expect(regexp.matches('https://admin.example.com', nodeRequest)).toBe(true);
  });
  it('never sees a malformed origin', () => {
    const subdomains = OriginMatcher.compile([/^https:\/\/[a-z0-9-]+\.example\.com$/], 'forRoot');
    expect(subdomains.matches('https://evil.com, https://a.example.com', nodeRequest)).toBe(false);
    expect(subdomains.matches('https://A.example.com', nodeRequest)).toBe(false);
    expect(subdomains.matches('https://a.example.com', nodeRequest)).toBe(true);
  });
  it.each([
    ['between labels', /^https:\/\/app.example\.com$/, 'https://app-example.com'],
    ['before the TLD', /^https:\/\/app\.example.com$/, 'https://app.example-com'],
    ['inside a group', /^https:\/\/(app|admin).example\.com$/, 'https://app-example.com'],
    ['after a character class', /^https:\/\/[a-z]+.example\.com$/, 'https://a-example.com'],
    ['quantified once', /^https:\/\/app.{1}example\.com$/, 'https://app-example.com'],
    ['optional', /^https:\/\/app.?example\.com$/, 'https://app-example.com'],
    ['as [^]', /^https:\/\/app[^]example\.com$/, 'https://app-example.com'],
    ['as \\S', /^https:\/\/app\Sexample\.com$/, 'https://app-example.com'],
    ['as \\W', /^https:\/\/app\Wexample\.com$/, 'https://app-example.com'],
    ['in a class with letters', /^https:\/\/[a-z.]+\.example\.com$/, 'https://x.example.com'],
    ['as the classic .* before an escaped suffix', /^https:\/\/.*\.example\.org$/, 'https://-.example.org'],
    ['as .+', /^https:\/\/.+\.example\.com$/, 'https://-.example.com'],
  ])('refuses a dot-like atom %s, naming an origin it would allow and the fix', (_case, pattern, allowed) => {
    expect(() => OriginMatcher.compile([pattern], 'forRoot')).toThrow(
      new RegExp(
        `look-alike gap: .* so it allows ${allowed.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\. Write \\\\\\. for a dot and \\[a-z0-9-\\] for the characters of a label`,
      ),
    );
  });
  // Each accepted RegExp also matches, compiled, the origins it names and no others.
  it.each<[string, RegExp, string[], string[]]>([
    [
      'an escaped dot',
      /^https:\/\/app\.example\.com$/,
      ['https://app.example.com'],
      ['https://appxexample.com', 'https://app.example.co'],
    ],
    [
      'a dot in a character class',
      /^https:\/\/app[.]example[.]com$/,
      ['https://app.example.com'],
      ['https://app-example.com', 'https://appxexample.com'],
    ],
    [
      'a class without the dot',
      /^https:\/\/[^.]+\.example\.com$/,
      ['https://a.example.com'],
      ['https://a.b.example.com', 'https://example.com'],
    ],
    [
      '\\w for a label',
      /^https:\/\/\w+\.example\.com$/,
      ['https://abc.example.com'],
      ['https://a-b.example.com', 'https://example.com'],
    ],
    // On a real origin, neither of the two can stand where a dot is: a label never starts with one, nor has two in a row.
    [
      '.{2} as a two-character label',
      /^https:\/\/.{2}\.example\.com$/,
      ['https://ab.example.com'],
      ['https://a.example.com', 'https://abc.example.com'],
    ],
  ])('accepts %s', (_case, pattern, allowed, denied) => {
    expect(() => OriginMatcher.compile([pattern], 'forRoot')).not.toThrow();
    const matcher = OriginMatcher.compile([pattern], 'forRoot');
    expect(allowed.map((origin) => matcher.matches(origin, nodeRequest))).toEqual(allowed.map(() => true));
    expect(denied.map((origin) => matcher.matches(origin, nodeRequest))).toEqual(denied.map(() => false));
  });
  it('matches only a dot where the dot is written out', () => {
    expect(
      OriginMatcher.compile([/^https:\/\/app[.]example[.]com$/], 'forRoot').matches(
        'https://app-example.com',
        nodeRequest,
      ),
    ).toBe(false);
  });

  it('does not compare absurdly long origins', () => {
    const any = OriginMatcher.compile([/^https:\/\/[a-z]+\.example\.com$/], 'forRoot');
    expect(any.matches(`https://${'a'.repeat(400)}.example.com`, nodeRequest)).toBe(false);
  });
});

describe("the cors package's origin: true", () => {
  it('is refused with a hint, as it would reflect every origin', () => {
    expect(() => OriginMatcher.compile(true as never, 'forRoot')).toThrow(
      'origin: true (reflect every origin) is not supported',
    );
  });
});
