import 'reflect-metadata';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, Module, Options, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { Cors, CORS_OPTIONS, CorsConfigError, CorsModule, type CorsModuleOptions } from '../../src/index.js';
import {
  ADAPTERS,
  APP_ORIGIN,
  CapturingLogger,
  EVIL_ORIGIN,
  GLOBAL_POLICY,
  ItemsRoutes,
  appModule,
  handled,
  recordHandled,
  startApp,
  withApp,
} from './app.fixture.js';

const preflight = (app: INestApplication, path: string, origin: string, method: string) =>
  request(app.getHttpServer()).options(path).set('Origin', origin).set('Access-Control-Request-Method', method);

@Controller('items')
class ItemsController extends ItemsRoutes {
  @Options() options() {
    return recordHandled('items.options', 'from @Options()');
  }
}

@Injectable()
class AppConfig {
  readonly corsOrigins = ['https://from-config.example.com'];
}
@Module({ providers: [AppConfig], exports: [AppConfig] })
class ConfigModule {}

describe.each(ADAPTERS)('CorsModule configuration on $name ($bootstrap)', (adapter) => {
  it('forRootAsync takes the policy from an injected config provider', async () => {
    @Module({
      imports: [
        CorsModule.forRootAsync({
          imports: [ConfigModule],
          inject: [AppConfig],
          useFactory: (config: AppConfig): CorsModuleOptions => ({ origin: config.corsOrigins }),
        }),
      ],
      controllers: [ItemsController],
    })
    class AsyncModule {}
    await withApp(await startApp(adapter, [AsyncModule]), async (app) => {
      const res = await request(app.getHttpServer()).get('/items').set('Origin', 'https://from-config.example.com');
      expect(res.headers['access-control-allow-origin']).toBe('https://from-config.example.com');
      expect((await preflight(app, '/items', APP_ORIGIN, 'GET')).status).toBe(403);
    });
  });

  it('forRootAsync takes the policy from a class with createCorsOptions() (useClass)', async () => {
    @Injectable()
    class CorsConfigFactory {
      createCorsOptions(): CorsModuleOptions {
        return { origin: ['https://from-class.example.com'], methods: ['GET', 'POST'] };
      }
    }
    @Module({ imports: [CorsModule.forRootAsync({ useClass: CorsConfigFactory })], controllers: [ItemsController] })
    class ClassModule {}
    await withApp(await startApp(adapter, [ClassModule]), async (app) => {
      const res = await preflight(app, '/items', 'https://from-class.example.com', 'POST');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-methods']).toBe('GET, POST, HEAD');
    });
  });

  it('forRoot() with no options allows no cross-origin access', async () => {
    @Module({ imports: [CorsModule.forRoot()], controllers: [ItemsController] })
    class BareModule {}
    await withApp(await startApp(adapter, [BareModule]), async (app) => {
      expect((await preflight(app, '/items', APP_ORIGIN, 'GET')).status).toBe(403);
      const res = await request(app.getHttpServer()).get('/items').set('Origin', APP_ORIGIN);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  it('a test can replace the policy with overrideProvider(CORS_OPTIONS)', async () => {
    // The testing module's feature, whichever bootstrap the rest of this suite uses.
    const app = await startApp(
      { ...adapter, bootstrap: 'testing module' },
      [appModule(GLOBAL_POLICY, [ItemsController])],
      {
        override: (builder) => builder.overrideProvider(CORS_OPTIONS).useValue({ origin: ['http://localhost:4200'] }),
      },
    );
    await withApp(app, async () => {
      expect((await preflight(app, '/items', 'http://localhost:4200', 'GET')).status).toBe(204);
      expect((await preflight(app, '/items', APP_ORIGIN, 'GET')).status).toBe(403);
    });
  });

  it('a wrong forRoot option fails the bootstrap with CorsConfigError naming forRoot', async () => {
    const bootstrap = startApp(adapter, [appModule({ origin: '*', credentials: true }, [ItemsController])]);
    await expect(bootstrap).rejects.toThrow(CorsConfigError);
    await expect(bootstrap).rejects.toThrow('Invalid CORS configuration in forRoot: credentials cannot be used with');
  });

  it('a wrong route-level @Cors fails the bootstrap with CorsConfigError naming Controller.method', async () => {
    @Controller('reports')
    class ReportsController {
      @Get() list() {}
      @Cors({ origin: ['https://reports.example.com/'] }) @Get('daily') daily() {}
    }
    const bootstrap = startApp(adapter, [appModule(GLOBAL_POLICY, [ReportsController])]);
    await expect(bootstrap).rejects.toThrow(CorsConfigError);
    await expect(bootstrap).rejects.toThrow(
      /^Invalid CORS configuration in ReportsController\.daily: origin 'https:\/\/reports\.example\.com\/' has a path/,
    );
  });

  it('a controller-level @Cors that conflicts with forRoot names the controller and where each value came from', async () => {
    @Cors({ origin: '*' })
    @Controller('open')
    class OpenController {
      @Get() list() {}
    }
    // forRoot has credentials: true, so origin '*' here would send '*' with credentials.
    await expect(startApp(adapter, [appModule(GLOBAL_POLICY, [OpenController])])).rejects.toThrow(
      "Invalid CORS configuration in OpenController: credentials from forRoot cannot be used with origin '*': list",
    );
  });

  it("enforce: 'all' refuses disallowed cross-origin GETs too; enforce: false never refuses", async () => {
    await withApp(
      await startApp(adapter, [appModule({ ...GLOBAL_POLICY, enforce: 'all' }, [ItemsController])]),
      async (app) => {
        handled.length = 0;
        const res = await request(app.getHttpServer()).get('/items').set('Origin', EVIL_ORIGIN);
        expect(res.status).toBe(403);
        expect(handled).toEqual([]);
      },
    );
    await withApp(
      await startApp(adapter, [appModule({ ...GLOBAL_POLICY, enforce: false }, [ItemsController])]),
      async (app) => {
        handled.length = 0;
        const res = await request(app.getHttpServer()).post('/items').set('Origin', EVIL_ORIGIN);
        expect(res.status).toBe(201);
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
        expect(handled).toEqual(['items.create']);
      },
    );
  });

  it('preflightContinue passes an accepted preflight on to the @Options() handler, with the CORS headers set', async () => {
    await withApp(
      await startApp(adapter, [appModule({ ...GLOBAL_POLICY, preflightContinue: true }, [ItemsController])]),
      async (app) => {
        handled.length = 0;
        const res = await preflight(app, '/items', APP_ORIGIN, 'POST');
        expect(res.status).toBe(200);
        expect(res.text).toBe('from @Options()');
        expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
        expect(res.headers['access-control-allow-methods']).toBe('GET, POST, HEAD');
        expect(handled).toEqual(['items.options']);
        // A rejected preflight never reaches it.
        expect((await preflight(app, '/items', EVIL_ORIGIN, 'POST')).status).toBe(403);
        expect(handled).toEqual(['items.options']);
      },
    );
  });

  it('without preflightContinue, an @Options() handler does not run for preflights', async () => {
    await withApp(await startApp(adapter, [appModule(GLOBAL_POLICY, [ItemsController])]), async (app) => {
      handled.length = 0;
      expect((await preflight(app, '/items', APP_ORIGIN, 'POST')).status).toBe(204);
      expect(handled).toEqual([]);
    });
  });

  it.each([
    [
      'app.enableCors()',
      {
        configure: (app: INestApplication) => {
          app.enableCors();
          // Fastify refuses a second @fastify/cors registration by itself.
          if (adapter.name === 'express') app.enableCors();
        },
      },
    ],
    ['the cors application option', { appOptions: { cors: true } }],
  ])('warns once at startup when %s adds a second CORS layer', async (_case, setup) => {
    const logger = new CapturingLogger();
    const app = await startApp(adapter, [appModule(GLOBAL_POLICY, [ItemsController])], {
      ...setup,
      appOptions: { ...('appOptions' in setup ? setup.appOptions : {}), logger },
    });
    await withApp(app, async () => {
      const warnings = logger.lines.filter((line) => line.level === 'warn' && line.context === 'Cors');
      expect(warnings).toHaveLength(1);
      expect(warnings[0].message).toContain('two CORS layers');
    });
  });

  it('does not warn when CorsModule is the only CORS layer', async () => {
    const logger = new CapturingLogger();
    await withApp(
      await startApp(adapter, [appModule(GLOBAL_POLICY, [ItemsController])], { appOptions: { logger } }),
      async () => {
        expect(logger.lines.filter((line) => line.level === 'warn')).toEqual([]);
      },
    );
  });

  it('a request with two Origin headers is not allowed', async () => {
    await withApp(await startApp(adapter, [appModule(GLOBAL_POLICY, [ItemsController])]), async (app) => {
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as AddressInfo;
      const send = (method: string, body = '') =>
        new Promise<{ status?: number; headers: Record<string, unknown> }>((resolve, reject) => {
          const headers = ['Host', `127.0.0.1:${port}`, 'Origin', APP_ORIGIN, 'Origin', 'https://other.example.com'];
          if (body) headers.push('Content-Type', 'text/plain', 'Content-Length', String(body.length));
          const req = httpRequest({ host: '127.0.0.1', port, method, path: '/items', headers: headers as never });
          req.on('response', (res) => {
            res.resume();
            resolve({ status: res.statusCode, headers: res.headers });
          });
          req.on('error', reject);
          req.end(body);
        });
      const get = await send('GET');
      expect(get.status).toBe(200);
      expect(get.headers['access-control-allow-origin']).toBeUndefined();
      const post = await send('POST', 'x');
      expect(post.status).toBe(403);
      expect(post.headers['access-control-allow-origin']).toBeUndefined();
    });
  });
});
