import { describe, expect, it } from '@jest/globals';
import { RouteTable } from '../../src/routing/route-table.js';

const EXPRESS = { caseSensitive: false, ignoreTrailingSlash: true };
const STRICT = { caseSensitive: true, ignoreTrailingSlash: false };
const route = (method: string, path: string, value: string, hosts?: string[]) => ({ method, path, value, hosts });

describe('RouteTable', () => {
  it('returns the first route in order, even when an earlier one sits higher in the prefix index', () => {
    const table = new RouteTable(
      [route('GET', '/api/:resource/me', 'param-first'), route('GET', '/api/users/me', 'literal'), route('GET', '/api/users/:id', 'id')],
      EXPRESS,
    );
    expect(table.match('GET', '/api/users/me', undefined)).toBe('param-first');
    expect(table.match('GET', '/api/users/7', undefined)).toBe('id');
  });

  it('prefers a deeper literal route when it comes first', () => {
    const table = new RouteTable([route('GET', '/api/users/me', 'literal'), route('GET', '/api/:resource/me', 'param')], EXPRESS);
    expect(table.match('GET', '/api/users/me', undefined)).toBe('literal');
    expect(table.match('GET', '/api/orders/me', undefined)).toBe('param');
  });

  it('matches methods exactly, ALL for any, and HEAD with GET routes', () => {
    const table = new RouteTable([route('GET', '/a', 'get'), route('ALL', '/b', 'all'), route('POST', '/a', 'post')], EXPRESS);
    expect(table.match('HEAD', '/a', undefined)).toBe('get');
    expect(table.match('POST', '/a', undefined)).toBe('post');
    expect(table.match('DELETE', '/b', undefined)).toBe('all');
    expect(table.match('PUT', '/a', undefined)).toBeUndefined();
  });

  it('compares case and trailing slashes as configured', () => {
    const routes = [route('GET', '/Shop/items', 'shop')];
    const lenient = new RouteTable(routes, EXPRESS);
    expect(['/shop/items', '/SHOP/items/', '/Shop/items'].map((path) => lenient.match('GET', path, undefined))).toEqual(['shop', 'shop', 'shop']);
    const strict = new RouteTable(routes, STRICT);
    expect(['/shop/items', '/Shop/items/', '/Shop/items'].map((path) => strict.match('GET', path, undefined))).toEqual([undefined, undefined, 'shop']);
  });

  it('matches parameters, optional segments and wildcards in either router syntax', () => {
    const table = new RouteTable(
      [route('GET', '/files/thumbs{/:id}', 'optional'), route('GET', '/legacy/:id?', 'fastify-optional'), route('GET', '/files/*', 'fastify-wildcard'), route('GET', '/docs/*path', 'wildcard')],
      EXPRESS,
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
    const table = new RouteTable([route('GET', '/t', 'tenant', [':tenant.example.com']), route('GET', '/t', 'any')], EXPRESS);
    expect(table.match('GET', '/t', 'acme.example.com')).toBe('tenant');
    expect(table.match('GET', '/t', 'other.test')).toBe('any');
    expect(table.match('GET', '/t', undefined)).toBe('any');
  });

  it('records a path it cannot compile instead of failing', () => {
    const table = new RouteTable([route('GET', '/bad/(unclosed', 'bad'), route('GET', '/ok', 'ok')], EXPRESS);
    expect(table.unsupported).toEqual(['GET /bad/(unclosed']);
    expect(table.match('GET', '/ok', undefined)).toBe('ok');
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
    try {
      expect(table.match('PUT', '/api/c2499/42', undefined)).toBe('put2499');
      expect(table.match('GET', '/api/c0', undefined)).toBe('list0');
      expect(table.match('GET', '/api/nothing/here', undefined)).toBeUndefined();
    } finally {
      RegExp.prototype.test = test;
    }
    expect(tested).toBeLessThan(10);
  });
});
