import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, Put } from '@nestjs/common';
import request from 'supertest';
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

@Controller({ path: 'tenant', host: ':tenant.example.com' })
class TenantController {
  @Get() get() {}
}

@Module({ imports: [CorsModule.forRoot({ origin: [APP_ORIGIN] })], controllers: [TenantController] })
class HostBoundModule {}

@Module({
  imports: [CorsModule.forRootAsync({ useFactory: () => ({ origin: [APP_ORIGIN], credentials: true }) })],
  controllers: [UsersController],
})
class AsyncModule {}

describe.each(ADAPTERS)('the audit on $name ($bootstrap)', (adapter) => {
  it("lists every route's effective policy and where each field came from", async () => {
    await withApp(
      await startApp(adapter, [AuditedModule], { configure: (app) => app.setGlobalPrefix('api') }),
      async (app) => {
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
      },
    );
  });

  it("names forRoot, or forRootAsync, as the source of the global policy's fields", async () => {
    await withApp(await startApp(adapter, [AuditedModule]), async (app) => {
      const routes = app.get(CorsAudit).routes();
      const users = routes.find((route) => route.handler === 'UsersController.list')!;
      const rest = routes.find((route) => route.handler === '(no route)')!;
      for (const route of [users, rest]) {
        expect(route.from).toEqual({
          origin: 'forRoot',
          writeOrigin: 'forRoot',
          credentials: 'forRoot',
          methods: 'default',
          allowedHeaders: 'default',
          exposedHeaders: 'default',
          maxAge: 'default',
          enforce: 'default',
          reportOnly: 'default',
          allowPrivateNetwork: 'default',
        });
      }
    });
    await withApp(await startApp(adapter, [AsyncModule]), async (app) => {
      const [users, rest] = app.get(CorsAudit).routes();
      expect([users.from.origin, users.from.credentials, users.from.methods]).toEqual([
        'forRootAsync',
        'forRootAsync',
        'default',
      ]);
      expect(rest.from.origin).toBe('forRootAsync');
    });
  });

  it('names the route a request reaches: controller route, HEAD as GET, paths entry, or the other paths', async () => {
    await withApp(
      await startApp(adapter, [AuditedModule], { configure: (app) => app.setGlobalPrefix('api') }),
      async (app) => {
        const audit = app.get(CorsAudit);
        const [list, update, graphql, rest] = audit.routes();
        expect(audit.routeFor('PUT', '/api/partner/7?draft=1')).toEqual(update);
        expect(audit.routeFor('GET', '/api/users')).toEqual(list);
        expect(audit.routeFor('HEAD', '/api/users')).toEqual(list);
        expect(audit.routeFor('POST', '/graphql')).toEqual(graphql);
        // No DELETE route at that path, and no route at all at the other: the global policy's entry.
        expect(audit.routeFor('DELETE', '/api/partner/7')).toEqual(rest);
        expect(audit.routeFor('GET', '/api/elsewhere')).toEqual(rest);
        expect(rest).toMatchObject({ method: 'ALL', path: '*', handler: '(no route)' });
      },
    );
  });

  it("matches paths by the adapter's rules, as the front door does when it answers a preflight", async () => {
    await withApp(
      await startApp(adapter, [AuditedModule], { configure: (app) => app.setGlobalPrefix('api') }),
      async (app) => {
        const audit = app.get(CorsAudit);
        const spellings = ['/api/partner/7', '/API/PARTNER/7', '/api/partner/7/'];
        // Express ignores case and a trailing slash by default; Fastify does neither.
        const served = adapter.name === 'express' ? spellings : ['/api/partner/7'];
        for (const path of spellings) {
          const preflight = await request(app.getHttpServer())
            .options(path)
            .set('Origin', APP_ORIGIN)
            .set('Access-Control-Request-Method', 'PUT')
            .set('Access-Control-Request-Headers', 'x-partner-key');
          // PartnerController.update allows PUT with X-Partner-Key; the global policy allows neither.
          const expected = served.includes(path) ? ['PartnerController.update', 204] : ['(no route)', 403];
          expect([path, audit.routeFor('PUT', path).handler, preflight.status]).toEqual([path, ...expected]);
        }
      },
    );
  });

  it('tells host-bound controllers apart by the host, ignoring its port', async () => {
    await withApp(await startApp(adapter, [HostBoundModule]), async (app) => {
      const audit = app.get(CorsAudit);
      expect(audit.routeFor('GET', '/tenant', 'acme.example.com:8080')).toMatchObject({
        handler: 'TenantController.get',
        hosts: [':tenant.example.com'],
      });
      expect(audit.routeFor('GET', '/tenant', 'elsewhere.test').handler).toBe('(no route)');
      expect(audit.routeFor('GET', '/tenant').handler).toBe('(no route)');
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
      expect(lines[0]).toMatch(
        /^method +path +handler +origin +writeOrigin +credentials +methods +allowedHeaders +exposedHeaders +maxAge +enforce +reportOnly +allowPrivateNetwork$/,
      );
      expect(lines[2]).toMatch(
        /^PUT +\/partner\/:id +PartnerController\.update +https:\/\/app\.example\.com ← forRoot +https:\/\/app\.example\.com ← forRoot +true ← forRoot +GET, PUT ← PartnerController\.update +X-Partner-Key ← PartnerController +- +600 +unsafe +false +false$/,
      );
      expect(lines).toHaveLength(5);
    });
  });
});
