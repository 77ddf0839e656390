import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import {
  ADAPTERS,
  APP_ORIGIN,
  EVIL_ORIGIN,
  GLOBAL_POLICY,
  PARTNER_ORIGIN,
  appModule,
  CapturingLogger,
  corsHeaderNames,
  handled,
  startApp,
} from './app.fixture.js';

describe.each(ADAPTERS)('nestjs-cors on $name ($bootstrap)', (adapter) => {
  let app: INestApplication;
  const http = () => request(app.getHttpServer());
  const preflight = (path: string, origin: string, method: string, headers?: string) => {
    const req = http().options(path).set('Origin', origin).set('Access-Control-Request-Method', method);
    return headers === undefined ? req : req.set('Access-Control-Request-Headers', headers);
  };

  beforeAll(async () => {
    app = await startApp(adapter, [appModule()]);
  });
  afterAll(() => app.close());
  beforeEach(() => {
    handled.length = 0;
  });

  describe('preflight, global policy', () => {
    it('is accepted with every header of the answer and an empty body', async () => {
      const res = await preflight('/users', APP_ORIGIN, 'POST', 'Authorization, Content-Type');
      expect(res.status).toBe(204);
      expect(res.text ?? '').toBe('');
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-allow-methods']).toBe('GET, POST, HEAD');
      expect(res.headers['access-control-allow-headers']).toBe(
        'accept, accept-language, content-language, content-type, authorization',
      );
      expect(res.headers['access-control-max-age']).toBe('600');
      expect(res.headers.vary).toBe('Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      expect(handled).toEqual([]);
    });

    it.each([
      ['origin', EVIL_ORIGIN, 'POST', undefined],
      ['method', APP_ORIGIN, 'DELETE', undefined],
      ['header', APP_ORIGIN, 'POST', 'Authorization, X-Secret'],
    ])(
      'is rejected for its %s with 403, a short reason and no CORS headers',
      async (reason, origin, method, headers) => {
        const res = await preflight('/users', origin, method, headers);
        expect(res.status).toBe(403);
        expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(res.text).toBe(`CORS preflight rejected: ${reason} not allowed`);
        expect(corsHeaderNames(res)).toEqual([]);
        expect(res.headers.vary).toContain('Origin');
      },
    );

    it('is answered for a GET-only route, for the method it announces', async () => {
      const res = await preflight('/public/count', 'https://anyone.test', 'GET');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
    });

    it('is answered with the global policy for a path no route serves', async () => {
      const accepted = await preflight('/no/such/path', APP_ORIGIN, 'POST');
      expect(accepted.status).toBe(204);
      expect(accepted.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      const rejected = await preflight('/no/such/path', PARTNER_ORIGIN, 'GET');
      expect(rejected.status).toBe(403);
    });

    it('treats OPTIONS without Access-Control-Request-Method as an ordinary request for the app', async () => {
      const res = await http().options('/users/plain').set('Origin', APP_ORIGIN);
      expect(res.status).toBe(200);
      expect(res.text).toBe('options handler');
      expect(handled).toEqual(['users.plainOptions']);
    });
  });

  describe('controller and route policies', () => {
    it("controller @Cors({ origin: '*' }) answers any origin with '*' and no credentials", async () => {
      const res = await http().get('/public').set('Origin', 'https://anyone.test');
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expect(res.headers['access-control-expose-headers']).toBe('X-Request-Id');
      expect(res.headers.vary ?? '').not.toContain('Origin');
    });

    it("origin '*' goes on every response, CORS request or not, so a cached response serves any later request", async () => {
      const withoutOrigin = await http().get('/public');
      const sameOrigin = await http().get('/public').set('Origin', APP_ORIGIN).set('Sec-Fetch-Site', 'same-origin');
      for (const res of [withoutOrigin, sameOrigin]) {
        expect(res.status).toBe(200);
        expect(res.headers['access-control-allow-origin']).toBe('*');
        expect(res.headers['access-control-expose-headers']).toBe('X-Request-Id');
        expect(res.headers.vary).toBeUndefined();
      }
      const closed = await http().post('/public/admin');
      expect(closed.status).toBe(201);
      expect(corsHeaderNames(closed)).toEqual([]);
      expect(closed.headers.vary).toBe('Origin');
    });

    it('route @Cors overrides field by field: exposed headers from the route, origin from the controller', async () => {
      const res = await http().get('/public/count').set('Origin', 'https://anyone.test');
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-expose-headers']).toBe('X-Total-Count');
    });

    it('@Cors(false) allows no cross-origin access, and enforce stops the handler', async () => {
      const pre = await preflight('/public/admin', 'https://anyone.test', 'POST');
      expect(pre.status).toBe(403);
      expect(pre.text).toBe('CORS preflight rejected: origin not allowed');
      const res = await http().post('/public/admin').set('Origin', APP_ORIGIN);
      expect(res.status).toBe(403);
      expect(corsHeaderNames(res)).toEqual([]);
      expect(handled).toEqual([]);
    });

    it('a controller policy answers preflights for its parameterised routes', async () => {
      const res = await preflight('/partner/items/42', PARTNER_ORIGIN, 'PUT', 'x-partner-key');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(PARTNER_ORIGIN);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-allow-methods']).toBe('GET, PUT, DELETE, HEAD');
      expect(res.headers['access-control-allow-headers']).toContain('x-partner-key');
      expect((await preflight('/partner/items/42', APP_ORIGIN, 'PUT')).status).toBe(403);
    });

    it('a route that narrows methods rejects the method it is served by', async () => {
      const pre = await preflight('/partner/items/42', PARTNER_ORIGIN, 'DELETE');
      expect(pre.status).toBe(403);
      expect(pre.text).toBe('CORS preflight rejected: method not allowed');
      const res = await http().delete('/partner/items/42').set('Origin', PARTNER_ORIGIN);
      expect(res.status).toBe(403);
      expect(res.body.message).toBe('CORS request rejected: method not allowed');
      expect(handled).toEqual([]);
    });
  });

  describe('actual requests', () => {
    it('an allowed origin gets ACAO, credentials and exposed headers', async () => {
      const res = await http().get('/users').set('Origin', APP_ORIGIN);
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-expose-headers']).toBe('X-Request-Id');
      expect(res.headers.vary).toBe('Origin');
    });

    it('HEAD counts as GET', async () => {
      const res = await http().head('/users').set('Origin', APP_ORIGIN);
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    });

    it('a disallowed origin on a safe method is served without CORS headers (the browser hides it)', async () => {
      const res = await http().get('/users').set('Origin', EVIL_ORIGIN);
      expect(res.status).toBe(200);
      expect(corsHeaderNames(res)).toEqual([]);
      expect(res.headers.vary).toBe('Origin');
      expect(handled).toEqual(['users.list']);
    });

    it('a disallowed origin on an unsafe method is refused with 403 before the handler (CSRF)', async () => {
      const res = await http().post('/users').set('Origin', EVIL_ORIGIN).type('form').send('a=1');
      expect(res.status).toBe(403);
      expect(res.body.message).toBe('CORS request rejected: origin not allowed');
      expect(corsHeaderNames(res)).toEqual([]);
      expect(handled).toEqual([]);
    });

    it('an allowed origin on an unsafe method reaches the handler', async () => {
      const res = await http().post('/users').set('Origin', APP_ORIGIN);
      expect(res.status).toBe(201);
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(handled).toEqual(['users.create']);
    });

    it('requests without Origin are never rejected and get no CORS headers, but Vary', async () => {
      const res = await http().post('/users');
      expect(res.status).toBe(201);
      expect(corsHeaderNames(res)).toEqual([]);
      expect(res.headers.vary).toBe('Origin');
      expect(handled).toEqual(['users.create']);
    });

    it.each([
      ['Sec-Fetch-Site: same-origin', { 'Sec-Fetch-Site': 'same-origin' }],
      ['an Origin equal to Host', { Host: 'evil.example' }],
    ])('same-origin requests (%s) are never rejected and get no CORS headers', async (_case, headers) => {
      const res = await http().post('/users').set('Origin', EVIL_ORIGIN).set(headers);
      expect(res.status).toBe(201);
      expect(corsHeaderNames(res)).toEqual([]);
      expect(handled).toEqual(['users.create']);
    });

    it('same-origin requests from an allowed origin get no CORS headers either', async () => {
      const res = await http().get('/users').set('Origin', APP_ORIGIN).set('Sec-Fetch-Site', 'same-origin');
      expect(res.status).toBe(200);
      expect(corsHeaderNames(res)).toEqual([]);
      expect(res.headers.vary).toBe('Origin');
    });

    it('Sec-Fetch-Site: cross-site wins over an Origin that equals Host', async () => {
      const res = await http()
        .post('/users')
        .set('Origin', EVIL_ORIGIN)
        .set('Host', 'evil.example')
        .set('Sec-Fetch-Site', 'cross-site');
      expect(res.status).toBe(403);
      expect(handled).toEqual([]);
    });
  });

  describe('errors keep the CORS headers of an allowed request', () => {
    it.each([
      ['a 401 from another guard', '/users/me', 401],
      ['a thrown exception (500)', '/users/boom', 500],
      ['a 404 for an unknown path', '/users/nope/nothing', 404],
    ])('%s', async (_case, path, status) => {
      const res = await http().get(path).set('Origin', APP_ORIGIN);
      expect(res.status).toBe(status);
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers.vary).toContain('Origin');
    });
  });

  describe('Vary', () => {
    it("keeps a handler's @Header('Vary') and adds Origin to it", async () => {
      const res = await http().get('/users/vary').set('Origin', APP_ORIGIN);
      expect(res.headers.vary).toBe('Accept, Origin');
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    });
  });
});

describe.each(ADAPTERS)('nestjs-cors app setup on $name ($bootstrap)', (adapter) => {
  it('resolves preflights under a global prefix to the prefixed route', async () => {
    const app = await startApp(adapter, [appModule()], { configure: (a) => a.setGlobalPrefix('api') });
    try {
      const res = await request(app.getHttpServer())
        .options('/api/partner/items/1')
        .set('Origin', PARTNER_ORIGIN)
        .set('Access-Control-Request-Method', 'PUT');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(PARTNER_ORIGIN);
    } finally {
      await app.close();
    }
  });

  it('keeps a Vary that earlier middleware set', async () => {
    const app = await startApp(adapter, [appModule()], {
      configure: (a) =>
        a.use((_req: unknown, res: { setHeader(name: string, value: string): void }, next: () => void) => {
          res.setHeader('Vary', 'Accept-Encoding');
          next();
        }),
    });
    try {
      const res = await request(app.getHttpServer()).get('/users').set('Origin', APP_ORIGIN);
      expect(res.headers.vary).toBe('Accept-Encoding, Origin');
    } finally {
      await app.close();
    }
  });

  it('denies, logs and survives an origin function that throws or rejects', async () => {
    const app = await startApp(adapter, [
      appModule({
        origin: (origin: string) => {
          if (origin === 'https://throws.test') throw new Error('lookup failed');
          if (origin === 'https://rejects.test') return Promise.reject(new Error('db down'));
          return Promise.resolve(origin === 'https://async-ok.test');
        },
        methods: ['GET', 'POST'],
      }),
    ]);
    try {
      const server = app.getHttpServer();
      const ok = await request(server)
        .options('/users')
        .set('Origin', 'https://async-ok.test')
        .set('Access-Control-Request-Method', 'POST');
      expect(ok.status).toBe(204);
      expect(ok.headers['access-control-allow-origin']).toBe('https://async-ok.test');
      for (const origin of ['https://throws.test', 'https://rejects.test']) {
        const pre = await request(server)
          .options('/users')
          .set('Origin', origin)
          .set('Access-Control-Request-Method', 'POST');
        expect(pre.status).toBe(403);
        const actual = await request(server).post('/users').set('Origin', origin);
        expect(actual.status).toBe(403);
      }
      expect((await request(server).get('/users')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('denies an origin function that never answers after originTimeout, logging it once; asks once per origin within originCacheTtl', async () => {
    const logger = new CapturingLogger();
    const calls: string[] = [];
    const app = await startApp(
      adapter,
      [
        appModule({
          origin: function partnerDirectory(origin: string) {
            calls.push(origin);
            return origin === 'https://stalled.test'
              ? new Promise<boolean>(() => undefined)
              : Promise.resolve(origin === APP_ORIGIN);
          },
          originTimeout: 50,
          originCacheTtl: 60,
          methods: ['GET', 'POST'],
        }),
      ],
      { appOptions: { logger } },
    );
    try {
      const server = app.getHttpServer();
      for (let i = 0; i < 2; i++) {
        const pre = await request(server)
          .options('/users')
          .set('Origin', 'https://stalled.test')
          .set('Access-Control-Request-Method', 'POST');
        expect(pre.status).toBe(403);
        expect((await request(server).post('/users').set('Origin', 'https://stalled.test')).status).toBe(403);
      }
      const errors = logger.lines.filter((line) => line.level === 'error' && line.context === 'Cors');
      expect(errors.map((line) => line.message)).toEqual([
        expect.stringMatching(
          /^origin function partnerDirectory did not answer for "https:\/\/stalled\.test" within 50 ms; denied/,
        ),
      ]);
      calls.length = 0;
      const burst = await Promise.all(
        Array.from({ length: 20 }, () => request(server).get('/users').set('Origin', APP_ORIGIN)),
      );
      expect(burst.map((res) => res.headers['access-control-allow-origin'])).toEqual(Array(20).fill(APP_ORIGIN));
      expect(calls).toEqual([APP_ORIGIN]);
    } finally {
      await app.close();
    }
  });

  it('uses optionsSuccessStatus and maxAge from forRoot', async () => {
    const app = await startApp(adapter, [appModule({ ...GLOBAL_POLICY, optionsSuccessStatus: 200, maxAge: 30 })]);
    try {
      const res = await request(app.getHttpServer())
        .options('/users')
        .set('Origin', APP_ORIGIN)
        .set('Access-Control-Request-Method', 'GET');
      expect(res.status).toBe(200);
      expect(res.headers['access-control-max-age']).toBe('30');
    } finally {
      await app.close();
    }
  });
});
