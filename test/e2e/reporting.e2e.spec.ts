import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Post, Put } from '@nestjs/common';
import request from 'supertest';
import { Cors, CorsModule, type CorsModuleOptions, type CorsRejection } from '../../src/index.js';
import { ADAPTERS, APP_ORIGIN, CapturingLogger, EVIL_ORIGIN, handled, startApp, withApp } from './app.fixture.js';

@Controller('orders')
class OrdersController {
  @Get() list() {
    return [];
  }
  @Post() create() {
    handled.push('orders.create');
    return 'created';
  }
  @Cors({ reportOnly: false }) @Put(':id') replace() {
    handled.push('orders.replace');
    return 'replaced';
  }
}

@Controller('plain')
class PlainController {
  @Get(':id') read() {
    return 'read';
  }
  @Post(':id') write() {
    return 'written';
  }
}

const reportingApp = (options: CorsModuleOptions) => {
  @Module({
    imports: [CorsModule.forRoot({ origin: [APP_ORIGIN], methods: ['GET', 'POST', 'PUT'], ...options })],
    controllers: [OrdersController],
  })
  class ReportingModule {}
  return ReportingModule;
};

/** Resolves once the hook has seen `count` rejections. */
function collect(count: number) {
  const seen: CorsRejection[] = [];
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const hook = (rejection: CorsRejection) => {
    seen.push(rejection);
    if (seen.length === count) done();
  };
  return { seen, all, hook };
}

describe.each(ADAPTERS)('report-only rollout on $name ($bootstrap)', (adapter) => {
  it('lets through what enforcement would refuse, and reports it at warn with origin, method, path and handler', async () => {
    const logger = new CapturingLogger();
    const { seen, all, hook } = collect(1);
    const app = await startApp(adapter, [reportingApp({ reportOnly: true, onRejection: hook })], {
      appOptions: { logger },
    });
    await withApp(app, async () => {
      handled.length = 0;
      const res = await request(app.getHttpServer())
        .post('/orders')
        .set('Origin', EVIL_ORIGIN)
        .set('Content-Type', 'text/plain')
        .send('x');
      expect(res.status).toBe(201);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(handled).toEqual(['orders.create']);
      expect(
        logger.lines.filter((line) => line.level === 'warn' && line.context === 'Cors').map((line) => line.message),
      ).toEqual([
        'CORS request would be rejected (reportOnly): origin not allowed ("https://evil.example" POST /orders, OrdersController.create)',
      ]);
      await all;
      expect(seen).toEqual([
        {
          kind: 'request',
          reason: 'origin not allowed',
          outcome: 'reported',
          origin: EVIL_ORIGIN,
          method: 'POST',
          path: '/orders',
          handler: 'OrdersController.create',
        },
      ]);
    });
  });

  it('is per policy: a route that turns it off still refuses', async () => {
    const app = await startApp(adapter, [reportingApp({ reportOnly: true })]);
    await withApp(app, async () => {
      handled.length = 0;
      const res = await request(app.getHttpServer()).put('/orders/7').set('Origin', EVIL_ORIGIN);
      expect(res.status).toBe(403);
      expect(handled).toEqual([]);
    });
  });
});

describe.each(ADAPTERS)('the onRejection hook on $name ($bootstrap)', (adapter) => {
  it('gets a structured event for every kind of rejection', async () => {
    const { seen, all, hook } = collect(4);
    const app = await startApp(adapter, [reportingApp({ onRejection: hook })]);
    await withApp(app, async () => {
      const server = app.getHttpServer();
      await request(server).options('/orders').set('Origin', EVIL_ORIGIN).set('Access-Control-Request-Method', 'POST');
      await request(server)
        .options('/orders')
        .set('Origin', APP_ORIGIN)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'x-secret');
      await request(server).get('/orders').set('Origin', EVIL_ORIGIN);
      await request(server).post('/orders').set('Origin', EVIL_ORIGIN);
      await request(server).get('/orders').set('Origin', APP_ORIGIN);
      await all;
      const base = { origin: EVIL_ORIGIN, path: '/orders' };
      expect(seen).toEqual([
        {
          ...base,
          kind: 'preflight',
          reason: 'origin not allowed',
          outcome: 'rejected',
          method: 'POST',
          handler: 'OrdersController.create',
        },
        {
          ...base,
          origin: APP_ORIGIN,
          kind: 'preflight',
          reason: 'header not allowed',
          outcome: 'rejected',
          method: 'POST',
          handler: 'OrdersController.create',
        },
        {
          ...base,
          kind: 'request',
          reason: 'origin not allowed',
          outcome: 'withheld',
          method: 'GET',
          handler: 'OrdersController.list',
        },
        {
          ...base,
          kind: 'request',
          reason: 'origin not allowed',
          outcome: 'refused',
          method: 'POST',
          handler: 'OrdersController.create',
        },
      ]);
    });
  });

  it('names the handler where every route has the global policy too', async () => {
    const { seen, all, hook } = collect(2);
    @Module({
      imports: [CorsModule.forRoot({ origin: [APP_ORIGIN], onRejection: hook })],
      controllers: [PlainController],
    })
    class GlobalOnlyModule {}
    await withApp(await startApp(adapter, [GlobalOnlyModule]), async (app) => {
      await request(app.getHttpServer())
        .options('/plain/7')
        .set('Origin', EVIL_ORIGIN)
        .set('Access-Control-Request-Method', 'GET');
      await request(app.getHttpServer()).post('/plain/7').set('Origin', EVIL_ORIGIN);
      await all;
      expect(seen.map(({ handler, outcome }) => ({ handler, outcome }))).toEqual([
        { handler: 'PlainController.read', outcome: 'rejected' },
        { handler: 'PlainController.write', outcome: 'refused' },
      ]);
    });
  });

  it('never breaks a response when it throws or rejects, and logs it', async () => {
    const logger = new CapturingLogger();
    let calls = 0;
    const app = await startApp(
      adapter,
      [
        reportingApp({
          onRejection: () => {
            calls++;
            if (calls === 1) throw new Error('metrics down');
            return Promise.reject(new Error('still down'));
          },
        }),
      ],
      { appOptions: { logger } },
    );
    await withApp(app, async () => {
      for (let i = 0; i < 2; i++) {
        const res = await request(app.getHttpServer()).get('/orders').set('Origin', EVIL_ORIGIN);
        expect(res.status).toBe(200);
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(calls).toBe(2);
      expect(logger.lines.filter((line) => line.level === 'error').map((line) => line.message)).toEqual([
        'onRejection failed; the response was not affected',
        'onRejection failed; the response was not affected',
      ]);
    });
  });

  it('never delays a response: the answer arrives while the hook is still busy', async () => {
    let release!: () => void;
    const busy = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    const app = await startApp(adapter, [reportingApp({ onRejection: () => ((started = true), busy) })]);
    await withApp(app, async () => {
      const res = await request(app.getHttpServer()).post('/orders').set('Origin', EVIL_ORIGIN);
      expect(res.status).toBe(403);
      await new Promise((resolve) => setImmediate(resolve));
      expect(started).toBe(true);
      release();
    });
  });
});
