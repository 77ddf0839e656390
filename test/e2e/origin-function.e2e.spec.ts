import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Headers, type INestApplication, Post } from '@nestjs/common';
import request, { type Response } from 'supertest';
import type { CorsModuleOptions } from '../../src/index.js';
import {
  ADAPTERS,
  appModule,
  CapturingLogger,
  corsHeaderNames,
  handled,
  recordHandled,
  startApp,
  withApp,
} from './app.fixture.js';

/** Allowed by tenant A's function, and by nobody at tenant B: the attacker is a customer of A targeting B's users. */
const ORIGIN = 'https://a.example';
const TENANT_A = 'tenant-a.test';
const TENANT_B = 'tenant-b.test';

@Controller('orders')
class OrdersController {
  @Post() create(@Headers('host') host: string) {
    return recordHandled(`orders.create for ${host}`, 'created');
  }
}

/**
 * A policy whose origin function looks the request's tenant up (by `Host`) and takes a while to answer, so that
 * concurrent requests overlap. `calls` records the host of each call.
 */
function tenantPolicy(options: CorsModuleOptions = {}): { calls: string[]; options: CorsModuleOptions } {
  const calls: string[] = [];
  const tenantsAllow = async (origin: string, req: IncomingMessage) => {
    calls.push(`${req.headers.host}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    return req.headers.host === TENANT_A && origin === ORIGIN;
  };
  return {
    calls,
    options: { origin: tenantsAllow, credentials: true, methods: ['GET', 'POST'], originCacheTtl: 60, ...options },
  };
}

/** A cross-origin form-like POST (no preflight) from `ORIGIN` to a tenant. */
function postTo(app: INestApplication, host: string) {
  return request(app.getHttpServer())
    .post('/orders')
    .set('Host', host)
    .set('Origin', ORIGIN)
    .set('Content-Type', 'text/plain')
    .send('order');
}

function expectAllowed(res: Response): void {
  expect(res.status).toBe(201);
  expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
  expect(res.headers['access-control-allow-credentials']).toBe('true');
}

function expectRefused(res: Response): void {
  expect(res.status).toBe(403);
  expect(corsHeaderNames(res)).toEqual([]);
}

describe.each(ADAPTERS)('origin functions that read the request on $name ($bootstrap)', (adapter) => {
  beforeEach(() => {
    handled.length = 0;
  });

  it("never lends tenant A's answer to a concurrent request for tenant B from the same origin", async () => {
    const { calls, options } = tenantPolicy();
    await withApp(await startApp(adapter, [appModule(options, [OrdersController])]), async (app) => {
      const [attacker, victim] = await Promise.all([postTo(app, TENANT_A), postTo(app, TENANT_B)]);
      expectAllowed(attacker);
      expectRefused(victim);
      expect(handled).toEqual([`orders.create for ${TENANT_A}`]);
      expect(calls.sort()).toEqual([TENANT_A, TENANT_B]);
    });
  });

  it("never hands tenant A's remembered answer (originCacheTtl) to a later request for tenant B", async () => {
    const { options } = tenantPolicy();
    await withApp(await startApp(adapter, [appModule(options, [OrdersController])]), async (app) => {
      expectAllowed(await postTo(app, TENANT_A));
      expectRefused(await postTo(app, TENANT_B));
      expect(handled).toEqual([`orders.create for ${TENANT_A}`]);
    });
  });

  it('with originCacheKey, shares calls in flight and remembered answers within a tenant, never across', async () => {
    const { calls, options } = tenantPolicy({ originCacheKey: (_origin, req) => req.headers.host ?? '' });
    await withApp(await startApp(adapter, [appModule(options, [OrdersController])]), async (app) => {
      const concurrent = await Promise.all([TENANT_A, TENANT_B, TENANT_A, TENANT_B].map((host) => postTo(app, host)));
      const later = [await postTo(app, TENANT_A), await postTo(app, TENANT_B)];
      for (const res of [concurrent[0], concurrent[2], later[0]]) expectAllowed(res);
      for (const res of [concurrent[1], concurrent[3], later[1]]) expectRefused(res);
      expect(calls.sort()).toEqual([TENANT_A, TENANT_B]);
      expect(handled).toEqual(Array(3).fill(`orders.create for ${TENANT_A}`));
    });
  });

  it('denies, and logs, when originCacheKey throws', async () => {
    const logger = new CapturingLogger();
    const { calls, options } = tenantPolicy({
      originCacheKey: () => {
        throw new Error('no tenant');
      },
    });
    await withApp(
      await startApp(adapter, [appModule(options, [OrdersController])], { appOptions: { logger } }),
      async (app) => {
        expectRefused(await postTo(app, TENANT_A));
        expect(calls).toEqual([]);
        expect(handled).toEqual([]);
        const errors = logger.lines.filter((line) => line.level === 'error' && line.context === 'Cors');
        expect(errors.map((line) => line.message)).toEqual([`origin function failed for "${ORIGIN}"; denied`]);
      },
    );
  });
});
