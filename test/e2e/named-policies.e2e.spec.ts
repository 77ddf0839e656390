import 'reflect-metadata';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, type INestApplication, Module, Put, type Type } from '@nestjs/common';
import request from 'supertest';
import { Cors, CorsConfigError, CorsModule, type CorsModuleOptions } from '../../src/index.js';
import { ADAPTERS, APP_ORIGIN, EVIL_ORIGIN, PARTNER_ORIGIN, handled, startApp, withApp } from './app.fixture.js';

// Apps opt in to checked names; this suite declares the names it uses.
declare module '../../src/cors-options.interface.js' {
  interface CorsPolicyNames {
    partner: true;
    public: true;
  }
}

export function misspelledNamesDoNotCompile(): void {
  // @ts-expect-error 'parnter' is not a declared policy name
  Cors('parnter');
}

const CONFIG = {
  origin: [APP_ORIGIN],
  credentials: true,
  methods: ['GET', 'POST'],
  exposedHeaders: ['X-Request-Id'],
  policies: {
    partner: { origin: [PARTNER_ORIGIN], methods: ['GET', 'PUT'], allowedHeaders: ['X-Partner-Key'] },
    public: { origin: '*', credentials: false, methods: ['GET'] },
  },
} satisfies CorsModuleOptions;

@Cors('partner')
@Controller('partner/orders')
class PartnerOrdersController {
  @Get() list() {
    return 'orders';
  }
  @Put(':id') update() {
    handled.push('partner.update');
    return 'updated';
  }
  @Cors('partner', { exposedHeaders: ['X-Total-Count'] }) @Get('count') count() {
    return 3;
  }
  @Cors({ methods: ['GET'] }) @Put('frozen/:id') frozen() {
    handled.push('partner.frozen');
    return 'frozen';
  }
  @Cors('public') @Get('catalogue') catalogue() {
    return 'catalogue';
  }
}

const preflight = (app: INestApplication, path: string, origin: string, method: string) =>
  request(app.getHttpServer()).options(path).set('Origin', origin).set('Access-Control-Request-Method', method);

function namedModule(cors = CorsModule.forRoot(CONFIG), controllers: Type[] = [PartnerOrdersController]): Type {
  @Module({ imports: [cors], controllers })
  class NamedModule {}
  return NamedModule;
}

/** A GraphQL-like endpoint no controller serves, mounted with `app.use()`. */
function mountEndpoint(app: INestApplication): void {
  app.use('/graphql', (_req: unknown, res: ServerResponse) => {
    handled.push('graphql');
    res.setHeader('Content-Type', 'application/json');
    res.end('{"data":{}}');
  });
}

describe.each(ADAPTERS)('named policies on $name ($bootstrap)', (adapter) => {
  it("@Cors('name') applies the named policy over forRoot, field by field", async () => {
    await withApp(await startApp(adapter, [namedModule()]), async (app) => {
      const pre = await preflight(app, '/partner/orders/7', PARTNER_ORIGIN, 'PUT').set(
        'Access-Control-Request-Headers',
        'x-partner-key',
      );
      expect(pre.status).toBe(204);
      expect(pre.headers['access-control-allow-origin']).toBe(PARTNER_ORIGIN);
      expect(pre.headers['access-control-allow-methods']).toBe('GET, PUT, HEAD');
      expect(pre.headers['access-control-allow-credentials']).toBe('true'); // from forRoot
      expect((await preflight(app, '/partner/orders/7', APP_ORIGIN, 'PUT')).status).toBe(403);
      const res = await request(app.getHttpServer()).get('/partner/orders').set('Origin', PARTNER_ORIGIN);
      expect(res.headers['access-control-expose-headers']).toBe('X-Request-Id'); // from forRoot
    });
  });

  it("@Cors('name', overrides) and a route's own @Cors override the controller's named policy; arrays replace", async () => {
    await withApp(await startApp(adapter, [namedModule()]), async (app) => {
      const count = await request(app.getHttpServer()).get('/partner/orders/count').set('Origin', PARTNER_ORIGIN);
      expect(count.headers['access-control-expose-headers']).toBe('X-Total-Count');
      handled.length = 0;
      const frozen = await request(app.getHttpServer()).put('/partner/orders/frozen/7').set('Origin', PARTNER_ORIGIN);
      expect(frozen.status).toBe(403);
      expect(handled).toEqual([]);
      const updated = await request(app.getHttpServer()).put('/partner/orders/7').set('Origin', PARTNER_ORIGIN);
      expect(updated.status).toBe(200);
      expect(handled).toEqual(['partner.update']);
      const catalogue = await request(app.getHttpServer()).get('/partner/orders/catalogue');
      expect(catalogue.headers['access-control-allow-origin']).toBe('*');
      expect(catalogue.headers['access-control-allow-credentials']).toBeUndefined();
    });
  });

  it('takes the named policies from forRootAsync', async () => {
    @Injectable()
    class PartnerConfig {
      readonly origins = ['https://staging-partner.example.net'];
    }
    @Module({ providers: [PartnerConfig], exports: [PartnerConfig] })
    class PartnerConfigModule {}
    const cors = CorsModule.forRootAsync({
      imports: [PartnerConfigModule],
      inject: [PartnerConfig],
      useFactory: (config: PartnerConfig) => ({
        ...CONFIG,
        policies: { ...CONFIG.policies, partner: { ...CONFIG.policies.partner, origin: config.origins } },
      }),
    });
    await withApp(await startApp(adapter, [namedModule(cors)]), async (app) => {
      expect((await preflight(app, '/partner/orders/7', 'https://staging-partner.example.net', 'PUT')).status).toBe(
        204,
      );
      expect((await preflight(app, '/partner/orders/7', PARTNER_ORIGIN, 'PUT')).status).toBe(403);
    });
  });

  it('gives a path no controller serves the policy of its paths entry, and enforces it', async () => {
    const cors = CorsModule.forRoot({ ...CONFIG, paths: [{ path: '/graphql', policy: 'partner' }] });
    await withApp(await startApp(adapter, [namedModule(cors)], { configure: mountEndpoint }), async (app) => {
      const pre = await preflight(app, '/graphql', PARTNER_ORIGIN, 'PUT');
      expect(pre.status).toBe(204);
      expect(pre.headers['access-control-allow-origin']).toBe(PARTNER_ORIGIN);
      expect((await preflight(app, '/graphql', APP_ORIGIN, 'POST')).status).toBe(403);
      handled.length = 0;
      const refused = await request(app.getHttpServer())
        .post('/graphql')
        .set('Origin', APP_ORIGIN)
        .set('Content-Type', 'text/plain')
        .send('{}');
      expect(refused.status).toBe(403);
      expect(handled).toEqual([]);
      const read = await request(app.getHttpServer()).get('/graphql').set('Origin', PARTNER_ORIGIN);
      expect(read.status).toBe(200);
      expect(read.headers['access-control-allow-origin']).toBe(PARTNER_ORIGIN);
      // Any other unserved path keeps the global policy.
      expect((await preflight(app, '/elsewhere', APP_ORIGIN, 'POST')).status).toBe(204);
    });
  });
});

describe.each(ADAPTERS)('configuration errors that say where, on $name ($bootstrap)', (adapter) => {
  const failure = async (module: Type, configure?: (app: INestApplication) => void) => {
    try {
      await (await startApp(adapter, [module], { configure })).close();
    } catch (error) {
      return error as CorsConfigError;
    }
    throw new Error('the bootstrap did not fail');
  };

  it('an unknown policy name names Controller.method and the known names', async () => {
    @Controller('x')
    class TypoController {
      // A name from another configuration: no compile-time check for a string that is not a literal.
      @Cors(String('parnter') as 'partner') @Get() get() {}
    }
    const error = await failure(namedModule(CorsModule.forRoot(CONFIG), [TypoController]));
    expect(error).toBeInstanceOf(CorsConfigError);
    expect(error.message).toBe(
      "Invalid CORS configuration in TypoController.get: unknown policy 'parnter' (known: partner, public)",
    );
  });

  it('names a handler by the property key Nest uses, even when another decorator wrapped the function', async () => {
    const Wrapped = (): MethodDecorator => (_target, _key, descriptor: PropertyDescriptor) => {
      const original = descriptor.value;
      descriptor.value = function wrapper(...args: unknown[]) {
        return original.apply(this, args);
      };
    };
    @Controller('y')
    class WrappedController {
      @Cors({ maxAge: -1 }) @Get() @Wrapped() report() {}
    }
    const error = await failure(namedModule(CorsModule.forRoot(CONFIG), [WrappedController]));
    expect(error.message).toMatch(/^Invalid CORS configuration in WrappedController\.report: 'maxAge'/);
  });

  it('reports every mistake of the bootstrap at once', async () => {
    @Controller('z')
    class ManyMistakesController {
      @Cors({ maxAge: -1 }) @Get('a') a() {}
      @Cors({ methods: ['get'] }) @Get('b') b() {}
    }
    const error = await failure(namedModule(CorsModule.forRoot(CONFIG), [ManyMistakesController]));
    expect(error.errors.map((each) => each.location)).toEqual(['ManyMistakesController.a', 'ManyMistakesController.b']);
    expect(error.message).toMatch(
      /^Invalid CORS configuration \(2 mistakes\):\n {2}- Invalid CORS configuration in ManyMistakesController\.a: /,
    );
  });

  it('says forRootAsync for options from forRootAsync, and names a bad named policy', async () => {
    const cors = CorsModule.forRootAsync({
      useFactory: () => ({ ...CONFIG, maxAge: 1.5, policies: { partner: { origin: 'https://partner.example.net/' } } }),
    });
    const error = await failure(namedModule(cors, []));
    expect(error.errors.map((each) => each.location)).toEqual(['forRootAsync', "forRootAsync policy 'partner'"]);
  });

  it('refuses a second import of CorsModule, naming both importers', async () => {
    @Module({ imports: [CorsModule.forRoot({ origin: [PARTNER_ORIGIN] })], controllers: [PartnerOrdersController] })
    class FeatureModule {}
    @Module({ imports: [CorsModule.forRoot(CONFIG), FeatureModule] })
    class RootModule {}
    const error = await failure(RootModule);
    expect(error.message).toMatch(
      /^Invalid CORS configuration in CorsModule: imported more than once, by (RootModule and FeatureModule|FeatureModule and RootModule)/,
    );
  });
});

describe.each(ADAPTERS)('paths on $name ($bootstrap)', (adapter) => {
  it("a paths entry's own options, and EVIL_ORIGIN is still refused elsewhere", async () => {
    const cors = CorsModule.forRoot({
      ...CONFIG,
      paths: [{ path: '/graphql', policy: { origin: [EVIL_ORIGIN], credentials: false } }],
    });
    await withApp(await startApp(adapter, [namedModule(cors)], { configure: mountEndpoint }), async (app) => {
      expect((await preflight(app, '/graphql', EVIL_ORIGIN, 'POST')).status).toBe(204);
      expect((await preflight(app, '/partner/orders', EVIL_ORIGIN, 'GET')).status).toBe(403);
    });
  });
});
