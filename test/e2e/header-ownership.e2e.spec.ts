import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Header, type INestApplication, Version, VersioningType } from '@nestjs/common';
import fastifyHttpProxy from '@fastify/http-proxy';
import { createProxyMiddleware } from 'http-proxy-middleware';
import request from 'supertest';
import { Cors } from '../../src/index.js';
import {
  ADAPTERS,
  type AdapterCase,
  APP_ORIGIN,
  CapturingLogger,
  EVIL_ORIGIN,
  PARTNER_ORIGIN,
  appModule,
  corsHeaderNames,
  startApp,
  withApp,
} from './app.fixture.js';

/**
 * The CORS headers the upstream answers with under each first path segment, as a service doing its own CORS would:
 * any path below it gets them, so that each test can use paths of its own.
 */
const UPSTREAM_HEADS: Record<string, Record<string, string>> = {
  star: { 'Access-Control-Allow-Origin': '*' },
  choice: {
    'Access-Control-Allow-Origin': 'https://upstream-choice.example',
    'Access-Control-Expose-Headers': 'X-Upstream',
  },
};
const PROXIED_PATHS = Object.keys(UPSTREAM_HEADS).map((segment) => `/upstream/${segment}`);

/**
 * Mounts the adapter's usual proxy at /upstream, in front of `target`, as `main.ts` would. The Fastify proxy passes
 * bodies on through content-type parsers of its own, which clash with the JSON parser `NestFactory.create()` has
 * registered already; these tests send no body.
 */
function mountProxy(app: INestApplication, adapter: AdapterCase, target: string): void {
  if (adapter.name === 'express') app.use('/upstream', createProxyMiddleware({ target }));
  else
    app
      .getHttpAdapter()
      .getInstance()
      .register(fastifyHttpProxy, { upstream: target, prefix: '/upstream', proxyPayloads: false });
}

/** A handler that sets a CORS header of its own, as code written before CorsModule does. */
@Controller('fixed')
class FixedController {
  @Get(':id') @Header('Access-Control-Allow-Origin', '*') get() {
    return 'fixed';
  }
}

/** Two versions behind one path, told apart by a header only: the guard, not the front door, settles their headers. */
@Controller('versioned')
class VersionedController {
  @Cors({ origin: [APP_ORIGIN] }) @Version('1') @Get() @Header('Access-Control-Allow-Origin', '*') v1() {
    return 'v1';
  }
  @Cors({ origin: [PARTNER_ORIGIN] }) @Version('2') @Get() @Header('Access-Control-Allow-Origin', '*') v2() {
    return 'v2';
  }
}

/** A `paths` entry over /upstream/star, in each adapter's wildcard syntax. */
const STAR_ENTRY = { express: '/upstream/star/*path', fastify: '/upstream/star/*' };

let upstream: Server;
let target: string;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    res.writeHead(200, {
      'Content-Type': 'text/plain',
      'X-Upstream': 'yes',
      ...UPSTREAM_HEADS[(req.url ?? '/').split('/')[1]],
    });
    res.end('upstream');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

describe.each(ADAPTERS)('CORS headers of a proxied upstream on $name ($bootstrap)', (adapter) => {
  let app: INestApplication;
  const logger = new CapturingLogger();
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    const policy = {
      origin: [APP_ORIGIN],
      credentials: true,
      exposedHeaders: ['X-Request-Id'],
      // The same policy, for the warnings to name a `paths` entry rather than each path below it.
      paths: [{ path: STAR_ENTRY[adapter.name], policy: {} }],
    };
    app = await startApp(adapter, [appModule(policy, [FixedController])], {
      appOptions: { logger },
      configure: (a) => mountProxy(a, adapter, target),
    });
  });
  afterAll(() => app.close());
  beforeEach(() => {
    logger.lines.length = 0;
  });

  it.each(PROXIED_PATHS)('an allowed origin gets exactly our headers, never the upstream ones (%s)', async (path) => {
    const res = await http().get(path).set('Origin', APP_ORIGIN);
    expect(res.status).toBe(200);
    expect(res.text).toBe('upstream');
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-expose-headers']).toBe('X-Request-Id');
    expect(corsHeaderNames(res).sort()).toEqual([
      'access-control-allow-credentials',
      'access-control-allow-origin',
      'access-control-expose-headers',
    ]);
    expect(res.headers.vary).toBe('Origin');
  });

  it.each(PROXIED_PATHS)('a disallowed origin gets no Access-Control-* header at all (%s)', async (path) => {
    const res = await http().get(path).set('Origin', EVIL_ORIGIN);
    expect(res.status).toBe(200);
    expect(res.text).toBe('upstream');
    expect(corsHeaderNames(res)).toEqual([]);
    expect(res.headers.vary).toBe('Origin');
  });

  it('a request without Origin keeps the upstream headers', async () => {
    const star = await http().get('/upstream/star');
    expect(star.headers['access-control-allow-origin']).toBe('*');
    expect(star.headers['access-control-allow-credentials']).toBeUndefined();
    const choice = await http().get('/upstream/choice');
    expect(choice.headers['access-control-allow-origin']).toBe('https://upstream-choice.example');
    expect(choice.headers['access-control-expose-headers']).toBe('X-Upstream');
    expect(logger.lines.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('warns once per paths entry, else per path, that it replaced or removed them, naming them', async () => {
    for (const origin of [APP_ORIGIN, APP_ORIGIN, EVIL_ORIGIN])
      await http().get('/upstream/choice/logged?page=2').set('Origin', origin);
    await http().get('/upstream/star/logged').set('Origin', EVIL_ORIGIN);
    await http().get('/upstream/star/logged-too').set('Origin', APP_ORIGIN);
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings.map((line) => line.context)).toEqual(['Cors', 'Cors']);
    expect(warnings[0].message).toMatch(
      /access-control-allow-origin, access-control-expose-headers\b.* GET \/upstream\/choice\/logged\b.*nestjs-cors owns/,
    );
    expect(warnings[1].message).toContain(
      `access-control-allow-origin set by the app or a proxied upstream overridden on a cross-origin response to GET ${STAR_ENTRY[adapter.name]}:`,
    );
  });

  it("replaces a handler's own, and warns once per route rather than per path", async () => {
    for (const id of [1, 2]) {
      const res = await http().get(`/fixed/${id}`).set('Origin', APP_ORIGIN);
      expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    }
    expect((await http().get('/fixed/3')).headers['access-control-allow-origin']).toBe('*');
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toMatch(/ GET \/fixed\/:id\b/);
  });
});

describe.each(ADAPTERS)('CORS headers of a handler the guard decides, on $name ($bootstrap)', (adapter) => {
  it("replaces the handler's own with those of the handler's policy, or removes them where it refuses the origin", async () => {
    const app = await startApp(adapter, [appModule({ origin: [APP_ORIGIN] }, [VersionedController])], {
      configure: (a) => a.enableVersioning({ type: VersioningType.HEADER, header: 'X-Api-Version' }),
    });
    await withApp(app, async () => {
      const allowed = await request(app.getHttpServer())
        .get('/versioned')
        .set('X-Api-Version', '2')
        .set('Origin', PARTNER_ORIGIN);
      expect(allowed.text).toBe('v2');
      expect(allowed.headers['access-control-allow-origin']).toBe(PARTNER_ORIGIN);
      const refused = await request(app.getHttpServer())
        .get('/versioned')
        .set('X-Api-Version', '1')
        .set('Origin', PARTNER_ORIGIN);
      expect(refused.text).toBe('v1');
      expect(corsHeaderNames(refused)).toEqual([]);
    });
  });
});
