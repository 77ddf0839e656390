import { describe, expect, it } from '@jest/globals';
import { isToken, mergeVary, parseHeaderList } from '../../src/policy/http-tokens.js';

describe('isToken (RFC 9110)', () => {
  it.each(['GET', 'X-Custom-Header', "a!#$%&'*+-.^_`|~z", '0'])('accepts %j', (value) =>
    expect(isToken(value)).toBe(true),
  );
  it.each(['', 'a b', 'a:b', 'a,b', 'a\r\nb', 'é', 'a"b', '(x)'])('rejects %j', (value) =>
    expect(isToken(value)).toBe(false),
  );
});

describe('parseHeaderList', () => {
  it.each<[string, string | string[] | undefined, string[] | undefined]>([
    ['nothing', undefined, []],
    ['an empty value', '', []],
    ['mixed case and spaces', ' X-A ,x-b\t', ['x-a', 'x-b']],
    ['duplicates', 'x-a, X-A, x-a', ['x-a']],
    ['empty items', ',,x-a,, ,', ['x-a']],
    ['several lines', ['x-a', 'x-b, x-c'], ['x-a', 'x-b', 'x-c']],
    ['an item that is not a token', 'x-a, x b', undefined],
    ['an injected line break', 'x-a\r\nset-cookie: a=1', undefined],
    ['a list over 4 KiB of allowed names', `accept,${' '.repeat(4100)},content-type`, undefined],
    ['too many items', Array.from({ length: 65 }, (_, i) => `x-${i}`).join(','), undefined],
  ])('reads %s', (_case, value, expected) => {
    expect(parseHeaderList(value)).toEqual(expected);
  });
});

describe('mergeVary', () => {
  it.each<[string, unknown, string[], string | undefined]>([
    ['no Vary yet', undefined, ['Origin'], 'Origin'],
    ['an existing token', 'Accept-Encoding', ['Origin'], 'Accept-Encoding, Origin'],
    ['the token in another case', 'origin', ['Origin'], undefined],
    [
      'several tokens, some present',
      'Origin',
      ['Origin', 'Access-Control-Request-Method'],
      'Origin, Access-Control-Request-Method',
    ],
    ['Vary: * (already varies on everything)', '*', ['Origin'], undefined],
    ['an array value', ['Accept', 'Cookie'], ['Origin'], 'Accept, Cookie, Origin'],
    ['nothing to add', 'Accept', [], undefined],
  ])('with %s', (_case, existing, tokens, expected) => {
    expect(mergeVary(existing, tokens)).toBe(expected);
  });
});
