import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Options, Post } from '@nestjs/common';
import request from 'supertest';
import { CorsConfigError, type CorsOptions } from '../../src/index.js';
import { ADAPTERS, CapturingLogger, appModule, startApp, withApp } from './app.fixture.js';

@Controller('hello')
class HelloController {
  @Get() get() {
    return 'hello';
  }
  @Post() post() {
    return 'posted';
  }
  @Options() options() {
    return 'options';
  }
}

/** Each risk DESIGN §4 refuses with credentials: the origin that brings it, the opt-in, and an origin it then lets in. */
const RISKS: Array<{
  risk: string;
  origin: CorsOptions['origin'];
  optIn: CorsOptions;
  allowed: string;
  refusal: string;
}> = [
  {
    risk: "'null'",
    origin: ['null'],
    optIn: { dangerouslyAllowNullOriginWithCredentials: true },
    allowed: 'null',
    refusal: "origin 'null', with credentials",
  },
  {
    risk: 'a plain http origin',
    origin: ['http://intranet.example.com'],
    optIn: { dangerouslyAllowInsecureOriginsWithCredentials: true },
    allowed: 'http://intranet.example.com',
    refusal: "origin 'http://intranet.example.com' is plain http, with credentials",
  },
  {
    risk: 'an https? RegExp',
    origin: [/^https?:\/\/app\.example\.com$/],
    optIn: { dangerouslyAllowInsecureOriginsWithCredentials: true },
    allowed: 'http://app.example.com',
    refusal: 'allows http://app.example.com, which is plain http, with credentials',
  },
  {
    risk: 'a wildcard over a public suffix',
    origin: ['https://*.github.io'],
    optIn: { dangerouslyAllowPublicSuffixWildcards: true },
    allowed: 'https://anyone.github.io',
    refusal: "origin pattern 'https://*.github.io' is a wildcard over the public suffix github.io, with credentials",
  },
];

describe.each(ADAPTERS)('strict origins on $name ($bootstrap)', (adapter) => {
  describe.each(RISKS)('$risk with credentials', ({ origin, optIn, allowed, refusal }) => {
    it('fails the bootstrap with CorsConfigError without the opt-in', async () => {
      const bootstrap = startApp(adapter, [appModule({ origin, credentials: true }, [HelloController])]);
      await expect(bootstrap).rejects.toThrow(CorsConfigError);
      await expect(bootstrap).rejects.toThrow(refusal);
    });

    it('starts with the opt-in, warns once at startup, and allows the origin with credentials', async () => {
      const logger = new CapturingLogger();
      const app = await startApp(adapter, [appModule({ origin, credentials: true, ...optIn }, [HelloController])], {
        appOptions: { logger },
      });
      await withApp(app, async () => {
        const warnings = logger.lines.filter((line) => line.level === 'warn' && line.context === 'Cors');
        expect(warnings).toEqual([
          expect.objectContaining({ message: expect.stringContaining(Object.keys(optIn)[0]) }),
        ]);
        const res = await request(app.getHttpServer()).get('/hello').set('Origin', allowed);
        expect(res.headers['access-control-allow-origin']).toBe(allowed);
        expect(res.headers['access-control-allow-credentials']).toBe('true');
        const pre = await request(app.getHttpServer())
          .options('/hello')
          .set('Origin', allowed)
          .set('Access-Control-Request-Method', 'GET');
        expect(pre.status).toBe(204);
        expect(pre.headers['access-control-allow-origin']).toBe(allowed);
      });
    });
  });

  it('without credentials, the same origins need no opt-in', async () => {
    const app = await startApp(adapter, [
      appModule({ origin: ['null', 'http://intranet.example.com', 'https://*.github.io'] }, [HelloController]),
    ]);
    await withApp(app, async () => {
      for (const origin of ['null', 'http://intranet.example.com', 'https://anyone.github.io']) {
        expect(
          (await request(app.getHttpServer()).get('/hello').set('Origin', origin)).headers[
            'access-control-allow-origin'
          ],
        ).toBe(origin);
      }
    });
  });

  it("refuses allowPrivateNetwork with '*' at startup", async () => {
    await expect(
      startApp(adapter, [appModule({ origin: '*', allowPrivateNetwork: true }, [HelloController])]),
    ).rejects.toThrow("allowPrivateNetwork cannot be used with origin '*'");
  });

  it("with origin '*', puts Access-Control-Allow-Origin: * on responses to the methods the policy allows, CORS request or not, and on no other", async () => {
    await withApp(await startApp(adapter, [appModule({ origin: '*' }, [HelloController])]), async (app) => {
      const server = app.getHttpServer();
      // What a cache may hand a later cross-origin GET: the same headers that GET would get.
      expect((await request(server).get('/hello')).headers['access-control-allow-origin']).toBe('*');
      expect((await request(server).head('/hello')).headers['access-control-allow-origin']).toBe('*');
      // A method outside `methods` gets none, CORS request or not, as a cross-origin request with it would get none.
      expect((await request(server).post('/hello')).headers['access-control-allow-origin']).toBeUndefined();
      expect(
        (await request(server).post('/hello').set('Origin', 'https://any.example')).headers[
          'access-control-allow-origin'
        ],
      ).toBeUndefined();
      expect((await request(server).options('/hello')).headers['access-control-allow-origin']).toBeUndefined();
    });
  });
});
