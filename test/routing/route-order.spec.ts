import { describe, expect, it } from '@jest/globals';
import { mostSpecificFirst } from '../../src/routing/route-order.js';

const order = (...paths: string[]) => mostSpecificFirst(paths.map((path) => ({ path }))).map(({ path }) => path);

describe('mostSpecificFirst', () => {
  it.each([
    ['a literal before a parameter', ['/users/:id', '/users/me'], ['/users/me', '/users/:id']],
    ['a parameter before a wildcard', ['/files/*path', '/files/:name'], ['/files/:name', '/files/*path']],
    ['mixed text before a parameter', ['/reports/:id', '/reports/:id.pdf'], ['/reports/:id.pdf', '/reports/:id']],
    ['a shorter literal path before a longer parametric one', ['/users/:id', '/users'], ['/users', '/users/:id']],
    [
      'a longer literal path before a shorter wildcard',
      ['/docs/{*rest}', '/docs/intro'],
      ['/docs/intro', '/docs/{*rest}'],
    ],
    ['an earlier segment decides first', ['/:a/b', '/x/:b'], ['/x/:b', '/:a/b']],
  ])('puts %s', (_case, paths, expected) => {
    expect(order(...paths)).toEqual(expected);
  });

  it('keeps declaration order between equally specific routes', () => {
    expect(order('/users/:id', '/orders/:id', '/users/:name')).toEqual(['/users/:id', '/orders/:id', '/users/:name']);
  });
});
