import 'reflect-metadata';
import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  type INestApplication,
  Module,
  Post,
  Put,
  RequestMethod,
  type Type,
  Version,
  VERSION_NEUTRAL,
  VersioningType,
} from '@nestjs/common';
import { ApplicationConfig, RouterModule } from '@nestjs/core';
import request from 'supertest';
import { Cors, CorsConfigError, CorsModule } from '../../src/index.js';
import {
  ADAPTERS,
  type AdapterCase,
  CapturingLogger,
  handled,
  recordHandled,
  sendRaw,
  startApp,
  withApp,
} from './app.fixture.js';

const ORIGIN = 'https://app.example.com';

/** Each handler allows one header of its own, so a preflight's Access-Control-Allow-Headers names the handler. */
const handler = (id: string) => Cors({ allowedHeaders: [`x-h-${id}`] });

/** Route shapes in the syntax of each adapter's router (path-to-regexp 8 for Express, find-my-way for Fastify). */
function shapes(adapter: AdapterCase) {
  return adapter.name === 'express'
    ? { wildcard: '*path', optional: 'thumbs{/:id}' }
    : { wildcard: '*', optional: 'thumbs/:id?' };
}

/** An app using every way Nest composes paths: global prefix with exclusions, URI versions, RouterModule, hosts. */
function routingApp(adapter: AdapterCase): { module: Type; hosts: Record<string, string> } {
  const { wildcard, optional } = shapes(adapter);

  @Controller('users')
  class UsersController {
    @handler('users-list') @Get() list() {
      return 'users-list';
    }
    @handler('users-get') @Get(':id') get() {
      return 'users-get';
    }
    @handler('users-create') @Post() create() {
      return 'users-create';
    }
    @handler('users-get-v2') @Version('2') @Get(':id') getV2() {
      return 'users-get-v2';
    }
    @handler('users-put-v23') @Version(['2', '3']) @Put(':id') put() {
      return 'users-put-v23';
    }
    @handler('users-neutral') @Version(VERSION_NEUTRAL) @Get('neutral/ping') neutral() {
      return 'users-neutral';
    }
  }

  @Controller({ path: 'health', version: VERSION_NEUTRAL })
  class HealthController {
    @handler('health') @Get() health() {
      return 'health';
    }
  }

  @Controller('legacy')
  class LegacyController {
    @handler('legacy-get') @Get(':id') get() {
      return 'legacy-get';
    }
    @handler('legacy-post') @Post(':id') post() {
      return 'legacy-post';
    }
  }

  @Controller('files')
  class FilesController {
    @handler('files-thumb') @Get(optional) thumb() {
      return 'files-thumb';
    }
    @handler('files-any') @Get(wildcard) any() {
      return 'files-any';
    }
  }

  @Controller({ path: ['alpha', 'beta'] })
  class MultiPathController {
    @handler('multi') @Get('x') x() {
      return 'multi';
    }
  }

  @Controller({ path: 'tenant', host: ':tenant.example.com' })
  class TenantController {
    @handler('tenant-host') @Get() get() {
      return 'tenant-host';
    }
  }

  @Controller('tenant')
  class TenantFallbackController {
    @handler('tenant-any') @Get() get() {
      return 'tenant-any';
    }
  }

  @Controller('daily')
  class ReportsController {
    @handler('reports-daily') @Get(':day') daily() {
      return 'reports-daily';
    }
  }
  @Module({ controllers: [ReportsController] })
  class ReportsModule {}
  @Module({ imports: [ReportsModule] })
  class AdminModule {}

  @Module({
    imports: [
      CorsModule.forRoot({ origin: [ORIGIN], methods: '*' }),
      AdminModule,
      RouterModule.register([
        { path: 'admin', module: AdminModule, children: [{ path: 'reports', module: ReportsModule }] },
      ]),
    ],
    controllers: [
      UsersController,
      HealthController,
      LegacyController,
      FilesController,
      MultiPathController,
      TenantController,
      // Fastify refuses a second route on the same method and path, whatever its host.
      ...(adapter.name === 'express' ? [TenantFallbackController] : []),
    ],
  })
  class RoutingModule {}
  return { module: RoutingModule, hosts: { TenantController: 'acme.example.com' } };
}

function configureRouting(app: INestApplication) {
  app.setGlobalPrefix('api', {
    exclude: ['health', { path: 'legacy/*path', method: RequestMethod.GET }],
  });
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
}

interface MappedRoute {
  controller: string;
  method: string;
  path: string;
  versions: string[];
}

/** Nest's own list of what it mapped, read from the RoutesResolver/RouterExplorer log lines. */
function mappedRoutes(logger: CapturingLogger): MappedRoute[] {
  const routes: MappedRoute[] = [];
  let controller = '';
  for (const { message } of logger.lines) {
    const controllerLine = /^(\w+) \{[^}]*\}(?: \(version: [^)]*\))?:$/.exec(message);
    if (controllerLine) controller = controllerLine[1];
    const route = /^Mapped \{(.+), (\w+)\}(?: \(version: (.+)\))? route$/.exec(message);
    if (route) routes.push({ controller, path: route[1], method: route[2], versions: route[3]?.split(',') ?? [] });
  }
  return routes;
}

/** A request path the mapped route serves: params filled in, the URI version put where Nest puts it. */
function concretePaths({ path, versions }: MappedRoute, prefix: string): string[] {
  const filled = path
    .replace(/\{\/:\w+\}/g, '/p')
    .replace(/:\w+\??/g, 'p')
    .replace(/\*\w*/g, 'a/b');
  const withVersion = (version: string) => {
    if (version === 'Neutral') return filled;
    const inPrefix = filled.startsWith(`${prefix}/`) || filled === prefix;
    return inPrefix ? `${prefix}/v${version}${filled.slice(prefix.length)}` : `/v${version}${filled}`;
  };
  return (versions.length > 0 ? versions : ['1']).map(withVersion);
}

const allowedHeaderId = (header: string | undefined) => /x-h-([\w-]+)/.exec(header ?? '')?.[1];

describe.each(ADAPTERS)('route table on $name ($bootstrap)', (adapter) => {
  it('resolves every route Nest mapped to the handler Nest runs for it', async () => {
    const logger = new CapturingLogger();
    const { module, hosts } = routingApp(adapter);
    const app = await startApp(adapter, [module], { configure: configureRouting, appOptions: { logger } });
    try {
      const routes = mappedRoutes(logger);
      expect(routes.length).toBeGreaterThanOrEqual(14);
      const seen = new Set<string>();
      for (const route of routes) {
        for (const path of concretePaths(route, '/api')) {
          const host = hosts[route.controller] ?? 'api.test';
          const preflight = await request(app.getHttpServer())
            .options(path)
            .set('Host', host)
            .set('Origin', ORIGIN)
            .set('Access-Control-Request-Method', route.method);
          const agent = request(app.getHttpServer());
          const actual = await agent[route.method.toLowerCase() as 'get'](path).set('Host', host);
          const where = `${route.method} ${path} (${route.controller})`;
          expect([where, actual.status]).toEqual([where, expect.any(Number)]);
          expect([where, actual.status < 300]).toEqual([where, true]);
          expect([where, allowedHeaderId(preflight.headers['access-control-allow-headers'])]).toEqual([
            where,
            actual.text,
          ]);
          seen.add(actual.text);
        }
      }
      expect([...seen].sort()).toEqual(
        [
          'files-any',
          'files-thumb',
          'health',
          'legacy-get',
          'legacy-post',
          'multi',
          'reports-daily',
          'tenant-host',
          'users-create',
          'users-get',
          'users-get-v2',
          'users-list',
          'users-neutral',
          'users-put-v23',
          ...(adapter.name === 'express' ? ['tenant-any'] : []),
        ].sort(),
      );
    } finally {
      await app.close();
    }
  });

  it.each([
    ['an excluded string route, outside the prefix', '/health', 'GET', 'health'],
    ['an excluded { path, method } route (which keeps its URI version)', '/v1/legacy/7', 'GET', 'legacy-get'],
    ['the same path with another method, still under the prefix', '/api/v1/legacy/7', 'POST', 'legacy-post'],
    ['URI version 2', '/api/v2/users/7', 'GET', 'users-get-v2'],
    ['a version of an array of versions', '/api/v3/users/7', 'PUT', 'users-put-v23'],
    ['the default version', '/api/v1/users/7', 'GET', 'users-get'],
    ['a VERSION_NEUTRAL route', '/api/users/neutral/ping', 'GET', 'users-neutral'],
    ['nested RouterModule paths', '/api/v1/admin/reports/daily/monday', 'GET', 'reports-daily'],
    ['the second path of a controller path array', '/api/v1/beta/x', 'GET', 'multi'],
  ])('answers a preflight for %s with its handler policy', async (_case, path, method, id) => {
    const { module } = routingApp(adapter);
    const app = await startApp(adapter, [module], { configure: configureRouting });
    try {
      const res = await request(app.getHttpServer())
        .options(path)
        .set('Origin', ORIGIN)
        .set('Access-Control-Request-Method', method);
      expect(res.status).toBe(204);
      expect(allowedHeaderId(res.headers['access-control-allow-headers'])).toBe(id);
    } finally {
      await app.close();
    }
  });

  it('tells host-bound controllers apart by the Host header', async () => {
    const { module } = routingApp(adapter);
    const app = await startApp(adapter, [module], { configure: configureRouting });
    try {
      const ask = (host: string) =>
        request(app.getHttpServer())
          .options('/api/v1/tenant')
          .set('Host', host)
          .set('Origin', ORIGIN)
          .set('Access-Control-Request-Method', 'GET');
      expect(allowedHeaderId((await ask('acme.example.com')).headers['access-control-allow-headers'])).toBe(
        'tenant-host',
      );
      expect(allowedHeaderId((await ask('acme.example.com:8080')).headers['access-control-allow-headers'])).toBe(
        'tenant-host',
      );
      // Elsewhere the route of the other controller (Express), or none: the global policy, which allows no x-h- header.
      const elsewhere = allowedHeaderId((await ask('elsewhere.test')).headers['access-control-allow-headers']);
      expect(elsewhere).toBe(adapter.name === 'express' ? 'tenant-any' : undefined);
    } finally {
      await app.close();
    }
  });

  it('honours a custom URI version prefix', async () => {
    const { module } = routingApp(adapter);
    const app = await startApp(adapter, [module], {
      configure: (a) => a.enableVersioning({ type: VersioningType.URI, prefix: 'version-', defaultVersion: '1' }),
    });
    try {
      const res = await request(app.getHttpServer())
        .options('/version-2/users/7')
        .set('Origin', ORIGIN)
        .set('Access-Control-Request-Method', 'GET');
      expect(allowedHeaderId(res.headers['access-control-allow-headers'])).toBe('users-get-v2');
    } finally {
      await app.close();
    }
  });

  it.each([
    ['declaration order', undefined],
    ["Nest's 'specificity' strategy", 'specificity' as const],
  ])(
    'picks the route the adapter picks when a parameter route is declared before a literal one (%s)',
    async (_case, strategy) => {
      @Controller('people')
      class PeopleController {
        @handler('people-by-id') @Get(':id') byId() {
          return 'people-by-id';
        }
        @handler('people-me') @Get('me') me() {
          return 'people-me';
        }
      }
      @Module({ imports: [CorsModule.forRoot({ origin: [ORIGIN] })], controllers: [PeopleController] })
      class PeopleModule {}
      const app = await startApp(adapter, [PeopleModule], { appOptions: { routeResolutionStrategy: strategy } });
      try {
        const preflight = await request(app.getHttpServer())
          .options('/people/me')
          .set('Origin', ORIGIN)
          .set('Access-Control-Request-Method', 'GET');
        const actual = await request(app.getHttpServer()).get('/people/me');
        // Fastify always picks the most specific route; Express the first declared, unless Nest (12 and later) sorts them.
        const nestSorts =
          strategy !== undefined && typeof ApplicationConfig.prototype.getRouteResolutionStrategy === 'function';
        expect(actual.text).toBe(adapter.name === 'fastify' || nestSorts ? 'people-me' : 'people-by-id');
        expect(allowedHeaderId(preflight.headers['access-control-allow-headers'])).toBe(actual.text);
      } finally {
        await app.close();
      }
    },
  );

  it('compares paths as the adapter does: case and trailing slash', async () => {
    @Controller('Shop')
    class ShopController {
      @handler('shop') @Get('items') items() {
        return 'shop';
      }
    }
    @Module({ imports: [CorsModule.forRoot({ origin: [ORIGIN] })], controllers: [ShopController] })
    class ShopModule {}
    const variants = ['/Shop/items', '/shop/items', '/Shop/items/'];
    const cases =
      adapter.name === 'express'
        ? [{ options: {}, served: variants }]
        : [
            { options: {}, served: ['/Shop/items'] },
            { options: { routerOptions: { caseSensitive: false, ignoreTrailingSlash: true } }, served: variants },
          ];
    for (const { options, served } of cases) {
      const app = await startApp(adapter, [ShopModule], { adapterOptions: options });
      try {
        for (const path of variants) {
          const actual = await request(app.getHttpServer()).get(path);
          expect([path, actual.status === 200]).toEqual([path, served.includes(path)]);
          const preflight = await request(app.getHttpServer())
            .options(path)
            .set('Origin', ORIGIN)
            .set('Access-Control-Request-Method', 'GET');
          const picked = allowedHeaderId(preflight.headers['access-control-allow-headers']);
          expect([path, picked]).toEqual([path, served.includes(path) ? 'shop' : undefined]);
        }
      } finally {
        await app.close();
      }
    }
  });
});

/** Handlers whose paths a request can spell in more than one way. */
function spellingsApp(): Type {
  @Controller('api')
  class SpellingsController {
    @handler('admin') @Put('admin') admin() {
      return 'admin';
    }
    @handler('cafe') @Get('café') cafe() {
      return 'cafe';
    }
  }
  @Controller({ path: 'tenant', host: 'acme.example.com' })
  class TenantController {
    @handler('tenant') @Get() tenant() {
      return 'tenant';
    }
  }
  @Module({
    imports: [CorsModule.forRoot({ origin: [ORIGIN], methods: '*' })],
    controllers: [SpellingsController, TenantController],
  })
  class SpellingsModule {}
  return SpellingsModule;
}

describe.each(ADAPTERS)('request targets on $name ($bootstrap), as the adapter routes them', (adapter) => {
  /** The handler the preflight's policy names must be the one the actual request reaches, or none where none runs. */
  const expectSamePick = async (
    app: INestApplication,
    method: string,
    path: string,
    headers: Record<string, string> = {},
  ) => {
    const actual = await request(app.getHttpServer())[method.toLowerCase() as 'get'](path).set(headers);
    const preflight = await request(app.getHttpServer())
      .options(path)
      .set(headers)
      .set('Origin', ORIGIN)
      .set('Access-Control-Request-Method', method);
    const ran = actual.status < 300 ? actual.text : undefined;
    expect([method, path, allowedHeaderId(preflight.headers['access-control-allow-headers'])]).toEqual([
      method,
      path,
      ran,
    ]);
    return ran;
  };

  it.each([
    ['default router options', {}],
    [
      'ignoreDuplicateSlashes and useSemicolonDelimiter',
      { routerOptions: { ignoreDuplicateSlashes: true, useSemicolonDelimiter: true } },
    ],
  ])('percent-encoding, non-ASCII, duplicate slashes and ; parameters (%s)', async (_case, options) => {
    const app = await startApp(adapter, [spellingsApp()], { adapterOptions: options });
    await withApp(app, async () => {
      const ran: Array<string | undefined> = [];
      for (const [method, path] of [
        ['PUT', '/api/admin'],
        ['PUT', '/api/adm%69n'],
        ['PUT', '/api/%61dmin'],
        ['GET', '/api/caf%C3%A9'],
        ['GET', '/api/caf%c3%a9'],
        ['PUT', '//api/admin'],
        ['PUT', '/api//admin'],
        ['PUT', '/api/admin;jsessionid=1'],
      ]) {
        ran.push(await expectSamePick(app, method, path));
      }
      // The comparison means something only where the adapter serves some spellings and not others.
      expect(ran[0]).toBe('admin');
      if (adapter.name === 'fastify') expect(ran.slice(1, 5)).toEqual(['admin', 'admin', 'cafe', 'cafe']);
      if (adapter.name === 'fastify' && 'routerOptions' in options)
        expect(ran.slice(5)).toEqual(['admin', 'admin', 'admin']);
    });
  });

  it('an absolute-form target (`PUT http://host/path`, as clients send a proxy)', async () => {
    const app = await startApp(adapter, [spellingsApp()]);
    await withApp(app, async () => {
      const head = (method: string, headers = '') =>
        Buffer.from(
          `${method} http://api.test/api/admin?x=1 HTTP/1.1\r\nHost: api.test\r\nOrigin: ${ORIGIN}\r\n${headers}Content-Length: 0\r\nConnection: close\r\n\r\n`,
        );
      const actual = await sendRaw(app, head('PUT'));
      expect(actual.status).toBe(200);
      expect(actual.headers).toContain(`access-control-allow-origin: ${ORIGIN}`);
      const preflight = await sendRaw(app, head('OPTIONS', 'Access-Control-Request-Method: PUT\r\n'));
      expect(preflight.status).toBe(204);
      expect(allowedHeaderId(/access-control-allow-headers: (.*)/.exec(preflight.headers)?.[1])).toBe('admin');
    });
  });

  it('a host-bound controller behind a trusted proxy (X-Forwarded-Host)', async () => {
    const trusting =
      adapter.name === 'express'
        ? { configure: (app: INestApplication) => app.getHttpAdapter().getInstance().set('trust proxy', true) }
        : { adapterOptions: { trustProxy: true } };
    const app = await startApp(adapter, [spellingsApp()], trusting);
    await withApp(app, async () => {
      expect(
        await expectSamePick(app, 'GET', '/tenant', { Host: 'internal.local', 'X-Forwarded-Host': 'acme.example.com' }),
      ).toBe('tenant');
      expect(
        await expectSamePick(app, 'GET', '/tenant', {
          Host: 'acme.example.com',
          'X-Forwarded-Host': 'other.example.com',
        }),
      ).toBeUndefined();
    });
  });
});

const FASTIFY = ADAPTERS.filter((adapter) => adapter.name === 'fastify');

describe.each(FASTIFY)('HTTP/2 on fastify ($bootstrap)', (fastify) => {
  it('routes a host-bound controller by :authority, preflight and actual request alike', async () => {
    const { connect } = await import('node:http2');
    const app = await startApp(fastify, [spellingsApp()], { adapterOptions: { http2: true } as never });
    await withApp(app, async () => {
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as { port: number };
      const session = connect(`http://127.0.0.1:${port}`);
      const send = (headers: Record<string, string>) =>
        new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
          const stream = session.request({ ':authority': `acme.example.com:${port}`, ...headers });
          let body = '';
          let head: Record<string, unknown> = {};
          stream.on('response', (h) => (head = h));
          stream.on('data', (chunk) => (body += chunk));
          stream.on('end', () => resolve({ status: Number(head[':status']), headers: head, body }));
          stream.on('error', reject);
          stream.end();
        });
      try {
        const actual = await send({ ':method': 'GET', ':path': '/tenant' });
        expect(actual.body).toBe('tenant');
        const preflight = await send({
          ':method': 'OPTIONS',
          ':path': '/tenant',
          origin: ORIGIN,
          'access-control-request-method': 'GET',
        });
        expect(preflight.status).toBe(204);
        expect(allowedHeaderId(preflight.headers['access-control-allow-headers'] as string)).toBe('tenant');
        const cors = await send({ ':method': 'GET', ':path': '/tenant', origin: ORIGIN });
        expect(cors.body).toBe('tenant');
        expect(cors.headers['access-control-allow-origin']).toBe(ORIGIN);
        expect(cors.headers.vary).toBe('Origin');
      } finally {
        session.close();
      }
    });
  });
});

/** A public route with a parameter, and a restricted wildcard route that find-my-way backtracks to. */
@Controller('files')
class FilesController {
  @Cors({ origin: '*', writeOrigin: '*', methods: ['POST'] }) @Post(':name') upload() {
    return recordHandled('files.upload', 'public');
  }
  @Post('*') restricted() {
    return recordHandled('files.restricted', 'restricted');
  }
}

describe.each(ADAPTERS)("the router's own limits on $name ($bootstrap)", (adapter) => {
  const EVIL = 'https://evil.example';
  const filesApp = () => {
    @Module({ imports: [CorsModule.forRoot({ origin: ['https://app.example.com'] })], controllers: [FilesController] })
    class FilesModule {}
    return FilesModule;
  };
  beforeEach(() => {
    handled.length = 0;
  });

  it('decides a parameter longer than maxParamLength with the route the router falls back to (Fastify), not the one it skips', async () => {
    await withApp(await startApp(adapter, [filesApp()]), async (app) => {
      const post = (name: string) =>
        request(app.getHttpServer())
          .post(`/files/${name}`)
          .set('Origin', EVIL)
          .set('Content-Type', 'text/plain')
          .send('x');
      const short = await post('a'.repeat(100));
      expect(short.status).toBe(201);
      expect(short.headers['access-control-allow-origin']).toBe('*');
      expect(handled).toEqual(['files.upload']);
      handled.length = 0;
      const long = await post('a'.repeat(101));
      if (adapter.name === 'fastify') {
        // find-my-way skips `:name` for a value over 100 characters and runs the wildcard route, whose policy refuses.
        expect(long.status).toBe(403);
        expect(long.headers['access-control-allow-origin']).toBeUndefined();
        expect(handled).toEqual([]);
      } else {
        expect(long.status).toBe(201);
        expect(handled).toEqual(['files.upload']);
      }
    });
  });
});

/** A route path with find-my-way's inline regular expression, which the route table cannot compile. */
@Controller('accounts')
class RegexRouteController {
  @Post(':id(^\\d+$)') update() {
    return recordHandled('accounts.update', 'updated');
  }
  @Cors({ origin: '*' }) @Post('*') other() {
    return 'other';
  }
}

describe.each(FASTIFY)('a route path the route table cannot match, on fastify ($bootstrap)', (fastify) => {
  it('stops the bootstrap with a CorsConfigError naming the handler and how to write the path', async () => {
    @Module({
      imports: [CorsModule.forRoot({ origin: ['https://app.example.com'] })],
      controllers: [RegexRouteController],
    })
    class RegexModule {}
    const bootstrap = startApp(fastify, [RegexModule]);
    await expect(bootstrap).rejects.toThrow(CorsConfigError);
    await expect(bootstrap).rejects.toThrow(
      "in RegexRouteController.update: nestjs-cors cannot match the route path '/accounts/:id(",
    );
    await expect(bootstrap).rejects.toThrow('Write it without an inline regular expression');
  });
});

/** A parameter with a suffix in its segment, beside a public wildcard: Fastify compares the suffix as written. */
@Controller('files')
class SuffixRouteController {
  @Get(':name.png') image() {
    return 'image';
  }
  @Cors({ origin: '*' }) @Get('*') other() {
    return 'other';
  }
}

describe.each(FASTIFY)('a parameter with a suffix, on fastify routing without case ($bootstrap)', (fastify) => {
  @Module({
    imports: [CorsModule.forRoot({ origin: ['https://app.example.com'] })],
    controllers: [SuffixRouteController],
  })
  class SuffixModule {}

  it('stops the bootstrap with a CorsConfigError naming the handler and how to write the path', async () => {
    // find-my-way sends GET /files/a.PNG to the wildcard and /FILES/a.png to `:name.png`: no table can follow it.
    const bootstrap = startApp(fastify, [SuffixModule], {
      adapterOptions: { routerOptions: { caseSensitive: false } },
    });
    await expect(bootstrap).rejects.toThrow(CorsConfigError);
    await expect(bootstrap).rejects.toThrow(
      "in SuffixRouteController.image: nestjs-cors cannot match the route path '/files/:name.png'",
    );
    await expect(bootstrap).rejects.toThrow("put that text in a segment of its own (':name/png')");
  });

  it('boots where routing compares case, as Fastify does by default, and decides each spelling as it routes', async () => {
    const app = await startApp(fastify, [SuffixModule]);
    try {
      const get = (path: string) => request(app.getHttpServer()).get(path).set('Origin', 'https://evil.example');
      const image = await get('/files/a.png');
      expect([image.text, image.headers['access-control-allow-origin']]).toEqual(['image', undefined]);
      const wildcard = await get('/files/a.PNG');
      expect([wildcard.text, wildcard.headers['access-control-allow-origin']]).toEqual(['other', '*']);
    } finally {
      await app.close();
    }
  });
});
