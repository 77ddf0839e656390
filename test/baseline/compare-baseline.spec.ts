import { describe, expect, it } from '@jest/globals';
import type { BaselineRoute } from '../../src/baseline/baseline-fields.js';
import { formatBaseline, parseBaseline } from '../../src/baseline/baseline-file.js';
import { checkBaseline, compareBaseline, printBaselineDifference } from '../../src/baseline/compare-baseline.js';
import { CorsBaselineError } from '../../src/index.js';

const GLOBAL: BaselineRoute = {
  method: 'ALL',
  path: '*',
  handler: '(no route)',
  origin: ['https://app.example.com'],
  writeOrigin: ['https://app.example.com'],
  credentials: false,
  methods: ['GET', 'POST'],
  allowedHeaders: ['Authorization'],
  exposedHeaders: [],
  enforce: 'unsafe',
  reportOnly: false,
  allowPrivateNetwork: false,
};
const route = (method: string, path: string, handler: string, policy: Partial<BaselineRoute> = {}): BaselineRoute => ({
  ...GLOBAL,
  method,
  path,
  handler,
  ...policy,
});
const ORDERS = route('POST', '/api/orders', 'OrdersController.create', {
  origin: ['https://*.partner.example.net', '/^https:\\/\\/[a-z]+\\.shop\\.example$/'],
});
const USERS = route('GET', '/api/users', 'UsersController.list');
const BASELINE = [GLOBAL, ORDERS, USERS];

/** The app is the baseline with `orders` changed. */
const withOrders = (policy: Partial<BaselineRoute>) => [GLOBAL, { ...ORDERS, ...policy }, USERS];

describe('compareBaseline', () => {
  it('finds nothing between a baseline and itself, in any order', () => {
    expect(compareBaseline(BASELINE, [USERS, GLOBAL, ORDERS])).toEqual({ widened: [], changed: [] });
    expect(compareBaseline(BASELINE, [{ ...GLOBAL, methods: ['POST', 'GET'] }, ORDERS, USERS])).toEqual({
      widened: [],
      changed: [],
    });
  });

  it.each<[string, Partial<BaselineRoute>, string]>([
    ['a new origin', { origin: [...ORDERS.origin, 'https://evil.example'] }, 'origin: + https://evil.example'],
    ['a new pattern', { origin: [...ORDERS.origin, 'https://*.example.net'] }, 'origin: + https://*.example.net'],
    ['a new RegExp', { origin: [...ORDERS.origin, '/^https:\\/\\/.+$/'] }, 'origin: + /^https:\\/\\/.+$/'],
    [
      "'*' where there was a list",
      { origin: ['*'] },
      'origin: - https://*.partner.example.net, /^https:\\/\\/[a-z]+\\.shop\\.example$/ + *',
    ],
    ['credentials turned on', { credentials: true }, 'credentials: - false + true'],
    ['a new method', { methods: ['GET', 'POST', 'DELETE'] }, 'methods: + DELETE'],
    ["'*' methods where there was a list", { methods: '*' }, 'methods: - GET, POST + *'],
    ['a new allowed header', { allowedHeaders: ['Authorization', 'X-Api-Key'] }, 'allowedHeaders: + X-Api-Key'],
    ["'*' allowed headers", { allowedHeaders: '*' }, 'allowedHeaders: - Authorization + *'],
    ['a new exposed header', { exposedHeaders: ['X-Total-Count'] }, 'exposedHeaders: + X-Total-Count'],
    ["enforce 'all' to 'unsafe'", { enforce: 'unsafe' }, 'enforce: - all + unsafe'],
    ["enforce 'unsafe' to false", { enforce: false }, 'enforce: - unsafe + false'],
    ['reportOnly turned on', { reportOnly: true }, 'reportOnly: - false + true'],
    [
      'a new origin trusted with writes',
      { writeOrigin: [...GLOBAL.writeOrigin, 'https://evil.example'] },
      'writeOrigin: + https://evil.example',
    ],
    ["'*' trusted with writes", { writeOrigin: ['*'] }, 'writeOrigin: - https://app.example.com + *'],
    ['allowPrivateNetwork turned on', { allowPrivateNetwork: true }, 'allowPrivateNetwork: - false + true'],
  ])('widens with %s', (_kind, policy, line) => {
    const baseline = [GLOBAL, { ...ORDERS, enforce: policy.enforce === 'unsafe' ? 'all' : 'unsafe' } as const, USERS];
    expect(compareBaseline(baseline, withOrders(policy)).widened).toEqual([
      `POST /api/orders (OrdersController.create)  ${line}`,
    ]);
  });

  it('does not count an exact origin that a pattern or RegExp of the baseline matched as wider', () => {
    const covered = ['https://eu.partner.example.net', 'https://tea.shop.example'];
    expect(compareBaseline(BASELINE, withOrders({ origin: [...ORDERS.origin, ...covered] }))).toEqual({
      widened: [],
      changed: [`POST /api/orders (OrdersController.create)  origin: + ${covered.join(', ')}`],
    });
    // The apex is not under its wildcard, nor an origin of another scheme.
    const outside = ['https://partner.example.net', 'http://eu.partner.example.net'];
    expect(compareBaseline(BASELINE, withOrders({ origin: [...ORDERS.origin, ...outside] })).widened).toEqual([
      `POST /api/orders (OrdersController.create)  origin: + ${outside.join(', ')}`,
    ]);
  });

  it('compares header names without case, methods with it', () => {
    const app = withOrders({ allowedHeaders: ['authorization'], methods: ['get', 'POST'] });
    expect(compareBaseline(BASELINE, app).widened).toEqual([
      'POST /api/orders (OrdersController.create)  methods: + get',
    ]);
  });

  it('holds a new route to the global policy: wider fails, the same or narrower passes', () => {
    const open = route('PUT', '/api/items/:id', 'ItemsController.update', {
      origin: ['https://app.example.com', 'https://partner.example.net'],
      methods: ['GET', 'PUT'],
      credentials: true,
    });
    const plain = route('GET', '/api/items', 'ItemsController.list');
    const closed = route('DELETE', '/api/items/:id', 'ItemsController.remove', { origin: [] });
    expect(compareBaseline(BASELINE, [...BASELINE, open, plain, closed])).toEqual({
      widened: [
        'PUT /api/items/:id (ItemsController.update)  added, wider than ALL *: origin: + https://partner.example.net',
        'PUT /api/items/:id (ItemsController.update)  added, wider than ALL *: credentials: - false + true',
        'PUT /api/items/:id (ItemsController.update)  added, wider than ALL *: methods: + PUT',
      ],
      changed: [
        'GET /api/items (ItemsController.list)  added (no wider than ALL *)',
        'DELETE /api/items/:id (ItemsController.remove)  added (no wider than ALL *)',
      ],
    });
  });

  it('passes what narrows the policy, and lists it', () => {
    const app = [
      { ...GLOBAL, credentials: false, methods: ['GET'] },
      { ...ORDERS, origin: ['https://*.partner.example.net'], enforce: 'all' as const, allowedHeaders: [] },
    ];
    expect(compareBaseline(BASELINE, app)).toEqual({
      widened: [],
      changed: [
        'ALL * (no route)  methods: - POST',
        'POST /api/orders (OrdersController.create)  origin: - /^https:\\/\\/[a-z]+\\.shop\\.example$/',
        'POST /api/orders (OrdersController.create)  allowedHeaders: - Authorization',
        'POST /api/orders (OrdersController.create)  enforce: - unsafe + all',
        'GET /api/users (UsersController.list)  removed',
      ],
    });
  });

  it('takes a renamed handler at the same method and path for the same route', () => {
    const renamed = { ...ORDERS, handler: 'OrdersController.place', credentials: true };
    expect(compareBaseline(BASELINE, [GLOBAL, renamed, USERS])).toEqual({
      widened: ['POST /api/orders (OrdersController.place)  credentials: - false + true'],
      changed: [
        'POST /api/orders (OrdersController.place)  handler: - OrdersController.create + OrdersController.place',
      ],
    });
  });

  it('tells routes apart by host', () => {
    const tenant = route('GET', '/api/users', 'TenantUsersController.list', { hosts: [':tenant.example.com'] });
    expect(compareBaseline(BASELINE, [...BASELINE, { ...tenant, credentials: true }]).widened).toEqual([
      'GET /api/users @:tenant.example.com (TenantUsersController.list)  added, wider than ALL *: credentials: - false + true',
    ]);
  });
});

describe('the baseline file', () => {
  it('is one sorted line per route, lists sorted, whatever the order of routes and lists', () => {
    const text = formatBaseline([USERS, { ...ORDERS, methods: ['POST', 'GET'] }, GLOBAL]);
    expect(text).toBe(formatBaseline(BASELINE));
    expect(text.split('\n')).toEqual([
      expect.stringMatching(/^\{"method":"ALL","path":"\*","handler":"\(no route\)","origin":\["https:\/\/app/),
      expect.stringMatching(/^\{"method":"POST","path":"\/api\/orders",.*"methods":\["GET","POST"\],/),
      expect.stringMatching(/^\{"method":"GET","path":"\/api\/users"/),
      '',
    ]);
    expect(parseBaseline(text, 'cors-baseline.jsonl')).toEqual([
      GLOBAL,
      { ...ORDERS, origin: [...ORDERS.origin].sort() },
      USERS,
    ]);
  });

  it('leaves out what changes without changing what is allowed: sources, maxAge', () => {
    const audited = { ...USERS, maxAge: 600, from: { origin: 'forRoot' } };
    expect(JSON.parse(formatBaseline([audited]))).toEqual(USERS);
  });

  it('names the line and the field a hand edit broke', () => {
    const lines = formatBaseline(BASELINE).split('\n');
    const broken = [lines[0], lines[1].replace('"credentials":false', '"credentials":"no"'), lines[2]].join('\n');
    expect(() => parseBaseline(broken, 'cors-baseline.jsonl')).toThrow(
      new CorsBaselineError('cors-baseline.jsonl:2: a wrong credentials (write the file again to see the format)'),
    );
    expect(() => parseBaseline('{"method":"GET"', 'b.jsonl')).toThrow(/^b\.jsonl:1: not JSON/);
    expect(() => checkBaseline(formatBaseline([USERS]), 'b.jsonl', BASELINE, 'x')).toThrow(
      'b.jsonl: no line for the other paths (ALL *), whose policy new routes are held to',
    );
  });
});

describe('printBaselineDifference', () => {
  it('prints what widens first, with how to update, then what does not', () => {
    const difference = compareBaseline(BASELINE, [GLOBAL, { ...ORDERS, credentials: true }]);
    expect(printBaselineDifference(difference, 'cors-baseline.jsonl', 'UPDATE_CORS_BASELINE=1')).toBe(
      [
        'The CORS policy is wider than its baseline cors-baseline.jsonl (1):',
        '  POST /api/orders (OrdersController.create)  credentials: - false + true',
        'If this is intended, have it reviewed, then update the baseline: UPDATE_CORS_BASELINE=1',
        'Changes from cors-baseline.jsonl that do not widen the policy (1):',
        '  GET /api/users (UsersController.list)  removed',
      ].join('\n'),
    );
    expect(printBaselineDifference({ widened: [], changed: ['x  removed'] }, 'b.jsonl', 'U=1')).toBe(
      ['Changes from b.jsonl that do not widen the policy; update the baseline: U=1 (1):', '  x  removed'].join('\n'),
    );
    expect(printBaselineDifference({ widened: [], changed: [] }, 'b.jsonl', 'U=1')).toBe('');
  });
});
