import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { All, Controller, Get, Header, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { CorsConfigError, type CorsModuleOptions } from '../../src/index.js';
import { ADAPTERS, type AdapterCase, appModule, corsHeaderNames, startApp, withApp } from './app.fixture.js';

/**
 * The behaviours of Starlette's tests/middleware/test_cors.py, each under the name of the Starlette test it mirrors.
 * Where nestjs-cors deliberately differs (README.md, "What a request gets" and "Startup validation": 403 instead of
 * 400, '*' with credentials refused at startup, safelisted headers in lower case), the test name says so.
 */
@Controller()
class HomeController {
  @All() home() {
    return 'Homepage';
  }
  @Get('varied') @Header('Vary', 'Accept-Encoding') varied() {
    return 'Homepage';
  }
}

async function withHome(
  adapter: AdapterCase,
  options: CorsModuleOptions,
  test: (app: INestApplication) => Promise<void>,
) {
  await withApp(await startApp(adapter, [appModule(options, [HomeController])]), test);
}

describe.each(ADAPTERS)("Starlette's CORS behaviours on $name ($bootstrap)", (adapter) => {
  it("test_cors_allow_all: '*' origins with credentials is refused at startup (Starlette would reflect the origin)", async () => {
    await expect(startApp(adapter, [appModule({ origin: '*', credentials: true }, [HomeController])])).rejects.toThrow(
      CorsConfigError,
    );
  });

  it('test_cors_allow_all_except_credentials: *, mirrored headers, exposed headers, no credentials, no Vary; unlike Starlette, * without Origin too (Fetch, CORS and HTTP caches)', async () => {
    await withHome(
      adapter,
      { origin: '*', writeOrigin: '*', allowedHeaders: '*', methods: '*', exposedHeaders: ['X-Status'] },
      async (app) => {
        const pre = await request(app.getHttpServer())
          .options('/')
          .set('Origin', 'https://example.org')
          .set('Access-Control-Request-Method', 'GET')
          .set('Access-Control-Request-Headers', 'X-Example');
        expect(pre.status).toBe(204);
        expect(pre.headers['access-control-allow-origin']).toBe('*');
        expect(pre.headers['access-control-allow-headers']).toContain('x-example');
        expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
        expect(pre.headers.vary ?? '').not.toContain('Origin');
        const res = await request(app.getHttpServer()).get('/').set('Origin', 'https://example.org');
        expect(res.text).toBe('Homepage');
        expect(res.headers['access-control-allow-origin']).toBe('*');
        expect(res.headers['access-control-expose-headers']).toBe('X-Status');
        expect(res.headers['access-control-allow-credentials']).toBeUndefined();
        const plain = await request(app.getHttpServer()).get('/');
        expect(plain.headers['access-control-allow-origin']).toBe('*');
        expect(plain.headers['access-control-expose-headers']).toBe('X-Status');
        expect(plain.headers.vary).toBeUndefined();
      },
    );
  });

  it('test_cors_allow_specific_origin: the listed origin, safelisted + allowed headers listed, no credentials', async () => {
    await withHome(
      adapter,
      { origin: ['https://example.org'], allowedHeaders: ['X-Example', 'Content-Type'] },
      async (app) => {
        const pre = await request(app.getHttpServer())
          .options('/')
          .set('Origin', 'https://example.org')
          .set('Access-Control-Request-Method', 'GET')
          .set('Access-Control-Request-Headers', 'X-Example, Content-Type');
        expect(pre.status).toBe(204);
        expect(pre.headers['access-control-allow-origin']).toBe('https://example.org');
        expect(pre.headers['access-control-allow-headers']).toBe(
          'accept, accept-language, content-language, content-type, x-example',
        );
        expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
        const res = await request(app.getHttpServer()).get('/').set('Origin', 'https://example.org');
        expect(res.headers['access-control-allow-origin']).toBe('https://example.org');
        expect(corsHeaderNames(await request(app.getHttpServer()).get('/'))).toEqual([]);
      },
    );
  });

  it('test_cors_disallowed_preflight: 403 (Starlette: 400) naming the first failing check, no ACAO', async () => {
    await withHome(adapter, { origin: ['https://example.org'], allowedHeaders: ['X-Example'] }, async (app) => {
      const bad = await request(app.getHttpServer())
        .options('/')
        .set('Origin', 'https://another.org')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'X-Nope');
      expect(bad.status).toBe(403);
      expect(bad.text).toBe('CORS preflight rejected: origin not allowed');
      expect(bad.headers['access-control-allow-origin']).toBeUndefined();
      const twoHeaders = await request(app.getHttpServer())
        .options('/')
        .set('Origin', 'https://example.org')
        .set('Access-Control-Request-Method', 'GET')
        .set('Access-Control-Request-Headers', 'X-Nope-1, X-Nope-2');
      expect(twoHeaders.text).toBe('CORS preflight rejected: header not allowed');
    });
  });

  it("test_cors_preflight_allow_all_methods: methods '*' allows each requested method", async () => {
    await withHome(adapter, { origin: '*', writeOrigin: '*', methods: '*' }, async (app) => {
      for (const method of ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']) {
        const res = await request(app.getHttpServer())
          .options('/')
          .set('Origin', 'https://example.org')
          .set('Access-Control-Request-Method', method);
        expect(res.status).toBe(204);
        expect(res.headers['access-control-allow-methods']).toBe(method);
      }
    });
  });

  it("test_cors_allow_all_methods: every method's actual request is answered with ACAO", async () => {
    await withHome(adapter, { origin: '*', writeOrigin: '*', methods: '*' }, async (app) => {
      for (const method of ['delete', 'get', 'patch', 'post', 'put'] as const) {
        const res = await request(app.getHttpServer())[method]('/').set('Origin', 'https://example.org').send({});
        expect(res.status).toBeLessThan(300);
        expect(res.headers['access-control-allow-origin']).toBe('*');
      }
    });
  });

  it('test_cors_allow_origin_regex: an anchored RegExp allows https origins only, with credentials', async () => {
    // Starlette's allow_origin_regex='https://.*' with credentials lets any https site read with the user's cookies;
    // nestjs-cors refuses it at startup (a look-alike gap, and every domain), so the same checks run on named hosts.
    await expect(
      startApp(adapter, [appModule({ origin: [/^https:\/\/.*$/], credentials: true }, [HomeController])]),
    ).rejects.toThrow('look-alike gap');
    const named = /^https:\/\/(?:[a-z0-9-]+\.)?(?:example\.org|another\.com)$/;
    await withHome(
      adapter,
      { origin: [named], credentials: true, allowedHeaders: ['X-Example', 'Content-Type'] },
      async (app) => {
        const ok = await request(app.getHttpServer()).get('/').set('Origin', 'https://example.org');
        expect(ok.headers['access-control-allow-origin']).toBe('https://example.org');
        expect(ok.headers['access-control-allow-credentials']).toBe('true');
        const http = await request(app.getHttpServer()).get('/').set('Origin', 'http://example.org');
        expect(http.status).toBe(200);
        expect(http.headers['access-control-allow-origin']).toBeUndefined();
        const pre = await request(app.getHttpServer())
          .options('/')
          .set('Origin', 'https://another.com')
          .set('Access-Control-Request-Method', 'GET')
          .set('Access-Control-Request-Headers', 'X-Example, content-type');
        expect(pre.status).toBe(204);
        expect(pre.headers['access-control-allow-headers']).toBe(
          'accept, accept-language, content-language, content-type, x-example',
        );
        const badPre = await request(app.getHttpServer())
          .options('/')
          .set('Origin', 'http://another.com')
          .set('Access-Control-Request-Method', 'GET');
        expect(badPre.status).toBe(403);
        expect(badPre.text).toBe('CORS preflight rejected: origin not allowed');
      },
    );
  });

  it('test_cors_allow_origin_regex_fullmatch: an unanchored RegExp is refused at startup; the anchored one matches whole origins only', async () => {
    await expect(
      startApp(adapter, [appModule({ origin: [/https:\/\/.*\.example\.org/] }, [HomeController])]),
    ).rejects.toThrow('not anchored');
    await withHome(adapter, { origin: [/^https:\/\/[a-z0-9-]+\.example\.org$/] }, async (app) => {
      const ok = await request(app.getHttpServer()).get('/').set('Origin', 'https://subdomain.example.org');
      expect(ok.headers['access-control-allow-origin']).toBe('https://subdomain.example.org');
      const hacker = await request(app.getHttpServer())
        .get('/')
        .set('Origin', 'https://subdomain.example.org.hacker.com');
      expect(hacker.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  it("test_cors_credentialed_requests_return_specific_origin: a Cookie does not turn '*' into a reflected origin here", async () => {
    await withHome(adapter, { origin: '*' }, async (app) => {
      const res = await request(app.getHttpServer())
        .get('/')
        .set('Origin', 'https://example.org')
        .set('Cookie', 'star_cookie=sugar');
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    });
  });

  it('test_cors_vary_header_defaults_to_origin', async () => {
    await withHome(adapter, { origin: ['https://example.org'] }, async (app) => {
      const res = await request(app.getHttpServer()).get('/').set('Origin', 'https://example.org');
      expect(res.headers.vary).toBe('Origin');
    });
  });

  it("test_cors_vary_header_is_not_set_for_non_credentialed_request: '*' keeps the app's Vary as it is", async () => {
    await withHome(adapter, { origin: '*' }, async (app) => {
      for (const cookie of [undefined, 'foo=bar']) {
        let req = request(app.getHttpServer()).get('/varied').set('Origin', 'https://someplace.org');
        if (cookie) req = req.set('Cookie', cookie);
        expect((await req).headers.vary).toBe('Accept-Encoding');
      }
    });
  });

  it('test_cors_vary_header_is_properly_set_when_allow_origins_is_not_wildcard', async () => {
    await withHome(adapter, { origin: ['https://example.org'] }, async (app) => {
      const res = await request(app.getHttpServer()).get('/varied').set('Origin', 'https://example.org');
      expect(res.headers.vary).toBe('Accept-Encoding, Origin');
    });
  });

  it('test_cors_allowed_origin_does_not_leak_between_credentialed_requests', async () => {
    await withHome(adapter, { origin: '*', writeOrigin: '*', allowedHeaders: '*', methods: '*' }, async (app) => {
      for (const cookie of [undefined, 'foo=bar', undefined]) {
        let req = request(app.getHttpServer()).get('/').set('Origin', 'https://someplace.org');
        if (cookie) req = req.set('Cookie', cookie);
        const res = await req;
        expect(res.headers['access-control-allow-origin']).toBe('*');
        expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      }
    });
  });
});
