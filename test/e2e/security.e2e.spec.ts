import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication, Module, Post } from '@nestjs/common';
import request from 'supertest';
import { Cors, CorsModule, type CorsModuleOptions } from '../../src/index.js';
import {
  ADAPTERS,
  type AdapterCase,
  CapturingLogger,
  corsHeaderNames,
  handled,
  ItemsRoutes,
  recordHandled,
  sendRaw,
  startApp,
} from './app.fixture.js';

const POLICY: CorsModuleOptions = {
  origin: ['https://app.example.com', 'https://*.example.org', /^https:\/\/(www|api)\.example\.net$/],
  credentials: true,
  methods: ['GET', 'POST'],
  allowPrivateNetwork: true,
};

/** Origins a credentialed policy must never answer with Access-Control-Allow-Origin. */
const HOSTILE_ORIGINS: Array<[string, string]> = [
  ['an unlisted origin', 'https://evil.com'],
  ['the null origin (sandboxed iframes, file: pages)', 'null'],
  ['an empty Origin', ''],
  ['a wildcard sent as the origin', '*'],
  ['a listed origin as a prefix of another domain', 'https://app.example.com.evil.com'],
  ['a listed origin glued to another domain', 'https://app.example.comevil.com'],
  ['a name that ends like a listed one', 'https://evilapp.example.com'],
  ['a hyphenated look-alike', 'https://app-example.com'],
  ['another TLD', 'https://app.example.co'],
  ['a scheme downgrade', 'http://app.example.com'],
  ['a WebSocket scheme', 'wss://app.example.com'],
  ['another port', 'https://app.example.com:8443'],
  ['the default port spelled out', 'https://app.example.com:443'],
  ['port 0', 'https://app.example.com:0'],
  ['a port out of range', 'https://app.example.com:99999'],
  ['upper-case host', 'https://APP.EXAMPLE.COM'],
  ['upper-case scheme', 'HTTPS://app.example.com'],
  ['a trailing dot', 'https://app.example.com.'],
  ['userinfo before a listed host', 'https://user@app.example.com'],
  ['a listed host as userinfo', 'https://app.example.com@evil.com'],
  ['a trailing slash', 'https://app.example.com/'],
  ['a path', 'https://app.example.com/app'],
  ['a query', 'https://app.example.com?x=1'],
  ['a fragment', 'https://app.example.com#x'],
  ['a backslash', 'https://app.example.com\\.evil.com'],
  ['a percent-encoded dot', 'https://app%2eexample.com'],
  ['a backtick host', 'https://app`.example.com'],
  ['two origins joined', 'https://app.example.com, https://evil.com'],
  ['two origins with a space', 'https://evil.com https://app.example.com'],
  ['the apex of a *. pattern', 'https://example.org'],
  ['a *. pattern suffix under another domain', 'https://a.example.org.evil.com'],
  ['a name that only ends like the pattern', 'https://aexample.org'],
  ['an empty label under the pattern', 'https://.example.org'],
  ['an underscore host under the pattern', 'https://a_b.example.org'],
  ['the pattern with another scheme', 'http://a.example.org'],
  ['the pattern with a port', 'https://a.example.org:444'],
  ['an unescaped-dot bypass of the RegExp', 'https://wwwxexample.net'],
  ['a RegExp match as a prefix', 'https://www.example.net.evil.com'],
  ['a RegExp match with a prefix', 'https://xwww.example.net'],
  ['the RegExp with another scheme', 'http://www.example.net'],
  ['the RegExp with the default port', 'https://www.example.net:443'],
  ['a very long origin', `https://${'a.'.repeat(200)}example.org`],
  ['an IP address', 'https://127.0.0.1'],
  ['a data: URL', 'data:,'],
  ['a javascript: URL', 'javascript:alert(1)'],
];

/** Bytes no well-behaved client sends: each must neither crash the app nor be reflected. */
const HOSTILE_BYTES: Array<[string, Buffer]> = [
  [
    'CR LF header injection (ends the header: what follows is another request header)',
    Buffer.from('https://evil.com\r\nX-Injected: 1', 'latin1'),
  ],
  ['a bare LF', Buffer.from('https://app.example.com\nX-Injected: 1', 'latin1')],
  ['a NUL byte', Buffer.from('https://app.example.com\0.evil.com', 'latin1')],
  ['a Cyrillic homograph (UTF-8 bytes)', Buffer.from('https://аpp.example.com', 'utf8')],
  ['Latin-1 bytes', Buffer.from('https://app.exämple.com', 'latin1')],
];

@Controller('items')
class ItemsController extends ItemsRoutes {
  @Cors({ enforce: 'all' }) @Get('private') privateList() {
    return recordHandled('items.private', []);
  }
  @Cors({ enforce: false }) @Post('beacon') beacon() {
    return recordHandled('items.beacon', 'ok');
  }
}

function appWith(options: CorsModuleOptions) {
  @Module({ imports: [CorsModule.forRoot(options)], controllers: [ItemsController] })
  class SecurityModule {}
  return SecurityModule;
}

describe.each(ADAPTERS)('security on $name ($bootstrap)', (adapter: AdapterCase) => {
  let app: INestApplication;
  const logger = new CapturingLogger();
  beforeAll(async () => {
    app = await startApp(adapter, [appWith(POLICY)]);
    app.useLogger(logger);
  });
  afterAll(() => app.close());

  describe('hostile origins against a credentialed policy', () => {
    it.each(HOSTILE_ORIGINS)('%s (%j): no ACAO on GET, 403 on preflight and POST', async (_case, origin) => {
      handled.length = 0;
      const get = await request(app.getHttpServer()).get('/items').set('Origin', origin);
      expect(get.status).toBe(200);
      expect(corsHeaderNames(get)).toEqual([]);
      const pre = await request(app.getHttpServer())
        .options('/items')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'GET');
      expect(pre.status).toBe(403);
      expect(corsHeaderNames(pre)).toEqual([]);
      const post = await request(app.getHttpServer()).post('/items').set('Origin', origin);
      expect(post.status).toBe(403);
      expect(handled).toEqual(['items.list']);
    });

    it('the allowed origins of that policy do get through (the table is not vacuous)', async () => {
      for (const origin of [
        'https://app.example.com',
        'https://a.example.org',
        'https://a.b.example.org',
        'https://api.example.net',
      ]) {
        const res = await request(app.getHttpServer()).get('/items').set('Origin', origin);
        expect(res.headers['access-control-allow-origin']).toBe(origin);
      }
    });

    it.each(HOSTILE_BYTES)('%s: neither crashes nor reflects', async (_case, origin) => {
      const head = Buffer.concat([
        Buffer.from('GET /items HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\nOrigin: '),
        origin,
        Buffer.from('\r\n\r\n'),
      ]);
      const res = await sendRaw(app, head);
      expect([200, 400]).toContain(res.status);
      expect(res.headers).not.toContain('access-control-allow-origin');
      expect(res.headers).not.toContain('x-injected');
      expect((await request(app.getHttpServer()).get('/items')).status).toBe(200);
    });
  });

  describe('Access-Control-Request-Headers', () => {
    const preflight = (headers: string) => {
      const req = request(app.getHttpServer())
        .options('/items')
        .set('Origin', 'https://app.example.com')
        .set('Access-Control-Request-Method', 'POST');
      return req.set('Access-Control-Request-Headers', headers);
    };
    it.each([
      ['an item that is not a token', 'content-type, x bad'],
      ['an item with a colon', 'content-type, x-bad:'],
      ['more than 64 items', Array.from({ length: 65 }, (_, i) => `x-h${i}`).join(',')],
      ['a list longer than 4 KiB, even of allowed names', `accept,${' '.repeat(4100)},content-type`],
    ])('rejects %s with 403', async (_case, headers) => {
      const res = await preflight(headers);
      expect(res.status).toBe(403);
      expect(res.text).toBe('CORS preflight rejected: header not allowed');
      expect(corsHeaderNames(res)).toEqual([]);
    });

    it('accepts odd spacing, case, duplicates and empty items of safelisted headers', async () => {
      const res = await preflight(' Content-Type ,,ACCEPT,content-type , ');
      expect(res.status).toBe(204);
    });
  });

  describe('enforce per route', () => {
    it("@Cors({ enforce: 'all' }) refuses a disallowed cross-origin GET on that route only", async () => {
      handled.length = 0;
      expect((await request(app.getHttpServer()).get('/items/private').set('Origin', 'https://evil.com')).status).toBe(
        403,
      );
      expect((await request(app.getHttpServer()).get('/items').set('Origin', 'https://evil.com')).status).toBe(200);
      expect(handled).toEqual(['items.list']);
    });

    it('@Cors({ enforce: false }) lets a disallowed cross-origin POST through, without CORS headers', async () => {
      handled.length = 0;
      const res = await request(app.getHttpServer()).post('/items/beacon').set('Origin', 'https://evil.com');
      expect(res.status).toBe(201);
      expect(corsHeaderNames(res)).toEqual([]);
      expect(handled).toEqual(['items.beacon']);
    });
  });

  describe('private network access', () => {
    const preflight = (origin: string) =>
      request(app.getHttpServer())
        .options('/items')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'GET')
        .set('Access-Control-Request-Private-Network', 'true');

    it('is allowed on accepted preflights that ask for it', async () => {
      const res = await preflight('https://app.example.com');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-private-network']).toBe('true');
    });

    it('is never granted to a disallowed origin', async () => {
      const res = await preflight('https://evil.com');
      expect(res.status).toBe(403);
      expect(res.headers['access-control-allow-private-network']).toBeUndefined();
    });

    it('is not answered when the preflight does not ask', async () => {
      const res = await request(app.getHttpServer())
        .options('/items')
        .set('Origin', 'https://app.example.com')
        .set('Access-Control-Request-Method', 'GET');
      // An accepted preflight all the same: without the ask, the answer is the ordinary one.
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(res.headers['access-control-allow-private-network']).toBeUndefined();
    });
  });

  describe('logging', () => {
    it('logs every rejection at debug level with its reason and the Cors context, nothing at log level', async () => {
      logger.lines.length = 0;
      const server = app.getHttpServer();
      await request(server)
        .options('/items')
        .set('Origin', 'https://evil.com')
        .set('Access-Control-Request-Method', 'GET');
      await request(server)
        .options('/items')
        .set('Origin', 'https://app.example.com')
        .set('Access-Control-Request-Method', 'PUT');
      await request(server)
        .options('/items')
        .set('Origin', 'https://app.example.com')
        .set('Access-Control-Request-Method', 'GET')
        .set('Access-Control-Request-Headers', 'x-nope');
      await request(server).get('/items').set('Origin', 'https://evil.com');
      await request(server).post('/items').set('Origin', 'https://evil.com');
      await request(server).get('/items').set('Origin', 'https://app.example.com');
      const cors = logger.lines.filter((line) => line.context === 'Cors');
      expect(cors.map((line) => line.level)).toEqual(['debug', 'debug', 'debug', 'debug', 'debug']);
      expect(cors.map((line) => line.message.replace(/ \(.*$/, ''))).toEqual([
        'CORS preflight rejected: origin not allowed',
        'CORS preflight rejected: method not allowed',
        'CORS preflight rejected: header not allowed',
        'CORS headers withheld: origin not allowed',
        'CORS request rejected: origin not allowed',
      ]);
      expect(logger.lines.filter((line) => line.level !== 'debug')).toEqual([]);
    });
  });
});

describe.each(ADAPTERS)('same-origin detection behind a proxy on $name ($bootstrap)', (adapter: AdapterCase) => {
  it('believes X-Forwarded-Host only when the adapter trusts the proxy', async () => {
    const trusting =
      adapter.name === 'express'
        ? { configure: (app: INestApplication) => app.getHttpAdapter().getInstance().set('trust proxy', true) }
        : { adapterOptions: { trustProxy: true } };
    for (const [setup, status] of [
      [trusting, 201],
      [{}, 403],
    ] as const) {
      const app = await startApp(adapter, [appWith({ origin: [] })], setup);
      try {
        const res = await request(app.getHttpServer())
          .post('/items')
          .set('Origin', 'https://public.example.com')
          .set('Host', 'internal:3000')
          .set('X-Forwarded-Host', 'public.example.com');
        expect(res.status).toBe(status);
      } finally {
        await app.close();
      }
    }
  });
});
