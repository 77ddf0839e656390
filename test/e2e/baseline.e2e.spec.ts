import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Controller, Get, Module, Post, Put, type Type } from '@nestjs/common';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cors, CorsAudit, CorsModule, type CorsOptions, expectCorsBaseline } from '../../src/index.js';
import { ADAPTERS, APP_ORIGIN, EVIL_ORIGIN, PARTNER_ORIGIN, startApp, withApp } from './app.fixture.js';

const PARTNER_POLICY: CorsOptions = { origin: [PARTNER_ORIGIN], methods: ['GET', 'PUT'], enforce: 'all' };

/** The orders API, with the partner controller's policy and the extra controllers a change gives it. */
function ordersModule(partner: CorsOptions = PARTNER_POLICY, extra: Type[] = []): Type {
  @Controller('orders')
  class OrdersController {
    @Get() list() {}
    @Post() create() {}
  }
  @Cors(partner)
  @Controller('partner/orders')
  class PartnerOrdersController {
    @Get() list() {}
    @Put(':id') update() {}
  }
  @Module({
    imports: [CorsModule.forRoot({ origin: [APP_ORIGIN], methods: ['GET', 'POST'] })],
    controllers: [OrdersController, PartnerOrdersController, ...extra],
  })
  class OrdersModule {}
  return OrdersModule;
}

@Cors({ origin: [APP_ORIGIN, EVIL_ORIGIN] })
@Controller('export')
class ExportController {
  @Get() download() {}
}

@Controller('invoices')
class InvoicesController {
  @Get() list() {}
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nestjs-cors-baseline-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(ADAPTERS)('expectCorsBaseline on $name ($bootstrap)', (adapter) => {
  const file = () => join(dir, `${adapter.name}-${adapter.bootstrap.replace(' ', '-')}.jsonl`);
  const check = async (module: Type, options = {}) =>
    withApp(await startApp(adapter, [module]), async (app) =>
      expectCorsBaseline(app, file(), { ci: false, ...options }),
    );

  it('writes the baseline where there is none, as CorsAudit.baseline() gives it', async () => {
    await withApp(await startApp(adapter, [ordersModule()]), async (app) => {
      expectCorsBaseline(app, file(), { ci: false });
      expect(readFileSync(file(), 'utf8')).toBe(app.get(CorsAudit).baseline());
    });
    expect(
      readFileSync(file(), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        .map(({ method, path, handler }) => `${method} ${path} ${handler}`),
    ).toEqual([
      'ALL * (no route)',
      'GET /orders OrdersController.list',
      'POST /orders OrdersController.create',
      'GET /partner/orders PartnerOrdersController.list',
      'PUT /partner/orders/:id PartnerOrdersController.update',
    ]);
  });

  it('fails on every widening, listing each change', async () => {
    const widened = ordersModule(
      { origin: [PARTNER_ORIGIN, EVIL_ORIGIN], credentials: true, methods: ['GET', 'PUT', 'DELETE'], enforce: false },
      [ExportController],
    );
    const failure = await check(widened).then(
      () => undefined,
      (error: Error) => error.message,
    );
    for (const route of [
      'GET /partner/orders (PartnerOrdersController.list)',
      'PUT /partner/orders/:id (PartnerOrdersController.update)',
    ]) {
      expect(failure).toContain(`  ${route}  origin: + ${EVIL_ORIGIN}\n`);
      // writeOrigin follows origin there, so the new origin may write too.
      expect(failure).toContain(`  ${route}  writeOrigin: + ${EVIL_ORIGIN}\n`);
      expect(failure).toContain(`  ${route}  credentials: - false + true\n`);
      expect(failure).toContain(`  ${route}  methods: + DELETE\n`);
      expect(failure).toContain(`  ${route}  enforce: - all + false\n`);
    }
    expect(failure).toContain(
      `  GET /export (ExportController.download)  added, wider than ALL *: origin: + ${EVIL_ORIGIN}\n`,
    );
    expect(failure).toMatch(/^The CORS policy is wider than its baseline .*\.jsonl \(12\):\n/);
    expect(failure).toContain('update the baseline: UPDATE_CORS_BASELINE=1');
  });

  it('passes a narrowed policy and a new route on the global one, and lists them', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await check(ordersModule({ ...PARTNER_POLICY, methods: ['GET'] }, [InvoicesController]));
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toContain(
        '  PUT /partner/orders/:id (PartnerOrdersController.update)  methods: - PUT',
      );
      expect(warn.mock.calls[0][0]).toContain('  GET /invoices (InvoicesController.list)  added (no wider than ALL *)');
    } finally {
      warn.mockRestore();
    }
  });

  it('writes the file again with update (UPDATE_CORS_BASELINE=1), and refuses to write a missing one in CI', async () => {
    process.env.UPDATE_CORS_BASELINE = '1';
    try {
      await check(ordersModule(PARTNER_POLICY, [ExportController]));
    } finally {
      delete process.env.UPDATE_CORS_BASELINE;
    }
    expect(readFileSync(file(), 'utf8')).toContain('"handler":"ExportController.download"');
    await check(ordersModule(), { update: true });
    expect(readFileSync(file(), 'utf8')).not.toContain('ExportController');
    await expect(check(ordersModule(), { ci: true, update: false })).resolves.toBeUndefined();
    rmSync(file());
    await expect(check(ordersModule(), { ci: true })).rejects.toThrow(
      `No CORS baseline at ${file()}: write it with UPDATE_CORS_BASELINE=1 outside CI and commit it`,
    );
  });
});
