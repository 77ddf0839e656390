import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, type INestApplication, Module, Patch, Put } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  Cors,
  CORS_OPTIONS,
  CORS_OVERRIDES,
  CorsConfigError,
  CorsModule,
  type CorsModuleOptions,
  type CorsOverrides,
} from '../../src/index.js';
import { ADAPTERS, APP_ORIGIN, type AdapterCase, PARTNER_ORIGIN, startApp, withApp } from './app.fixture.js';

const DEV_APP = 'http://localhost:4200';
const DEV_PARTNER = 'http://localhost:4300';

/** The app of the README's recipe: options from a config provider through forRootAsync, with a named policy. */
@Injectable()
class AppConfig {
  cors(): CorsModuleOptions {
    return {
      origin: [APP_ORIGIN],
      credentials: true,
      methods: ['GET', 'POST'],
      policies: { partner: { origin: [PARTNER_ORIGIN], methods: ['GET', 'PUT'], allowedHeaders: ['X-Partner-Key'] } },
    };
  }
}
@Module({ providers: [AppConfig], exports: [AppConfig] })
class ConfigModule {}

@Controller('orders')
class OrdersController {
  @Get() list() {
    return [];
  }
}

@Cors('partner')
@Controller('partner/orders')
class PartnerOrdersController {
  @Get() list() {
    return [];
  }
  @Put(':id') update() {
    return 'updated';
  }
  @Patch(':id') patch() {
    return 'patched';
  }
}

@Module({
  imports: [
    CorsModule.forRootAsync({
      imports: [ConfigModule],
      inject: [AppConfig],
      useFactory: (config: AppConfig) => config.cors(),
    }),
  ],
  controllers: [OrdersController, PartnerOrdersController],
})
class AppModule {}

const preflight = (app: INestApplication, path: string, origin: string, method: string, headers?: string) => {
  const req = request(app.getHttpServer())
    .options(path)
    .set('Origin', origin)
    .set('Access-Control-Request-Method', method);
  return headers === undefined ? req : req.set('Access-Control-Request-Headers', headers);
};

/** Builds the app as the README's recipe does: `Test.createTestingModule()`, one override, `createNestApplication()`. */
async function testApp(adapter: AdapterCase, token: string, value: unknown): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(token)
    .useValue(value)
    .compile();
  const app = moduleRef.createNestApplication(adapter.create(), { logger: false });
  await app.init();
  if (adapter.name === 'fastify') await app.getHttpAdapter().getInstance().ready();
  return app;
}

// overrideProvider() is the testing module's; both adapters.
describe.each(ADAPTERS.filter((adapter) => adapter.bootstrap === 'testing module'))(
  'overriding CORS in tests on $name',
  (adapter) => {
    it('the recipe: overrideProvider(CORS_OPTIONS) in an app with named policies and forRootAsync changes the global policy only', async () => {
      await withApp(await testApp(adapter, CORS_OPTIONS, { origin: [DEV_APP] }), async (app) => {
        const pre = await preflight(app, '/orders', DEV_APP, 'POST');
        expect(pre.status).toBe(204);
        // The fields the override leaves out stay the app's.
        expect(pre.headers['access-control-allow-credentials']).toBe('true');
        expect(pre.headers['access-control-allow-methods']).toBe('GET, POST, HEAD');
        expect((await preflight(app, '/orders', APP_ORIGIN, 'GET')).status).toBe(403);
        // The named policy is still there, and still the app's.
        expect((await preflight(app, '/partner/orders/7', PARTNER_ORIGIN, 'PUT', 'x-partner-key')).status).toBe(204);
      });
    });

    it('the recipe: overrideProvider(CORS_OVERRIDES) overrides the global policy, a named policy and one route, field by field', async () => {
      const overrides: CorsOverrides = {
        global: { origin: [DEV_APP] },
        policies: { partner: { origin: [DEV_PARTNER] } },
        routes: { 'PartnerOrdersController.patch': { methods: ['GET', 'PATCH'] } },
      };
      await withApp(await testApp(adapter, CORS_OVERRIDES, overrides), async (app) => {
        expect((await preflight(app, '/orders', DEV_APP, 'POST')).status).toBe(204);
        const partner = await preflight(app, '/partner/orders/7', DEV_PARTNER, 'PUT', 'x-partner-key');
        expect(partner.status).toBe(204);
        expect(partner.headers['access-control-allow-methods']).toBe('GET, PUT, HEAD'); // the policy's own methods
        expect(partner.headers['access-control-allow-credentials']).toBe('true'); // from forRootAsync
        expect((await preflight(app, '/partner/orders/7', PARTNER_ORIGIN, 'PUT')).status).toBe(403);
        // One route: its methods change, its origin is still the (overridden) partner policy's, its neighbours keep theirs.
        expect((await preflight(app, '/partner/orders/7', DEV_PARTNER, 'PATCH')).status).toBe(204);
        expect(
          (await preflight(app, '/partner/orders/7', DEV_PARTNER, 'PATCH')).headers['access-control-allow-methods'],
        ).toBe('GET, PATCH, HEAD');
      });
    });

    it.each([
      [
        { policies: { parnter: { origin: [DEV_PARTNER] } } },
        "Invalid CORS configuration in overrideProvider(CORS_OVERRIDES).policies: unknown policy 'parnter' (known: partner)",
      ],
      [
        { routes: { 'PartnerOrdersController.updat': { methods: ['PUT'] } } },
        "overrideProvider(CORS_OVERRIDES).routes: 'PartnerOrdersController.updat' is no controller or route of the app",
      ],
      [
        { global: { origin: ['null'] } },
        "Invalid CORS configuration in forRootAsync (with overrideProvider(CORS_OVERRIDES).global): origin 'null', with credentials",
      ],
    ])(
      'an override that would do nothing, or something unsafe, fails the bootstrap: %j',
      async (overrides, message) => {
        const bootstrap = testApp(adapter, CORS_OVERRIDES, overrides);
        await expect(bootstrap).rejects.toThrow(CorsConfigError);
        await expect(bootstrap).rejects.toThrow(message);
      },
    );

    it('an unknown policy names forRootAsync when the app used it', async () => {
      @Module({
        imports: [CorsModule.forRootAsync({ useFactory: () => ({ origin: [APP_ORIGIN] }) })],
        controllers: [PartnerOrdersController],
      })
      class NoPoliciesModule {}
      await expect(startApp(adapter, [NoPoliciesModule])).rejects.toThrow(
        "Invalid CORS configuration in PartnerOrdersController: unknown policy 'partner' (forRootAsync defines no policies)",
      );
    });
  },
);
