import 'reflect-metadata';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  All,
  type ArgumentsHost,
  Catch,
  Controller,
  Delete,
  type ExceptionFilter,
  Get,
  HttpException,
  type INestApplication,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestMiddleware,
  type NestModule,
  Post,
  Put,
  VersioningType,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import express from 'express';
import fastify from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import request from 'supertest';
import { Cors, CorsModule } from '../../src/index.js';
import {
  ADAPTERS,
  type AdapterCase,
  APP_ORIGIN,
  EVIL_ORIGIN,
  GLOBAL_POLICY,
  corsHeaderNames,
  handled,
  recordHandled,
  setFilterHeader,
  startApp,
} from './app.fixture.js';

/** What ran of the app for a request, in order: `main.ts`'s `app.use()`, Nest middleware, instance hooks. */
const ran: string[] = [];

@Injectable()
class RecordingMiddleware implements NestMiddleware {
  use(_req: unknown, _res: unknown, next: () => void) {
    ran.push('nest middleware');
    next();
  }
}

@Controller('orders')
class OrdersController {
  @Get() list() {
    return recordHandled('orders.list', []);
  }
  @Post() create() {
    return recordHandled('orders.create', 'created');
  }
}

@Module({ imports: [CorsModule.forRoot(GLOBAL_POLICY)], controllers: [OrdersController] })
class DeployedModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(RecordingMiddleware).forRoutes('*');
  }
}

/** A global filter of main.ts: every error as problem details. */
@Catch()
class ProblemFilter implements ExceptionFilter {
  constructor(private readonly app: () => INestApplication) {}
  catch(exception: unknown, host: ArgumentsHost) {
    const status = exception instanceof HttpException ? exception.getStatus() : 500;
    const adapter = this.app().getHttpAdapter();
    const response = host.switchToHttp().getResponse();
    setFilterHeader(adapter, response, 'Content-Type', 'application/problem+json');
    adapter.reply(
      response,
      JSON.stringify({ status, detail: exception instanceof Error ? exception.message : 'error' }),
      status,
    );
  }
}

/** Answers with `name`, once recorded. */
const answer = (name: string) => (res: ServerResponse) => {
  handled.push(name);
  res.setHeader('Content-Type', 'text/plain');
  res.end(name);
};

/**
 * An adapter around an instance that already has routes (and, on Fastify, a plugin with a hook and a route of its
 * own) before Nest sees it, as apps that share one server with other code build it.
 */
function prebuiltAdapter(adapter: AdapterCase): ExpressAdapter | FastifyAdapter {
  if (adapter.name === 'express') {
    const server = express();
    server.use((_req, _res, next) => {
      ran.push('instance middleware');
      next();
    });
    server.post('/webhook/transfer', (_req, res) => answer('instance route')(res));
    return new ExpressAdapter(server);
  }
  const instance = fastify();
  instance.register(
    fastifyPlugin(async (root) => {
      root.addHook('onRequest', async () => {
        ran.push('instance hook');
      });
    }),
  );
  instance.post('/webhook/transfer', (_request, reply) => {
    reply.hijack();
    answer('instance route')(reply.raw);
  });
  instance.register(async (plugin) => {
    plugin.post('/plugin/transfer', (_request, reply) => {
      reply.hijack();
      answer('plugin route')(reply.raw);
    });
  });
  return new FastifyAdapter(instance as never);
}

/** As a `main.ts` sets an app up before `listen()`. */
function mainTs(app: INestApplication): void {
  app.use((_req: IncomingMessage, _res: ServerResponse, next: () => void) => {
    ran.push('app.use logger');
    next();
  });
  app.use('/hooks', (_req: IncomingMessage, res: ServerResponse) => answer('app.use handler')(res));
  app.setGlobalPrefix('api', { exclude: ['hooks'] });
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
  app.useGlobalFilters(new ProblemFilter(() => app));
}

const INSTANCES = [
  { instance: 'a plain adapter', prebuilt: false },
  { instance: 'an instance with routes of its own', prebuilt: true },
];

describe.each(ADAPTERS.flatMap((adapter) => INSTANCES.map((instance) => ({ ...adapter, ...instance }))))(
  'an app as deployed: $name, $bootstrap, $instance',
  ({ prebuilt, ...adapter }) => {
    let app: INestApplication;
    const http = () => request(app.getHttpServer());
    const crossSitePost = (path: string, origin = EVIL_ORIGIN) =>
      http()
        .post(path)
        .set('Origin', origin)
        .set('Sec-Fetch-Site', 'cross-site')
        .set('Content-Type', 'text/plain')
        .send('amount=1000');

    beforeAll(async () => {
      app = await startApp(adapter, [DeployedModule], {
        configure: mainTs,
        httpAdapter: prebuilt ? prebuiltAdapter(adapter) : undefined,
      });
    });
    afterAll(() => app.close());
    beforeEach(() => {
      ran.length = 0;
      handled.length = 0;
    });

    const paths = [
      { path: '/api/v1/orders', runs: 'orders.create', status: 201 },
      { path: '/hooks', runs: 'app.use handler', status: 200 },
      ...(prebuilt ? [{ path: '/webhook/transfer', runs: 'instance route', status: 200 }] : []),
      ...(prebuilt && adapter.name === 'fastify'
        ? [{ path: '/plugin/transfer', runs: 'plugin route', status: 200 }]
        : []),
    ];

    describe.each(paths)('$path', ({ path, runs, status }) => {
      it('refuses a cross-site form POST from a disallowed origin before anything of the app runs', async () => {
        const res = await crossSitePost(path);
        expect(res.status).toBe(403);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(JSON.parse(res.text)).toEqual({ status: 403, detail: 'CORS request rejected: origin not allowed' });
        expect(corsHeaderNames(res)).toEqual([]);
        expect(res.headers.vary).toBe('Origin');
        expect(ran).toEqual([]);
        expect(handled).toEqual([]);
      });

      it("serves an allowed origin with the policy's headers", async () => {
        const res = await crossSitePost(path, APP_ORIGIN);
        expect(res.status).toBe(status);
        expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
        expect(res.headers['access-control-allow-credentials']).toBe('true');
        expect(res.headers['access-control-expose-headers']).toBe('X-Request-Id');
        expect(handled).toEqual([runs]);
      });

      it('answers its preflight before anything of the app runs', async () => {
        const accepted = await http()
          .options(path)
          .set('Origin', APP_ORIGIN)
          .set('Access-Control-Request-Method', 'POST');
        expect(accepted.status).toBe(204);
        expect(accepted.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
        const rejected = await http()
          .options(path)
          .set('Origin', EVIL_ORIGIN)
          .set('Access-Control-Request-Method', 'POST');
        expect(rejected.status).toBe(403);
        expect(rejected.text).toBe('CORS preflight rejected: origin not allowed');
        expect(ran).toEqual([]);
        expect(handled).toEqual([]);
      });

      it('lets the app see requests without Origin', async () => {
        const res = await http().post(path).set('Content-Type', 'text/plain').send('x');
        expect(res.status).toBe(status);
        expect(handled).toEqual([runs]);
        expect(ran).not.toEqual([]);
      });
    });
  },
);

// An instance served by a server of the user's (serverless handlers, Fastify's inject(), supertest given the Express
// app) reaches the adapter without the app's HTTP server: the front door inside the adapter decides them.
describe.each(ADAPTERS)('requests that reach $name ($bootstrap) without its HTTP server', (adapter) => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(adapter, [DeployedModule], { configure: mainTs });
  });
  afterAll(() => app.close());
  beforeEach(() => {
    handled.length = 0;
  });

  const send = (origin: string) => {
    const instance = app.getHttpAdapter().getInstance();
    // Fastify's router, called as `serverFactory` and inject() call it.
    const own = adapter.name === 'fastify' ? createServer((req, res) => instance.routing(req, res)) : instance;
    return request(own).post('/api/v1/orders').set({ origin, 'content-type': 'text/plain' }).send('x');
  };

  it('refuses a disallowed cross-site POST before its handler runs', async () => {
    const res = await send(EVIL_ORIGIN);
    expect(res.status).toBe(403);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(handled).toEqual([]);
  });

  it('serves an allowed origin with the headers', async () => {
    const res = await send(APP_ORIGIN);
    expect(res.status).toBe(201);
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(res.headers.vary).toBe('Origin');
    expect(handled).toEqual(['orders.create']);
  });
});

@Controller('admin')
class AdminController {
  @Post() create() {
    return recordHandled('admin.create', 'created');
  }
  @Cors(false) @Delete() remove() {
    return recordHandled('admin.remove', 'removed');
  }
  @Cors({ methods: ['GET', 'POST', 'PUT'], exposedHeaders: ['X-Replaced'] }) @Put() replace() {
    return recordHandled('admin.replace', 'replaced');
  }
}

/** What the `method-override` package does in a main.ts: `POST /admin?_method=DELETE` becomes a DELETE. */
function methodOverride(req: IncomingMessage, _res: ServerResponse, next: () => void): void {
  const override = new URL(req.url ?? '/', 'http://localhost').searchParams.get('_method');
  if (req.method === 'POST' && override !== null) req.method = override.toUpperCase();
  next();
}

describe.each(ADAPTERS)('a method changed by middleware, on $name ($bootstrap)', (adapter) => {
  let app: INestApplication;
  beforeAll(async () => {
    @Module({ imports: [CorsModule.forRoot(GLOBAL_POLICY)], controllers: [AdminController] })
    class AdminModule {}
    app = await startApp(adapter, [AdminModule], { configure: (a) => a.use(methodOverride) });
  });
  afterAll(() => app.close());
  beforeEach(() => {
    handled.length = 0;
  });
  const post = (path: string) =>
    request(app.getHttpServer()).post(path).set('Origin', APP_ORIGIN).set('Content-Type', 'text/plain').send('x');

  it('never runs a handler whose policy refuses the method the request is routed with', async () => {
    const res = await post('/admin?_method=DELETE');
    expect(handled).not.toContain('admin.remove');
    if (adapter.name === 'express') {
      // Express routes it as a DELETE: it is decided again as one, and refused.
      expect(res.status).toBe(403);
      expect(corsHeaderNames(res)).toEqual([]);
      expect(handled).toEqual([]);
    } else {
      // Fastify has routed it as the POST it arrived as before any middleware runs.
      expect(res.status).toBe(201);
      expect(handled).toEqual(['admin.create']);
    }
  });

  it("serves a changed method the route's policy allows, with that policy's headers", async () => {
    const res = await post('/admin?_method=PUT');
    expect(res.status).toBe(adapter.name === 'express' ? 200 : 201);
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(res.headers['access-control-expose-headers']).toBe(
      adapter.name === 'express' ? 'X-Replaced' : 'X-Request-Id',
    );
    expect(handled).toEqual([adapter.name === 'express' ? 'admin.replace' : 'admin.create']);
  });
});

/**
 * POST /stale in version 1 only, then every method of /stale without a version (which a request none of version 1
 * takes goes on to): reads from one origin, writes from another.
 */
const READER = 'https://reader.example.com';
const WRITER = 'https://writer.example.com';
@Controller({ path: 'stale', version: '1' })
class StaleV1Controller {
  @Post() write() {
    return recordHandled('stale.v1.write', 'written v1');
  }
}
@Cors({ origin: [READER], writeOrigin: [WRITER], methods: ['GET', 'POST'] })
@Controller('stale')
class StaleRestController {
  @All() any() {
    return recordHandled('stale.any', 'any');
  }
}

describe.each(ADAPTERS.filter(({ name }) => name === 'express'))(
  'a method changed by middleware after the front door left a decision for a guard, on $name ($bootstrap)',
  (adapter) => {
    it('is decided for the method it is routed with, not with what was found for the method it arrived with', async () => {
      @Module({ imports: [CorsModule.forRoot(GLOBAL_POLICY)], controllers: [StaleV1Controller, StaleRestController] })
      class StaleModule {}
      const app = await startApp(adapter, [StaleModule], {
        configure: (a) => {
          a.enableVersioning({ type: VersioningType.HEADER, header: 'X-Version' });
          a.use(methodOverride);
        },
      });
      try {
        handled.length = 0;
        // Arrived as a POST, which the writer may send; routed as a GET, which only the reader may read.
        const res = await request(app.getHttpServer())
          .post('/stale?_method=GET')
          .set('Origin', WRITER)
          .set('Content-Type', 'text/plain')
          .send('x');
        expect([res.status, res.text]).toEqual([200, 'any']);
        expect(corsHeaderNames(res)).toEqual([]);
        expect(handled).toEqual(['stale.any']);
      } finally {
        await app.close();
      }
    });
  },
);
