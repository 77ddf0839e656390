import 'reflect-metadata';
import { Agent, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import {
  Controller,
  Delete,
  Get,
  type INestApplication,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestMiddleware,
  type NestModule,
  Post,
  Put,
  Version,
  VersioningType,
} from '@nestjs/common';
import { WebSocketGateway } from '@nestjs/websockets';
import request from 'supertest';
import {
  Cors,
  CorsAudit,
  CorsConfigError,
  CorsModule,
  type CorsModuleOptions,
  CORS_OVERRIDES,
  type CorsOverrides,
  CorsReconfigurer,
  type CorsRejection,
} from '../../src/index.js';
import { ADAPTERS, CapturingLogger, corsHeaderNames, startApp, withApp } from './app.fixture.js';
import { EchoGateway, openWebSocket, TRANSPORTS } from './gateway.fixture.js';

const OLD = 'https://old.example.com';
const NEW = 'https://new.example.com';
const OLD_PARTNER = 'https://old-partner.example.net';
const NEW_PARTNER = 'https://new-partner.example.net';

@Controller('items')
class ItemsController {
  @Get() list() {
    return [];
  }
  @Post() create() {
    return 'created';
  }
}

@Cors('partner')
@Controller('partner/orders')
class PartnerOrdersController {
  @Put(':id') update() {
    return 'updated';
  }
  @Cors('partner', { exposedHeaders: ['X-Total-Count'] }) @Get('count') count() {
    return 3;
  }
}

@Controller('reports')
class ReportsController {
  @Cors({ methods: ['GET', 'DELETE'] }) @Delete(':id') remove() {
    return 'removed';
  }
}

@Cors({ origin: '*', methods: ['GET'] })
@Controller('public')
class PublicController {
  @Get() list() {
    return ['public'];
  }
}

const CONTROLLERS = [ItemsController, PartnerOrdersController, ReportsController, PublicController];

/** What the app starts with, and what it is reconfigured to: each level's origins change. */
const BEFORE: CorsModuleOptions = {
  origin: [OLD],
  methods: ['GET', 'POST'],
  exposedHeaders: ['X-Old'],
  policies: { partner: { origin: [OLD_PARTNER], methods: ['GET', 'PUT'] } },
  paths: [{ path: '/feed', policy: { origin: [OLD], exposedHeaders: ['X-Feed'] } }],
};
const AFTER: CorsModuleOptions = {
  origin: [NEW],
  methods: ['GET', 'POST'],
  exposedHeaders: ['X-New'],
  policies: { partner: { origin: [NEW_PARTNER], methods: ['GET', 'PUT'] } },
  paths: [{ path: '/feed', policy: { origin: [NEW], exposedHeaders: ['X-Feed'] } }],
};

function moduleWith(options: CorsModuleOptions, controllers = CONTROLLERS) {
  @Module({ imports: [CorsModule.forRoot(options)], controllers })
  class ReconfiguredModule {}
  return ReconfiguredModule;
}

/** The app, listening, so that concurrent requests share one server. */
async function listening(started: Promise<INestApplication>): Promise<INestApplication> {
  const app = await started;
  await app.listen(0, '127.0.0.1');
  return app;
}

function reconfigurer(app: INestApplication): CorsReconfigurer {
  return app.get(CorsReconfigurer);
}

function preflight(app: INestApplication, path: string, origin: string, method: string) {
  return request(app.getHttpServer()).options(path).set('Origin', origin).set('Access-Control-Request-Method', method);
}

/** A promise and what settles it. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe.each(ADAPTERS)('reconfigure() on $name ($bootstrap)', (adapter) => {
  it('allows the new origins and refuses the old ones, at every level; the @Cors() of the code stays', async () => {
    await withApp(await listening(startApp(adapter, [moduleWith(BEFORE)])), async (app) => {
      expect((await preflight(app, '/items', OLD, 'POST')).status).toBe(204);
      expect((await preflight(app, '/items', NEW, 'POST')).status).toBe(403);

      reconfigurer(app).reconfigure(AFTER);

      // The global policy: preflight and actual request.
      expect((await preflight(app, '/items', OLD, 'POST')).status).toBe(403);
      const accepted = await preflight(app, '/items', NEW, 'POST');
      expect(accepted.status).toBe(204);
      expect(accepted.headers['access-control-allow-origin']).toBe(NEW);
      const refused = await request(app.getHttpServer()).post('/items').set('Origin', OLD);
      expect(refused.status).toBe(403);
      expect(corsHeaderNames(refused)).toEqual([]);
      const created = await request(app.getHttpServer()).post('/items').set('Origin', NEW);
      expect(created.status).toBe(201);
      expect(created.headers['access-control-allow-origin']).toBe(NEW);
      expect(created.headers['access-control-expose-headers']).toBe('X-New');

      // A named policy, and a route that adds its own fields to it.
      expect((await preflight(app, '/partner/orders/7', OLD_PARTNER, 'PUT')).status).toBe(403);
      expect((await preflight(app, '/partner/orders/7', NEW_PARTNER, 'PUT')).status).toBe(204);
      const count = await request(app.getHttpServer()).get('/partner/orders/count').set('Origin', NEW_PARTNER);
      expect(count.headers['access-control-allow-origin']).toBe(NEW_PARTNER);
      expect(count.headers['access-control-expose-headers']).toBe('X-Total-Count');

      // A route whose own @Cors() sets its methods: the origins are the new global ones, the methods still its own.
      expect((await preflight(app, '/reports/7', OLD, 'DELETE')).status).toBe(403);
      const remove = await preflight(app, '/reports/7', NEW, 'DELETE');
      expect(remove.status).toBe(204);
      expect(remove.headers['access-control-allow-methods']).toBe('GET, DELETE, HEAD');
      const open = await request(app.getHttpServer()).get('/public').set('Origin', OLD);
      expect(open.headers['access-control-allow-origin']).toBe('*');
      expect(open.headers['access-control-expose-headers']).toBe('X-New');

      // A `paths` entry, for a path no controller serves.
      expect((await preflight(app, '/feed', OLD, 'GET')).status).toBe(403);
      expect((await preflight(app, '/feed', NEW, 'GET')).status).toBe(204);
      const feed = await request(app.getHttpServer()).get('/feed').set('Origin', NEW);
      expect(feed.status).toBe(404);
      expect(feed.headers['access-control-allow-origin']).toBe(NEW);
      expect(feed.headers['access-control-expose-headers']).toBe('X-Feed');
    });
  });

  it('may be called before the app initialises: the routes are then resolved over the new configuration', async () => {
    const app = await startApp(adapter, [moduleWith(BEFORE)], { configure: (a) => reconfigurer(a).reconfigure(AFTER) });
    await withApp(app, async () => {
      expect((await preflight(app, '/items', OLD, 'POST')).status).toBe(403);
      expect((await preflight(app, '/partner/orders/7', NEW_PARTNER, 'PUT')).status).toBe(204);
      expect(app.get(CorsAudit).routeFor('GET', '/feed').handler).toBe('reconfigure() paths[0]');
    });
  });

  it('is what the audit shows from then on', async () => {
    await withApp(await startApp(adapter, [moduleWith(BEFORE)]), async (app) => {
      const audit = app.get(CorsAudit);
      reconfigurer(app).reconfigure(AFTER);
      expect(audit.routeFor('POST', '/items')).toMatchObject({
        origin: [NEW],
        exposedHeaders: ['X-New'],
        from: expect.objectContaining({ origin: 'reconfigure()' }),
      });
      expect(audit.routeFor('PUT', '/partner/orders/7')).toMatchObject({
        origin: [NEW_PARTNER],
        from: expect.objectContaining({ origin: "policy 'partner'" }),
      });
      expect(audit.routeFor('DELETE', '/reports/7')).toMatchObject({
        origin: [NEW],
        methods: ['GET', 'DELETE'],
        from: expect.objectContaining({ origin: 'reconfigure()', methods: 'ReportsController.remove' }),
      });
      expect(audit.routeFor('GET', '/feed')).toMatchObject({ handler: 'reconfigure() paths[0]', origin: [NEW] });
      expect(
        audit.routes().filter((route) => route.origin.includes(OLD) || route.origin.includes(OLD_PARTNER)),
      ).toEqual([]);
    });
  });

  it('throws one CorsConfigError naming every mistake of the configuration, and changes nothing', async () => {
    await withApp(await startApp(adapter, [moduleWith(BEFORE)]), async (app) => {
      const audit = app.get(CorsAudit);
      const before = audit.table();
      const attempt = (options: CorsModuleOptions) => {
        try {
          reconfigurer(app).reconfigure(options);
        } catch (error) {
          return error;
        }
        throw new Error('reconfigure() accepted a wrong configuration');
      };

      // Mistakes of the configuration itself.
      const invalid = attempt({
        origin: ['https://new.example.com/'],
        policies: { partner: { origin: '*', credentials: true } },
        paths: [{ path: '/feed', policy: String('feeds') as 'partner' }],
      });
      expect(invalid).toBeInstanceOf(CorsConfigError);
      expect((invalid as CorsConfigError).errors.map((error) => error.location)).toEqual([
        'reconfigure()',
        "reconfigure() policy 'partner'",
        'reconfigure() paths[0] (/feed)',
      ]);

      // A configuration valid on its own, wrong for the routes of the app: a policy they name is gone, and a route's
      // own origin '*' cannot go with the credentials it would now inherit.
      const wrongForRoutes = attempt({ origin: [NEW], credentials: true }) as CorsConfigError;
      expect(wrongForRoutes).toBeInstanceOf(CorsConfigError);
      expect(wrongForRoutes.errors.map((error) => error.location)).toEqual([
        'PartnerOrdersController',
        'PublicController',
      ]);
      expect(wrongForRoutes.message).toContain("unknown policy 'partner' (reconfigure() defines no policies)");
      expect(wrongForRoutes.message).toContain("credentials from reconfigure() cannot be used with origin '*'");

      expect(audit.table()).toBe(before);
      expect((await preflight(app, '/items', OLD, 'POST')).status).toBe(204);
      expect((await preflight(app, '/items', 'https://new.example.com', 'POST')).status).toBe(403);
      expect((await preflight(app, '/partner/orders/7', OLD_PARTNER, 'PUT')).status).toBe(204);
    });
  });

  it('logs what the opt-ins of the new configuration let through, as at startup', async () => {
    const logger = new CapturingLogger();
    const app = await startApp(adapter, [moduleWith({ origin: [OLD] }, [ItemsController])], {
      appOptions: { logger },
    });
    await withApp(app, async () => {
      reconfigurer(app).reconfigure({
        origin: ['null'],
        credentials: true,
        dangerouslyAllowNullOriginWithCredentials: true,
      });
      const warnings = logger.lines.filter((line) => line.level === 'warn' && line.context === 'Cors');
      expect(warnings).toEqual([
        expect.objectContaining({ message: expect.stringMatching(/^reconfigure\(\): .*dangerouslyAllowNullOrigin/) }),
      ]);
      const res = await request(app.getHttpServer()).get('/items').set('Origin', 'null');
      expect(res.headers['access-control-allow-origin']).toBe('null');
    });
  });

  it('replaces onRejection where the new configuration gives one, and keeps it where it does not', async () => {
    const first: CorsRejection[] = [];
    const second: CorsRejection[] = [];
    const app = await startApp(adapter, [
      moduleWith({ origin: [OLD], onRejection: (rejection) => void first.push(rejection) }, [ItemsController]),
    ]);
    await withApp(app, async () => {
      const reject = () => preflight(app, '/items', 'https://evil.example', 'GET');
      reconfigurer(app).reconfigure({ origin: [NEW] });
      await reject();
      reconfigurer(app).reconfigure({ origin: [NEW], onRejection: (rejection) => void second.push(rejection) });
      await reject();
      await delay(20);
      expect([first.length, second.length]).toEqual([1, 1]);
    });
  });

  it('finishes a request that awaits an origin function under the configuration it started with', async () => {
    const answer = gate();
    const asked = gate();
    let calls = 0;
    // Declared with the request, so that each request asks it: both are known to be in flight.
    const slowlyOld = async (origin: string, _request: IncomingMessage) => {
      if (++calls === 2) asked.open();
      await answer.opened;
      return origin === OLD;
    };
    const options = { origin: slowlyOld, methods: ['GET', 'POST'], exposedHeaders: ['X-Old'] };
    await withApp(await listening(startApp(adapter, [moduleWith(options, [ItemsController])])), async (app) => {
      const server = app.getHttpServer();
      const heldPost = request(server)
        .post('/items')
        .set('Origin', OLD)
        .then((res) => res);
      const heldPreflight = preflight(app, '/items', OLD, 'POST').then((res) => res);
      await asked.opened;

      reconfigurer(app).reconfigure({ origin: [NEW], methods: ['GET', 'POST'], exposedHeaders: ['X-New'] });
      const after = await request(server).post('/items').set('Origin', OLD);
      expect(after.status).toBe(403);

      answer.open();
      const [post, pre] = await Promise.all([heldPost, heldPreflight]);
      expect(post.status).toBe(201);
      expect(post.headers['access-control-allow-origin']).toBe(OLD);
      expect(post.headers['access-control-expose-headers']).toBe('X-Old');
      expect(pre.status).toBe(204);
      expect(pre.headers['access-control-allow-origin']).toBe(OLD);
    });
  });

  it('gives every request of a load the headers of one configuration, however often it is swapped', async () => {
    const A = 'https://a.example.com';
    const B = 'https://b.example.com';
    // Origin functions that take a little while, so that requests are in flight while the configuration is swapped.
    const allowing = (allowed: string) => async (origin: string) => {
      await delay(Math.random() * 4);
      return origin === allowed;
    };
    const configA = { origin: allowing(A), methods: ['GET', 'PUT'], exposedHeaders: ['X-A'], maxAge: 100 };
    const configB = { origin: allowing(B), methods: ['GET', 'PATCH'], exposedHeaders: ['X-B'], maxAge: 200 };
    /** What each configuration answers an origin it allows, and so what each response with CORS headers must be. */
    const headersOf: Record<string, { actual: { expose: string }; preflight: Record<string, string> }> = {
      [A]: { actual: { expose: 'X-A' }, preflight: { methods: 'GET, PUT, HEAD', maxAge: '100', requested: 'PUT' } },
      [B]: { actual: { expose: 'X-B' }, preflight: { methods: 'GET, PATCH, HEAD', maxAge: '200', requested: 'PATCH' } },
    };
    await withApp(await listening(startApp(adapter, [moduleWith(configA, [ItemsController])])), async (app) => {
      const { port } = app.getHttpServer().address() as { port: number };
      const agent = new Agent({ keepAlive: true, maxSockets: 32 });
      let done = false;
      let swaps = 0;
      const swapping = (async () => {
        while (!done) {
          await delay(2);
          reconfigurer(app).reconfigure(swaps++ % 2 === 0 ? configB : configA);
        }
      })();
      const requests = Array.from({ length: 200 }, (_, i) => {
        const origin = i % 2 === 0 ? A : B;
        const isPreflight = i % 4 >= 2;
        const headers: Record<string, string> = { Origin: origin };
        if (isPreflight) headers['Access-Control-Request-Method'] = headersOf[origin].preflight.requested;
        return send(port, agent, isPreflight ? 'OPTIONS' : 'GET', headers).then((res) => ({
          origin,
          isPreflight,
          ...res,
        }));
      });
      const responses = await Promise.all(requests).finally(() => (done = true));
      await swapping;
      agent.destroy();

      expect(swaps).toBeGreaterThanOrEqual(3);
      let allowed = 0;
      for (const { origin, isPreflight, status, headers } of responses) {
        const cors = Object.keys(headers).filter((name) => name.startsWith('access-control-'));
        if (headers['access-control-allow-origin'] === undefined) {
          expect({ status, cors }).toEqual({ status: isPreflight ? 403 : 200, cors: [] });
          continue;
        }
        allowed++;
        expect(headers['access-control-allow-origin']).toBe(origin);
        if (isPreflight) {
          const { methods, maxAge } = headersOf[origin].preflight;
          expect({
            status,
            methods: headers['access-control-allow-methods'],
            maxAge: headers['access-control-max-age'],
          }).toEqual({ status: 204, methods, maxAge });
        } else {
          expect({ status, expose: headers['access-control-expose-headers'] }).toEqual({
            status: 200,
            ...headersOf[origin].actual,
          });
        }
      }
      // Both configurations answered some of them.
      expect(
        new Set(responses.filter((res) => res.headers['access-control-allow-origin']).map((res) => res.origin)).size,
      ).toBe(2);
      expect(allowed).toBeLessThan(responses.length);
    });
  });

  it('forgets what origin functions remember: all of it on reconfigure(), one origin on forgetOrigin()', async () => {
    const partners = new Set(['https://p1.example.net', 'https://p2.example.net', 'https://p3.example.net']);
    const asked: string[] = [];
    const partnerTable = async (origin: string) => (asked.push(origin), partners.has(origin));
    const options = { origin: partnerTable, originCacheTtl: 600, methods: ['GET', 'POST'] };
    await withApp(await startApp(adapter, [moduleWith(options, [ItemsController])]), async (app) => {
      const post = async (origin: string) =>
        (await request(app.getHttpServer()).post('/items').set('Origin', origin)).status;
      expect(await Promise.all([...partners].map(post))).toEqual([201, 201, 201]);
      partners.clear();
      expect(await post('https://p1.example.net')).toBe(201);

      // The same function and TTL: the new configuration remembers nothing of the old one's.
      reconfigurer(app).reconfigure(options);
      expect(await post('https://p1.example.net')).toBe(403);

      partners.add('https://p2.example.net').add('https://p3.example.net');
      expect([await post('https://p2.example.net'), await post('https://p3.example.net')]).toEqual([201, 201]);
      partners.clear();
      reconfigurer(app).forgetOrigin('https://p2.example.net');
      expect([await post('https://p2.example.net'), await post('https://p3.example.net')]).toEqual([403, 201]);
      reconfigurer(app).forgetOrigin();
      expect(await post('https://p3.example.net')).toBe(403);
      expect(asked.filter((origin) => origin === 'https://p1.example.net')).toHaveLength(2);
    });
  });
});

@WebSocketGateway({ path: '/chat' })
class ChatGateway extends EchoGateway {}

@Cors('partner')
@WebSocketGateway({ path: '/partner-feed' })
class PartnerFeedGateway extends EchoGateway {}

@Module({ imports: [CorsModule.forRoot(BEFORE)], providers: [ChatGateway, PartnerFeedGateway] })
class GatewaysModule {}

describe.each(ADAPTERS)('reconfigure() and WebSocket gateways on $name ($bootstrap)', (adapter) => {
  it('decides handshakes under the new configuration: the global policy, and a gateway with a named one', async () => {
    const [ws] = TRANSPORTS;
    await withApp(await listening(startApp(adapter, [GatewaysModule], { configure: ws.configure })), async (app) => {
      const { port } = app.getHttpServer().address() as { port: number };
      const handshake = async (path: string, origin: string) => {
        const result = await openWebSocket(`ws://127.0.0.1:${port}${path}`, { Origin: origin });
        if ('open' in result) {
          result.open.close();
          return 'open';
        }
        return 'status' in result ? result.status : result.error;
      };
      expect([await handshake('/chat', OLD), await handshake('/partner-feed', OLD_PARTNER)]).toEqual(['open', 'open']);
      reconfigurer(app).reconfigure(AFTER);
      expect([await handshake('/chat', OLD), await handshake('/partner-feed', OLD_PARTNER)]).toEqual([403, 403]);
      expect([await handshake('/chat', NEW), await handshake('/partner-feed', NEW_PARTNER)]).toEqual(['open', 'open']);
    });
  });
});

/** One request over `agent`: its status and headers. */
function send(
  port: number,
  agent: Agent,
  method: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/items', method, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(ADAPTERS.filter(({ bootstrap }) => bootstrap === 'testing module'))(
  'reconfigure() with test overrides on $name',
  (adapter) => {
    it('applies what a test overrides (CORS_OVERRIDES) over the new configuration', async () => {
      const TEST_PARTNER = 'http://localhost:4300';
      const overrides: CorsOverrides = {
        global: { exposedHeaders: ['X-Test'] },
        policies: { partner: { origin: [TEST_PARTNER] } },
      };
      const app = await startApp(adapter, [moduleWith(BEFORE)], {
        override: (builder) => builder.overrideProvider(CORS_OVERRIDES).useValue(overrides),
      });
      await withApp(app, async () => {
        reconfigurer(app).reconfigure(AFTER);
        const items = await request(app.getHttpServer()).get('/items').set('Origin', NEW);
        expect(items.headers['access-control-allow-origin']).toBe(NEW);
        expect(items.headers['access-control-expose-headers']).toBe('X-Test');
        expect((await preflight(app, '/partner/orders/7', NEW_PARTNER, 'PUT')).status).toBe(403);
        expect((await preflight(app, '/partner/orders/7', TEST_PARTNER, 'PUT')).status).toBe(204);
      });
    });
  },
);

/** Holds a request that carries `X-Hold` after the front door decided it, before the guard of its handler runs. */
let hold = { arrived: gate(), release: gate() };

@Injectable()
class HoldMiddleware implements NestMiddleware {
  use(req: IncomingMessage, _res: unknown, next: () => void) {
    if (req.headers['x-hold'] === undefined) return next();
    hold.arrived.open();
    void hold.release.opened.then(() => next());
  }
}

const V_OLD = 'https://v-old.example.com';
const V_NEW = 'https://v-new.example.com';

/** Two versions of GET /ledger that only a header tells apart: the guard decides which policy's headers they get. */
@Controller('ledger')
class LedgerController {
  @Cors({ exposedHeaders: ['X-V1'] }) @Version('1') @Get() v1() {
    return 'v1';
  }
  @Cors({ exposedHeaders: ['X-V2'] }) @Version('2') @Get() v2() {
    return 'v2';
  }
}

@Module({ imports: [CorsModule.forRoot({ origin: [V_OLD] })], controllers: [LedgerController] })
class LedgerModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(HoldMiddleware).forRoutes(LedgerController);
  }
}

describe.each(ADAPTERS)('reconfigure() and versioned handlers on $name ($bootstrap)', (adapter) => {
  it('decides a request the guard finishes under the configuration the front door started it with', async () => {
    hold = { arrived: gate(), release: gate() };
    const app = await listening(
      startApp(adapter, [LedgerModule], {
        configure: (a) => a.enableVersioning({ type: VersioningType.HEADER, header: 'X-Api-Version' }),
      }),
    );
    await withApp(app, async () => {
      const get = (origin: string) =>
        request(app.getHttpServer()).get('/ledger').set('Origin', origin).set('X-Api-Version', '2');
      const held = get(V_OLD)
        .set('X-Hold', '1')
        .then((res) => res);
      await hold.arrived.opened;

      reconfigurer(app).reconfigure({ origin: [V_NEW] });
      expect((await get(V_OLD)).headers['access-control-allow-origin']).toBeUndefined();
      const fresh = await get(V_NEW);
      expect(fresh.headers['access-control-allow-origin']).toBe(V_NEW);
      expect(fresh.headers['access-control-expose-headers']).toBe('X-V2');

      hold.release.open();
      const res = await held;
      expect(res.text).toBe('v2');
      expect(res.headers['access-control-allow-origin']).toBe(V_OLD);
      expect(res.headers['access-control-expose-headers']).toBe('X-V2');
    });
  });
});
