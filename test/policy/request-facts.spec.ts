import { describe, expect, it } from '@jest/globals';
import { isCrossOrigin, isPreflight, requestOrigin } from '../../src/policy/request-facts.js';

describe('request facts', () => {
  it('joins two Origin values into one that matches nothing', () => {
    expect(requestOrigin({ origin: ['https://a.test', 'https://b.test'] })).toBe('https://a.test, https://b.test');
    expect(requestOrigin({})).toBeUndefined();
  });

  it.each<[string, string, Record<string, string>, boolean]>([
    [
      'OPTIONS with Origin and ACRM',
      'OPTIONS',
      { origin: 'https://a.test', 'access-control-request-method': 'PUT' },
      true,
    ],
    ['OPTIONS without ACRM', 'OPTIONS', { origin: 'https://a.test' }, false],
    ['OPTIONS without Origin', 'OPTIONS', { 'access-control-request-method': 'PUT' }, false],
    ['a GET with both', 'GET', { origin: 'https://a.test', 'access-control-request-method': 'PUT' }, false],
  ])('a preflight is %s: %s', (_case, method, headers, expected) => {
    expect(isPreflight(method, headers)).toBe(expected);
  });

  it.each<[string, Record<string, string>, boolean]>([
    [
      'Sec-Fetch-Site same-origin wins over a foreign Origin',
      { 'sec-fetch-site': 'same-origin', host: 'api.test' },
      false,
    ],
    ['Sec-Fetch-Site none (a user navigation)', { 'sec-fetch-site': 'none', host: 'x.test' }, false],
    ['Sec-Fetch-Site same-site', { 'sec-fetch-site': 'same-site', host: 'app.test' }, true],
    ['Sec-Fetch-Site cross-site even when Host matches', { 'sec-fetch-site': 'cross-site', host: 'app.test' }, true],
    ['no Sec-Fetch-Site, Origin host equal to Host', { host: 'app.test' }, false],
    ['no Sec-Fetch-Site, another Host', { host: 'api.test' }, true],
    ['no Sec-Fetch-Site, same host but another port', { host: 'app.test:8080' }, true],
    ['no Host at all', {}, true],
  ])('cross-origin for https://app.test: %s', (_case, headers, expected) => {
    expect(isCrossOrigin('https://app.test', { headers })).toBe(expected);
  });

  it.each<[string, boolean]>([
    ['http://app.test', false],
    ['https://app.test', false],
    ['https://evilapp.test', true],
    ['https://app.test.evil', true],
    ['ftp://app.test', true],
    ['https:/app.test', true],
    ['https://app.tes', true],
  ])('without Sec-Fetch-Site, %s is cross-origin to Host app.test: %s', (origin, expected) => {
    expect(isCrossOrigin(origin, { headers: { host: 'app.test' } })).toBe(expected);
  });

  it('compares with the host the adapter trusts, and asks for it only without Sec-Fetch-Site', () => {
    let asked = 0;
    const trusted = () => (asked++, 'app.test');
    expect(isCrossOrigin('https://app.test', { headers: { host: 'internal:3000' } }, trusted)).toBe(false);
    expect(
      isCrossOrigin(
        'https://app.test',
        { headers: { host: 'internal:3000', 'sec-fetch-site': 'cross-site' } },
        trusted,
      ),
    ).toBe(true);
    expect(asked).toBe(1);
  });
});
