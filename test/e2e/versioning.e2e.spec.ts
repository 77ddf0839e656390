import 'reflect-metadata';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import {
  Controller,
  Get,
  type INestApplication,
  Module,
  Post,
  VERSION_NEUTRAL,
  Version,
  VersioningType,
  type VersioningOptions,
} from '@nestjs/common';
import request from 'supertest';
import { CorsGuard } from '../../src/cors.guard.js';
import { Cors, CorsModule } from '../../src/index.js';
import { ADAPTERS, corsHeaderNames, handled, recordHandled, startApp, withApp } from './app.fixture.js';

const V1_ORIGIN = 'https://v1.example.com';
const V2_ORIGIN = 'https://v2.example.com';

@Controller('orders')
class OrdersController {
  @Cors({ origin: [V1_ORIGIN], methods: ['GET', 'POST'], exposedHeaders: ['X-V1'] })
  @Version('1')
  @Get()
  v1() {
    handled.push('v1');
    return 'v1';
  }
  @Cors({ origin: [V2_ORIGIN], methods: ['GET', 'POST'], allowedHeaders: ['X-V2-Key'], exposedHeaders: ['X-V2'] })
  @Version('2')
  @Get()
  v2() {
    handled.push('v2');
    return 'v2';
  }
  @Cors({ origin: [V2_ORIGIN], methods: ['GET', 'POST'] })
  @Version('2')
  @Post()
  create() {
    handled.push('create-v2');
    return 'created';
  }
  @Version(VERSION_NEUTRAL) @Get('status') status() {
    return 'status';
  }
}

/** Version 1 and 2 of /payments, each for its own origin, and a handler without a version that gets the rest. */
@Cors({ origin: [V1_ORIGIN], credentials: true, methods: ['GET', 'POST'] })
@Controller({ path: 'payments', version: '1' })
class PaymentsV1Controller {
  @Get() list() {
    return recordHandled('payments.v1.list', 'v1');
  }
  @Post() pay() {
    return recordHandled('payments.v1.pay', 'paid v1');
  }
}

@Cors({ origin: [V2_ORIGIN], methods: ['GET', 'POST'] })
@Controller({ path: 'payments', version: '2' })
class PaymentsV2Controller {
  @Post() pay() {
    return recordHandled('payments.v2.pay', 'paid v2');
  }
}

@Controller('payments')
class PaymentsController {
  @Get() list() {
    return recordHandled('payments.list', 'unversioned');
  }
  @Post() pay() {
    return recordHandled('payments.pay', 'paid');
  }
}

@Module({
  imports: [CorsModule.forRoot({ origin: ['https://app.example.com'] })],
  // The handler without a version last, as Express would otherwise run it for every version.
  controllers: [OrdersController, PaymentsV1Controller, PaymentsV2Controller, PaymentsController],
})
class VersionedModule {}

/** Versions 1 and 2 of GET /ledger, each for its own origin, with `enforce: 'all'`: a disallowed GET is refused too. */
@Cors({ enforce: 'all' })
@Controller('ledger')
class LedgerController {
  @Cors({ origin: [V1_ORIGIN] }) @Version('1') @Get() v1() {
    return recordHandled('ledger.v1', 'ledger v1');
  }
  @Cors({ origin: [V2_ORIGIN] }) @Version('2') @Get() v2() {
    return recordHandled('ledger.v2', 'ledger v2');
  }
}

@Module({ imports: [CorsModule.forRoot({ origin: ['https://app.example.com'] })], controllers: [LedgerController] })
class EnforcedVersionsModule {}

/**
 * GET /catalog/special in versions 3 and 4, then GET /catalog/:id in versions 1 and 2, each pair a group of candidates
 * of its own. A request for /catalog/special in version 1 is matched to the first group, by the route table as by the
 * router; neither of its handlers takes version 1, so the router passes the request on (Express: `next()`; find-my-way:
 * the parametric route), to version 1 of /catalog/:id, whose policy is not among the front door's candidates. Its
 * guard then asks that policy's origin function itself, which answers asynchronously.
 */
const ITEM_HEADER = 'X-Item-V1';
@Controller('catalog')
class CatalogSpecialController {
  @Cors({ origin: [V1_ORIGIN, V2_ORIGIN] }) @Version('3') @Get('special') v3() {
    return recordHandled('catalog.special.v3', 'special v3');
  }
  @Cors({ origin: ['https://v4.example.com'] }) @Version('4') @Get('special') v4() {
    return recordHandled('catalog.special.v4', 'special v4');
  }
}

@Controller('catalog')
class CatalogItemController {
  @Cors({ origin: async (origin: string) => origin === V1_ORIGIN, exposedHeaders: [ITEM_HEADER] })
  @Version('1')
  @Get(':id')
  v1() {
    return recordHandled('catalog.item.v1', 'item v1');
  }
  @Cors({ origin: [V2_ORIGIN] }) @Version('2') @Get(':id') v2() {
    return recordHandled('catalog.item.v2', 'item v2');
  }
}

/** The same, with one policy for the versions of /shelf/special: the front door had no decision to leave for the guard. */
const SHELF_ORIGIN = 'https://shelf.example.com';
@Cors({ origin: [SHELF_ORIGIN] })
@Controller('shelf')
class ShelfSpecialController {
  @Version('3') @Get('special') v3() {
    return recordHandled('shelf.special.v3', 'special v3');
  }
}

@Controller('shelf')
class ShelfItemController {
  @Cors({ origin: [V1_ORIGIN] }) @Version('1') @Get(':id') v1() {
    return recordHandled('shelf.item.v1', 'item v1');
  }
  @Cors({ origin: [V2_ORIGIN] }) @Version('2') @Get(':id') v2() {
    return recordHandled('shelf.item.v2', 'item v2');
  }
}

/** The rest of /shelf: no version, no cross-origin access. Requests no version of /shelf takes fall through to it. */
@Controller('shelf')
class ShelfRestController {
  @Cors(false) @Get(':rest') rest() {
    return recordHandled('shelf.rest', 'rest');
  }
}

@Module({
  imports: [CorsModule.forRoot({ origin: ['https://app.example.com'], enforce: 'all' })],
  controllers: [
    CatalogSpecialController,
    CatalogItemController,
    ShelfSpecialController,
    ShelfItemController,
    ShelfRestController,
  ],
})
class FallThroughModule {}

/** How each versioning type reads the version, and how a test request carries it. */
const VERSIONINGS: Array<{
  name: string;
  options: VersioningOptions;
  carry: (version: string) => Record<string, string>;
}> = [
  {
    name: 'header',
    options: { type: VersioningType.HEADER, header: 'X-Api-Version' },
    carry: (v) => ({ 'X-Api-Version': v }),
  },
  {
    name: 'media type',
    options: { type: VersioningType.MEDIA_TYPE, key: 'v=' },
    carry: (v) => ({ Accept: `application/json;v=${v}` }),
  },
  {
    name: 'custom extractor',
    options: {
      type: VersioningType.CUSTOM,
      extractor: (req: unknown) =>
        String((req as { headers: Record<string, string> }).headers['x-custom-version'] ?? ''),
    },
    carry: (v) => ({ 'X-Custom-Version': v }),
  },
];

describe.each(ADAPTERS)('versions a preflight cannot see, on $name ($bootstrap)', (adapter) => {
  describe.each(VERSIONINGS)('$name versioning', ({ options, carry }) => {
    const withVersionedApp = async (test: (app: INestApplication) => Promise<void>) =>
      withApp(await startApp(adapter, [VersionedModule], { configure: (a) => a.enableVersioning(options) }), test);
    const preflight = (app: INestApplication, origin: string, method = 'GET', headers?: string) => {
      const req = request(app.getHttpServer())
        .options('/orders')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', method);
      return headers ? req.set('Access-Control-Request-Headers', headers) : req;
    };

    it("accepts a preflight that any candidate handler's policy accepts", async () => {
      await withVersionedApp(async (app) => {
        expect((await preflight(app, V1_ORIGIN)).status).toBe(204);
        const v2 = await preflight(app, V2_ORIGIN, 'GET', 'x-v2-key');
        expect(v2.status).toBe(204);
        expect(v2.headers['access-control-allow-origin']).toBe(V2_ORIGIN);
        expect(v2.headers.vary).toBe('Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      });
    });

    it('rejects a preflight that no candidate accepts, with the first failing reason', async () => {
      await withVersionedApp(async (app) => {
        const res = await preflight(app, 'https://evil.example');
        expect(res.status).toBe(403);
        expect(res.text).toBe('CORS preflight rejected: origin not allowed');
        expect(corsHeaderNames(res)).toEqual([]);
        expect((await preflight(app, V1_ORIGIN, 'GET', 'x-v2-key')).status).toBe(403);
      });
    });

    it("makes the actual response exact for the handler that ran, whatever the preflight's union allowed", async () => {
      await withVersionedApp(async (app) => {
        const mine = await request(app.getHttpServer()).get('/orders').set('Origin', V2_ORIGIN).set(carry('2'));
        expect(mine.text).toBe('v2');
        expect(mine.headers['access-control-allow-origin']).toBe(V2_ORIGIN);
        expect(mine.headers['access-control-expose-headers']).toBe('X-V2');

        const other = await request(app.getHttpServer()).get('/orders').set('Origin', V2_ORIGIN).set(carry('1'));
        expect(other.text).toBe('v1');
        expect(corsHeaderNames(other)).toEqual([]);
        expect(other.headers.vary).toContain('Origin');

        const v1 = await request(app.getHttpServer()).get('/orders').set('Origin', V1_ORIGIN).set(carry('1'));
        expect(v1.headers['access-control-allow-origin']).toBe(V1_ORIGIN);
        expect(v1.headers['access-control-expose-headers']).toBe('X-V1');
      });
    });

    it('gives the CORS guard to the handlers a preflight cannot tell apart, and only to them', async () => {
      const canActivate = jest.spyOn(CorsGuard.prototype, 'canActivate');
      try {
        await withVersionedApp(async (app) => {
          await request(app.getHttpServer()).get('/orders/status').set('Origin', V1_ORIGIN);
          await request(app.getHttpServer()).post('/orders').set('Origin', V2_ORIGIN).set(carry('2'));
          expect(canActivate).not.toHaveBeenCalled();
          await request(app.getHttpServer()).get('/orders').set('Origin', V2_ORIGIN).set(carry('2'));
          expect(canActivate).toHaveBeenCalledTimes(1);
        });
      } finally {
        canActivate.mockRestore();
      }
    });

    describe('a request that falls through to the handler without a version', () => {
      const pay = (app: INestApplication, origin: string, headers: Record<string, string> = {}) =>
        request(app.getHttpServer())
          .post('/payments')
          .set('Origin', origin)
          .set('Content-Type', 'text/plain')
          .set(headers)
          .send('amount=1');
      beforeEach(() => {
        handled.length = 0;
      });

      it('is refused before any handler runs when none of the handlers it may reach allows its origin', async () => {
        await withVersionedApp(async (app) => {
          const res = await pay(app, 'https://evil.example');
          expect(res.status).toBe(403);
          expect(corsHeaderNames(res)).toEqual([]);
          expect(handled).toEqual([]);
        });
      });

      it("is refused by the unversioned handler's own policy when only a versioned handler allows the origin", async () => {
        await withVersionedApp(async (app) => {
          const res = await pay(app, V1_ORIGIN);
          expect(res.status).toBe(403);
          expect(corsHeaderNames(res)).toEqual([]);
          expect(handled).toEqual([]);
          const v1 = await pay(app, V1_ORIGIN, carry('1'));
          expect(v1.status).toBe(201);
          expect(v1.headers['access-control-allow-origin']).toBe(V1_ORIGIN);
          expect(handled).toEqual(['payments.v1.pay']);
        });
      });

      it("carries the headers of the unversioned handler's policy, not a versioned handler's", async () => {
        await withVersionedApp(async (app) => {
          const res = await request(app.getHttpServer()).get('/payments').set('Origin', V1_ORIGIN);
          expect(res.status).toBe(200);
          expect(res.text).toBe('unversioned');
          expect(corsHeaderNames(res)).toEqual([]);
          expect(res.headers.vary).toContain('Origin');
        });
      });

      it('is refused before the body parser reads its body when every handler it may reach refuses it', async () => {
        await withVersionedApp(async (app) => {
          const res = await request(app.getHttpServer())
            .post('/payments')
            .set('Origin', 'https://evil.example')
            .set('Content-Type', 'application/json')
            .set(carry('1'))
            .send('{"broken":');
          expect(res.status).toBe(403);
          expect(handled).toEqual([]);
        });
      });
    });

    it("enforces the policy of the handler that would run, not the preflight's union", async () => {
      await withVersionedApp(async (app) => {
        handled.length = 0;
        expect(
          (await request(app.getHttpServer()).post('/orders').set('Origin', V2_ORIGIN).set(carry('2'))).status,
        ).toBe(201);
        expect(handled).toEqual(['create-v2']);
      });
      // Version 2's policy allows V2_ORIGIN, so the front door lets a GET /ledger from it in; version 1's handler is
      // the one that would run, and its guard refuses the request before the handler does.
      const canActivate = jest.spyOn(CorsGuard.prototype, 'canActivate');
      try {
        await withApp(
          await startApp(adapter, [EnforcedVersionsModule], { configure: (a) => a.enableVersioning(options) }),
          async (app) => {
            handled.length = 0;
            const refused = await request(app.getHttpServer()).get('/ledger').set('Origin', V2_ORIGIN).set(carry('1'));
            expect(refused.status).toBe(403);
            expect(corsHeaderNames(refused)).toEqual([]);
            expect(handled).toEqual([]);
            expect(canActivate).toHaveBeenCalledTimes(1);

            const allowed = await request(app.getHttpServer()).get('/ledger').set('Origin', V2_ORIGIN).set(carry('2'));
            expect(allowed.status).toBe(200);
            expect(allowed.text).toBe('ledger v2');
            expect(allowed.headers['access-control-allow-origin']).toBe(V2_ORIGIN);
            expect(handled).toEqual(['ledger.v2']);
          },
        );
      } finally {
        canActivate.mockRestore();
      }
    });

    describe('a version fall-through to a handler of another path', () => {
      const withFallThroughApp = async (test: (app: INestApplication) => Promise<void>) =>
        withApp(await startApp(adapter, [FallThroughModule], { configure: (a) => a.enableVersioning(options) }), test);
      const special = (app: INestApplication, origin: string) =>
        request(app.getHttpServer()).get('/catalog/special').set('Origin', origin).set(carry('1'));
      let canActivate: jest.Spied<CorsGuard['canActivate']>;
      beforeEach(() => {
        handled.length = 0;
        canActivate = jest.spyOn(CorsGuard.prototype, 'canActivate');
      });
      afterEach(() => canActivate.mockRestore());
      /** For each call of the guard, `typeof` its answer's `then`: 'function' where it answered with a promise, having asked the handler's origin function. */
      const guardAwaited = () =>
        canActivate.mock.results.map(({ value }) => typeof (value as Partial<Promise<boolean>> | undefined)?.then);

      it('is refused by the policy of the handler that would run where the route it passed on has one policy', async () => {
        await withFallThroughApp(async (app) => {
          const res = await request(app.getHttpServer())
            .get('/shelf/special')
            .set('Origin', SHELF_ORIGIN)
            .set(carry('1'));
          expect(res.status).toBe(403);
          expect(res.headers['access-control-allow-origin']).toBeUndefined();
          expect(handled).toEqual([]);
        });
      });

      it('is decided by the policy of a handler without a version that it falls through to, not by the route it passed', async () => {
        await withFallThroughApp(async (app) => {
          // No handler of /shelf/special or /shelf/:id takes version 5: the request goes on to /shelf/*rest, whose
          // policy allows no origin, though /shelf/special's allows this one.
          const refused = await request(app.getHttpServer())
            .get('/shelf/special')
            .set('Origin', SHELF_ORIGIN)
            .set(carry('5'));
          expect(refused.status).toBe(403);
          expect(corsHeaderNames(refused)).toEqual([]);
          expect(handled).toEqual([]);
          // Its own path, same-origin: the handler runs.
          const own = await request(app.getHttpServer()).get('/shelf/special').set(carry('5'));
          expect([own.status, own.text]).toEqual([200, 'rest']);
          expect(handled).toEqual(['shelf.rest']);
        });
      });

      it('gets the CORS headers of the handler that ran, from its own asynchronous origin function', async () => {
        await withFallThroughApp(async (app) => {
          const res = await special(app, V1_ORIGIN);
          expect(res.status).toBe(200);
          expect(res.text).toBe('item v1');
          expect(handled).toEqual(['catalog.item.v1']);
          expect(res.headers['access-control-allow-origin']).toBe(V1_ORIGIN);
          // Version 3's policy, which let the request in, exposes nothing.
          expect(res.headers['access-control-expose-headers']).toBe(ITEM_HEADER);
          // Answered at once: the handler is a candidate of the route the request passed, whose front door asked its
          // origin function already.
          expect(guardAwaited()).toEqual(['undefined']);
        });
      });

      it('is refused by the asynchronous origin function of the handler that would run, though another handler it may reach allows it', async () => {
        await withFallThroughApp(async (app) => {
          const res = await special(app, V2_ORIGIN);
          expect(res.status).toBe(403);
          expect(corsHeaderNames(res)).toEqual([]);
          expect(handled).toEqual([]);
          expect(guardAwaited()).toEqual(['undefined']);
        });
      });

      it('reaches the handler it falls through to where only that handler allows it, though the route it passed refuses it', async () => {
        await withFallThroughApp(async (app) => {
          // /shelf/special allows only its own origin, with enforce 'all'; version 1 of /shelf/:id allows this one.
          const res = await request(app.getHttpServer()).get('/shelf/special').set('Origin', V1_ORIGIN).set(carry('1'));
          expect([res.status, res.text]).toEqual([200, 'item v1']);
          expect(res.headers['access-control-allow-origin']).toBe(V1_ORIGIN);
          expect(handled).toEqual(['shelf.item.v1']);
        });
      });
    });
  });
});
