import 'reflect-metadata';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  type HttpServer,
  HttpException,
  type INestApplication,
  Injectable,
  Module,
  Res,
  type Type,
} from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import expressApp from 'express';
import request from 'supertest';
import { CorsGuard } from '../../src/cors.guard.js';
import { nodeResponseOf } from '../../src/node-request.js';
import { CorsModule } from '../../src/index.js';
import {
  ADAPTERS,
  type AdapterCase,
  APP_ORIGIN,
  EVIL_ORIGIN,
  GLOBAL_POLICY,
  UsersController,
  handled,
  setFilterHeader,
  startApp,
  withApp,
} from './app.fixture.js';

/** Paths served outside Nest's controllers: an `app.use()` mount and a route of the adapter's own instance. */
const OUTSIDE_PATHS = ['/mounted', '/native'];

/** Every error becomes RFC 9457 problem details, as an app's own global filter would have it. */
@Catch()
class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly adapter: () => HttpServer) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const status = exception instanceof HttpException ? exception.getStatus() : 500;
    const detail = exception instanceof HttpException ? exception.message : 'Internal error';
    const response = host.switchToHttp().getResponse();
    setFilterHeader(this.adapter(), response, 'Content-Type', 'application/problem+json');
    this.adapter().reply(response, JSON.stringify({ status, title: 'Request refused', detail }), status);
  }
}

@Injectable()
class InjectedProblemDetailsFilter extends ProblemDetailsFilter {
  constructor(adapterHost: HttpAdapterHost) {
    super(() => adapterHost.httpAdapter);
  }
}

@Controller('vary')
class VaryController {
  /** Sets `Vary` through the adapter (Express `res.set`, Fastify `reply.header`). */
  @Get('adapter') throughAdapter(@Res({ passthrough: true }) response: unknown) {
    adapterOf(response).setHeader(response, 'Vary', 'Accept-Encoding');
    return 'adapter';
  }
  /** Writes the head itself, passing `writeHead` an `undefined` third argument, as wrappers that forward it do. */
  @Get('three-arguments') threeArguments(@Res() response: ServerResponse | { raw: ServerResponse }) {
    const node = nodeResponseOf(response);
    (node.writeHead as (...args: unknown[]) => ServerResponse).call(node, 200, { Vary: 'Accept-Encoding' }, undefined);
    node.end('three');
  }
  /** Passes `writeHead` a header value Node refuses (not Latin-1): Node throws, and the app answers 500 instead. */
  @Get('refused-head') refusedHead(@Res() response: ServerResponse | { raw: ServerResponse }) {
    nodeResponseOf(response).writeHead(200, { 'Content-Disposition': 'attachment; filename="\u2603.txt"' }).end();
  }
  /** Sets `Vary` on the Node response itself. */
  @Get('node') onNodeResponse(@Res({ passthrough: true }) response: ServerResponse | { raw: ServerResponse }) {
    nodeResponseOf(response).setHeader('Vary', 'Accept-Encoding');
    return 'node';
  }
}
let adapterOf: (response: unknown) => HttpServer;

/** Routes and middleware of the app itself, as `main.ts` would add them before `listen()`. */
function addOutsideRoutes(app: INestApplication, adapter: AdapterCase, middlewareCalls: string[]): void {
  adapterOf = () => app.getHttpAdapter();
  const answer = (name: string) => (_req: unknown, res: ServerResponse) => {
    handled.push(name);
    res.setHeader('Content-Type', 'text/plain');
    res.end(name);
  };
  app.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
    middlewareCalls.push(`${req.method} ${req.url}`);
    if (req.url === '/limited') {
      res.statusCode = 429;
      res.end('slow down');
      return;
    }
    next();
  });
  app.use('/mounted', answer('mounted'));
  const instance = app.getHttpAdapter().getInstance();
  if (adapter.name === 'express') instance.post('/native', answer('native'));
  else
    instance.post('/native', (_request: unknown, reply: { raw: ServerResponse }) =>
      answer('native')(undefined, reply.raw),
    );
  for (const [path, head] of Object.entries<OutgoingHttpHeaders | string[]>({
    ...SHARED_HEADS,
    '/raw-head': RAW_HEAD,
  })) {
    const write = (res: ServerResponse) => res.writeHead(200, head).end('shared');
    if (adapter.name === 'express') instance.get(path, (_req: unknown, res: ServerResponse) => write(res));
    else {
      instance.get(path, (_request: unknown, reply: { raw: ServerResponse; hijack(): void }) => {
        reply.hijack();
        write(reply.raw);
      });
    }
  }
}

/** Headers an app passes to `writeHead` for every response, its own `Access-Control-Allow-Origin` among them. */
const sharedHead = () => ({ 'Content-Type': 'text/plain', 'Access-Control-Allow-Origin': 'https://fixed.example' });
const SHARED_HEADS: Record<string, Record<string, string>> = {
  '/shared-head': sharedHead(),
  '/frozen-head': Object.freeze(sharedHead()),
};
/** Raw headers, name and value in turn, which replace any header of the same name set before, `Vary` among them. */
const rawHead = () => [
  'Content-Type',
  'text/plain',
  'Vary',
  'Accept-Encoding',
  'Access-Control-Allow-Origin',
  '*',
  'vary',
  'Accept-Language',
];
const RAW_HEAD = rawHead();

describe.each(ADAPTERS)('the front door on $name ($bootstrap)', (adapter) => {
  let app: INestApplication;
  const middlewareCalls: string[] = [];
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    @Module({ imports: [CorsModule.forRoot(GLOBAL_POLICY)], controllers: [UsersController, VaryController] })
    class FrontDoorModule {}
    app = await startApp(adapter, [FrontDoorModule], {
      configure: (a) => addOutsideRoutes(a, adapter, middlewareCalls),
    });
  });
  afterAll(() => app.close());
  beforeEach(() => {
    handled.length = 0;
    middlewareCalls.length = 0;
  });

  describe('errors produced before any controller keep the headers of an allowed request', () => {
    const expectCorsHeaders = (res: request.Response) => {
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-expose-headers']).toBe('X-Request-Id');
      expect(res.headers.vary).toBe('Origin');
    };

    it('a malformed JSON body: 400 from the body parser', async () => {
      const res = await http()
        .post('/users')
        .set('Origin', APP_ORIGIN)
        .set('Content-Type', 'application/json')
        .send('{"broken":');
      expect(res.status).toBe(400);
      expectCorsHeaders(res);
      expect(handled).toEqual([]);
    });

    it('a body over the limit: 413 from the body parser', async () => {
      const body = JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) });
      const res = await http()
        .post('/users')
        .set('Origin', APP_ORIGIN)
        .set('Content-Type', 'application/json')
        .send(body);
      expect(res.status).toBe(413);
      expectCorsHeaders(res);
      expect(handled).toEqual([]);
    });

    it('a 429 from middleware main.ts added with app.use()', async () => {
      const res = await http().get('/limited').set('Origin', APP_ORIGIN);
      expect(res.status).toBe(429);
      expect(res.text).toBe('slow down');
      expectCorsHeaders(res);
    });

    it('and a disallowed origin gets none of them, only Vary', async () => {
      const res = await http().get('/limited').set('Origin', EVIL_ORIGIN);
      expect(res.status).toBe(429);
      expect(Object.keys(res.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
      expect(res.headers.vary).toBe('Origin');
    });
  });

  it('answers a preflight before any app middleware runs, as app.enableCors() does', async () => {
    const res = await http().options('/users').set('Origin', APP_ORIGIN).set('Access-Control-Request-Method', 'POST');
    expect(res.status).toBe(204);
    expect(middlewareCalls).toEqual([]);
    await http().get('/users').set('Origin', APP_ORIGIN);
    expect(middlewareCalls).toEqual(['GET /users']);
  });

  describe.each(OUTSIDE_PATHS)('a path no controller serves (%s)', (path) => {
    it('refuses a cross-site form POST from a disallowed origin before its handler runs (CSRF)', async () => {
      const res = await http().post(path).set('Origin', EVIL_ORIGIN).set('Content-Type', 'text/plain').send('payload');
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ statusCode: 403, message: 'CORS request rejected: origin not allowed' });
      expect(handled).toEqual([]);
    });

    it('serves an allowed origin with the global policy headers', async () => {
      const res = await http().post(path).set('Origin', APP_ORIGIN).set('Content-Type', 'text/plain').send('payload');
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(handled).toEqual([path.slice(1)]);
    });

    it('serves requests without Origin and same-origin requests', async () => {
      expect((await http().post(path).send('payload')).status).toBe(200);
      expect(
        (await http().post(path).set('Origin', APP_ORIGIN).set('Sec-Fetch-Site', 'same-origin').send('x')).status,
      ).toBe(200);
      expect(handled).toEqual([path.slice(1), path.slice(1)]);
    });

    it('answers its preflight with the global policy', async () => {
      const accepted = await http()
        .options(path)
        .set('Origin', APP_ORIGIN)
        .set('Access-Control-Request-Method', 'POST');
      expect(accepted.status).toBe(204);
      expect(accepted.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      const rejected = await http().options(path).set('Origin', APP_ORIGIN).set('Access-Control-Request-Method', 'PUT');
      expect(rejected.status).toBe(403);
    });
  });

  it.each(['adapter', 'node'])('keeps Origin in a Vary the handler sets itself (%s)', async (how) => {
    const res = await http().get(`/vary/${how}`).set('Origin', APP_ORIGIN);
    expect(res.status).toBe(200);
    expect(res.headers.vary).toBe('Accept-Encoding, Origin');
    expect((await http().get(`/vary/${how}`)).headers.vary).toBe('Accept-Encoding, Origin');
  });

  it('finds the headers an app passes to writeHead where Node does, before an undefined third argument too', async () => {
    const res = await http().get('/vary/three-arguments').set('Origin', APP_ORIGIN);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(res.headers.vary).toBe('Accept-Encoding, Origin');
  });

  it('keeps the headers for the error response when writeHead throws', async () => {
    const res = await http().get('/vary/refused-head').set('Origin', APP_ORIGIN);
    expect(res.status).toBe(500);
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(res.headers.vary).toBe('Origin');
  });

  it('merges Vary into raw headers an app passes to writeHead (a list of names and values), and replaces their CORS headers, without changing its list', async () => {
    const res = await http().get('/raw-head').set('Origin', APP_ORIGIN);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(res.headers.vary).toBe('Accept-Encoding, Accept-Language, Origin');
    const withoutOrigin = await http().get('/raw-head');
    expect(withoutOrigin.headers.vary).toBe('Accept-Encoding, Accept-Language, Origin');
    expect(withoutOrigin.headers['access-control-allow-origin']).toBe('*');
    expect(RAW_HEAD).toEqual(rawHead());
  });

  it.each(Object.keys(SHARED_HEADS))(
    'adds to the headers an app passes to writeHead (%s) without changing its object, replacing its CORS headers on a cross-origin response only',
    async (path) => {
      const allowed = await http().get(path).set('Origin', APP_ORIGIN);
      expect(allowed.status).toBe(200);
      expect(allowed.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(allowed.headers['access-control-allow-credentials']).toBe('true');
      expect(allowed.headers.vary).toBe('Origin');
      const withoutOrigin = await http().get(path);
      expect(withoutOrigin.headers['access-control-allow-origin']).toBe('https://fixed.example');
      expect(withoutOrigin.headers['access-control-allow-credentials']).toBeUndefined();
      const sameOrigin = await http().get(path).set('Origin', APP_ORIGIN).set('Sec-Fetch-Site', 'same-origin');
      expect(sameOrigin.headers['access-control-allow-origin']).toBe('https://fixed.example');
      expect(sameOrigin.headers['access-control-allow-credentials']).toBeUndefined();
      expect(SHARED_HEADS[path]).toEqual(sharedHead());
    },
  );

  describe('on the hot path', () => {
    const canActivate = jest.spyOn(CorsGuard.prototype, 'canActivate');
    afterEach(() => {
      canActivate.mockClear();
    });

    it('runs a handler without a CORS guard where the route alone decides the policy', async () => {
      expect((await http().get('/users').set('Origin', APP_ORIGIN)).status).toBe(200);
      expect((await http().post('/users').set('Origin', APP_ORIGIN)).status).toBe(201);
      expect(handled).toEqual(['users.list', 'users.create']);
      expect(canActivate).not.toHaveBeenCalled();
    });
  });
});

describe.each(ADAPTERS)("the front door's 403 on $name ($bootstrap)", (adapter) => {
  const refused = async (app: INestApplication) => {
    const res = await request(app.getHttpServer())
      .post('/users')
      .set('Origin', EVIL_ORIGIN)
      .set('Content-Type', 'text/plain')
      .send('x');
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.text)).toEqual({
      status: 403,
      title: 'Request refused',
      detail: 'CORS request rejected: origin not allowed',
    });
    expect(res.headers.vary).toBe('Origin');
    expect(handled).toEqual([]);
  };
  const appWith = (providers: Type[] | Array<{ provide: string; useClass: Type }> = []) => {
    @Module({ imports: [CorsModule.forRoot(GLOBAL_POLICY)], controllers: [UsersController], providers })
    class FilteredModule {}
    return FilteredModule;
  };
  beforeEach(() => {
    handled.length = 0;
  });

  it('goes through the filters of app.useGlobalFilters()', async () => {
    const app = await startApp(adapter, [appWith()], {
      configure: (a) => a.useGlobalFilters(new ProblemDetailsFilter(() => a.getHttpAdapter())),
    });
    await withApp(app, refused);
  });

  it('goes through an APP_FILTER', async () => {
    const app = await startApp(adapter, [appWith([{ provide: APP_FILTER, useClass: InjectedProblemDetailsFilter }])]);
    await withApp(app, refused);
  });
});

// Express gives each response the prototype of the app handling it: whichever app writes the response, a sub-app or
// an app called as middleware, it must carry the headers; another app in the process gets none.
describe('the front door on express, beyond the app it serves', () => {
  const express = ADAPTERS[0];
  let app: INestApplication;
  let plain: INestApplication;

  beforeAll(async () => {
    const subApp = expressApp();
    subApp.get('/answer', (_req, res) => {
      res.set('Vary', 'Accept-Encoding');
      res.send('sub-app');
    });
    @Module({ imports: [CorsModule.forRoot(GLOBAL_POLICY)], controllers: [UsersController] })
    class WithCorsModule {}
    const called = expressApp();
    called.get('/answer', (_req, res) => res.send('called'));
    app = await startApp(express, [WithCorsModule], {
      configure: (a) => {
        a.use('/sub-app', subApp);
        // As MiddlewareConsumer.apply(expressApp) and dashboards such as Bull Board do: an app called, not mounted.
        a.use('/called', (req: IncomingMessage, res: ServerResponse, next: () => void) =>
          called(req as never, res as never, next),
        );
      },
    });
    @Module({ controllers: [UsersController] })
    class WithoutCorsModule {}
    plain = await startApp(express, [WithoutCorsModule]);
  });
  afterAll(() => Promise.all([app.close(), plain.close()]));

  it('puts the headers on what a mounted Express sub-app writes, merging its Vary', async () => {
    const res = await request(app.getHttpServer()).get('/sub-app/answer').set('Origin', APP_ORIGIN);
    expect(res.status).toBe(200);
    expect(res.text).toBe('sub-app');
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers.vary).toBe('Accept-Encoding, Origin');
  });

  it('puts the headers on what an Express app called as middleware writes', async () => {
    const res = await request(app.getHttpServer()).get('/called/answer').set('Origin', APP_ORIGIN);
    expect(res.text).toBe('called');
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(res.headers.vary).toBe('Origin');
  });

  it('leaves another app in the same process without CorsModule alone', async () => {
    await request(app.getHttpServer()).get('/users').set('Origin', APP_ORIGIN); // the CORS app has served requests
    const res = await request(plain.getHttpServer()).get('/users').set('Origin', APP_ORIGIN);
    expect(res.status).toBe(200);
    expect(Object.keys(res.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    expect(res.headers.vary).toBeUndefined();
  });
});
