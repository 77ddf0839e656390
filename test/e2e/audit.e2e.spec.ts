import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Put } from '@nestjs/common';
import { Cors, CorsAudit, CorsModule } from '../../src/index.js';
import { ADAPTERS, APP_ORIGIN, PARTNER_ORIGIN, startApp, withApp } from './app.fixture.js';

@Controller('users')
class UsersController {
  @Get() list() {}
}

@Cors({ allowedHeaders: ['X-Partner-Key'] })
@Controller('partner')
class PartnerController {
  @Cors({ methods: ['GET', 'PUT'] }) @Put(':id') update() {}
}

@Module({
  imports: [
    CorsModule.forRoot({
      origin: [APP_ORIGIN],
      credentials: true,
      policies: { partner: { origin: [PARTNER_ORIGIN, 'https://*.partner.example.net'] } },
      paths: [{ path: '/graphql', policy: 'partner' }],
    }),
  ],
  controllers: [UsersController, PartnerController],
})
class AuditedModule {}

describe.each(ADAPTERS)('the audit on $name', (adapter) => {
  it("lists every route's effective policy and where each field came from", async () => {
    await withApp(await startApp(adapter, [AuditedModule], { configure: (app) => app.setGlobalPrefix('api') }), async (app) => {
      const routes = app.get(CorsAudit).routes();
      expect(routes.map(({ method, path, handler }) => `${method} ${path} ${handler}`)).toEqual([
        'GET /api/users UsersController.list',
        'PUT /api/partner/:id PartnerController.update',
        'ALL /graphql forRoot paths[0]',
        'ALL * (no route)',
      ]);
      const update = routes[1];
      expect(update).toMatchObject({
        origin: [APP_ORIGIN],
        credentials: true,
        methods: ['GET', 'PUT'],
        allowedHeaders: ['X-Partner-Key'],
        maxAge: 600,
        enforce: 'unsafe',
      });
      expect(update.from).toMatchObject({
        origin: 'forRoot',
        credentials: 'forRoot',
        methods: 'PartnerController.update',
        allowedHeaders: 'PartnerController',
        maxAge: 'default',
      });
      expect(routes[2].from.origin).toBe("policy 'partner'");
    });
  });

  it('answers the questions a security review asks, as a test would assert them', async () => {
    await withApp(await startApp(adapter, [AuditedModule]), async (app) => {
      const credentialedFromPatterns = app
        .get(CorsAudit)
        .routes()
        .filter((route) => route.credentials && route.origin.some((origin) => origin.includes('*')));
      expect(credentialedFromPatterns.map((route) => route.handler)).toEqual(['forRoot paths[0]']);
    });
  });

  it('prints a readable table', async () => {
    await withApp(await startApp(adapter, [AuditedModule]), async (app) => {
      const lines = app.get(CorsAudit).table().split('\n');
      expect(lines[0]).toMatch(/^method +path +handler +origin +credentials +methods +allowedHeaders +exposedHeaders +maxAge +enforce +reportOnly$/);
      expect(lines[2]).toMatch(/^PUT +\/partner\/:id +PartnerController\.update +https:\/\/app\.example\.com ← forRoot +true ← forRoot +GET, PUT ← PartnerController\.update +X-Partner-Key ← PartnerController +- +600 +unsafe +false$/);
      expect(lines).toHaveLength(5);
    });
  });
});
