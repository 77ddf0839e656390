import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Controller, type DynamicModule, Get, type INestApplication, Module } from '@nestjs/common';
import { GraphQLModule, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import type { MercuriusDriverConfig } from '@nestjs/mercurius';
import request from 'supertest';
import { CorsModule, type CorsModuleOptions } from '../../src/index.js';
import { ADAPTERS, APP_ORIGIN, EVIL_ORIGIN, corsHeaderNames, startApp, withApp } from '../e2e/app.fixture.js';

// A real GraphQL endpoint, served by the GraphQL server of each adapter (Apollo Server 5 on Express, Mercurius on
// Fastify), not by a controller: `paths` gives it a policy of its own, which must govern its preflights, the headers
// of its responses and the refusal of cross-site mutations (CSRF).

// Mercurius requires @fastify/static (for its GraphiQL page) at load time, and @fastify/static ≥ 10.1.4 requires the
// ESM-only content-disposition 3, which Node 20.19+ can require() but Jest 29's module loader cannot. Mercurius
// registers it only when `graphiql` is on, and it is off here: a stand-in that fails loudly if it is ever registered.
jest.mock('@fastify/static', () => () => {
  throw new Error('@fastify/static is stubbed in this suite: turn graphiql off');
});
const { MercuriusDriver } = await import('@nestjs/mercurius');

declare module '../../src/cors-options.interface.js' {
  interface CorsPolicyNames {
    graphql: true;
  }
}

/** The origin of the GraphQL clients (an IDE, a partner's app); the global policy does not allow it. */
const GRAPHQL_ORIGIN = 'https://studio.example.net';

/** Global policy: APP_ORIGIN, no credentials, default headers and max-age; `graphql` differs in each of these. */
const CONFIG = {
  origin: [APP_ORIGIN],
  methods: ['GET', 'POST'],
  policies: {
    graphql: {
      origin: [GRAPHQL_ORIGIN],
      credentials: true,
      methods: ['GET', 'POST'],
      allowedHeaders: ['Authorization'],
      exposedHeaders: ['X-Request-Id'],
      maxAge: 300,
    },
  },
  paths: [{ path: '/graphql', policy: 'graphql' }],
} satisfies CorsModuleOptions;

/** How many times the mutation ran, so a test can prove it did not. */
let bumps = 0;

@Resolver()
class CounterResolver {
  @Query(() => String) hello(): string {
    return 'world';
  }
  @Mutation(() => Int) bump(): number {
    return ++bumps;
  }
}

/** A controller route, under the global policy. */
@Controller('health')
class HealthController {
  @Get() check() {
    return 'ok';
  }
}

/**
 * Each adapter with its GraphQL server, code-first (`autoSchemaFile: true`: the schema stays in memory), without a
 * landing page. `ownCsrfPrevention` is the server's own CSRF check (Apollo's `csrfPrevention`, on by default;
 * Mercurius's, off by default): off in most tests, so that nestjs-cors alone stands between a cross-site form and the
 * mutation, and a control request shows that the same request without `Origin` does run it.
 */
const SERVERS = [
  {
    ...ADAPTERS[0],
    server: 'Apollo Server',
    graphql: (ownCsrfPrevention: boolean): DynamicModule =>
      GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        autoSchemaFile: true,
        graphiql: false,
        csrfPrevention: ownCsrfPrevention,
      }),
    /** The header the server's own CSRF check accepts as proof of a preflight. */
    preflightHeader: 'apollo-require-preflight',
  },
  {
    ...ADAPTERS[1],
    server: 'Mercurius',
    graphql: (ownCsrfPrevention: boolean): DynamicModule =>
      GraphQLModule.forRoot<MercuriusDriverConfig>({
        driver: MercuriusDriver,
        autoSchemaFile: true,
        graphiql: false,
        csrfPrevention: ownCsrfPrevention,
      }),
    preflightHeader: 'mercurius-require-preflight',
  },
] as const;
type ServerCase = (typeof SERVERS)[number];

/** What Apollo Server and Mercurius both answer, with 400, to a request their own CSRF check refuses. */
const SERVER_CSRF_REFUSAL = /This operation has been blocked as a potential Cross-Site Request Forgery \(CSRF\)/;

function graphqlApp(server: ServerCase, ownCsrfPrevention = false): Promise<INestApplication> {
  @Module({
    imports: [CorsModule.forRoot(CONFIG), server.graphql(ownCsrfPrevention)],
    controllers: [HealthController],
    providers: [CounterResolver],
  })
  class GraphqlAppModule {}
  return startApp(server, [GraphqlAppModule]);
}

const PREFLIGHT_VARY = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';
const MUTATION = 'mutation { bump }';

describe.each(SERVERS)('a GraphQL endpoint under a paths policy on $name ($server)', (server) => {
  let app: INestApplication;
  const http = () => request(app.getHttpServer());
  const preflight = (path: string, origin: string, method: string, headers?: string) => {
    const req = http().options(path).set('Origin', origin).set('Access-Control-Request-Method', method);
    return headers === undefined ? req : req.set('Access-Control-Request-Headers', headers);
  };
  const query = (origin: string | undefined, body: object) => {
    const req = http().post('/graphql').set('Content-Type', 'application/json');
    return (origin === undefined ? req : req.set('Origin', origin)).send(JSON.stringify(body));
  };

  beforeAll(async () => {
    app = await graphqlApp(server);
  });
  afterAll(() => app.close());
  beforeEach(() => {
    bumps = 0;
  });

  describe('preflight', () => {
    it("is accepted from the graphql policy's origin with every header of that policy", async () => {
      const res = await preflight('/graphql', GRAPHQL_ORIGIN, 'POST', 'content-type, authorization');
      expect(res.status).toBe(204);
      expect(res.text ?? '').toBe('');
      expect(res.headers['access-control-allow-origin']).toBe(GRAPHQL_ORIGIN);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-allow-methods']).toBe('GET, POST, HEAD');
      expect(res.headers['access-control-allow-headers']).toBe(
        'accept, accept-language, content-language, content-type, authorization',
      );
      expect(res.headers['access-control-max-age']).toBe('300');
      expect(res.headers['access-control-expose-headers']).toBeUndefined();
      expect(res.headers.vary).toBe(PREFLIGHT_VARY);
      expect(bumps).toBe(0);
    });

    it.each([
      ['the global policy allows', APP_ORIGIN],
      ['no policy allows', EVIL_ORIGIN],
    ])('is refused with 403 and no CORS headers from an origin %s', async (_case, origin) => {
      const res = await preflight('/graphql', origin, 'POST', 'content-type');
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.text).toBe('CORS preflight rejected: origin not allowed');
      expect(corsHeaderNames(res)).toEqual([]);
      expect(res.headers.vary).toBe(PREFLIGHT_VARY);
    });

    it("is refused for a header the graphql policy does not allow (the server's own preflight header)", async () => {
      const res = await preflight('/graphql', GRAPHQL_ORIGIN, 'POST', `content-type, ${server.preflightHeader}`);
      expect(res.status).toBe(403);
      expect(res.text).toBe('CORS preflight rejected: header not allowed');
      expect(corsHeaderNames(res)).toEqual([]);
    });

    it('stays with /graphql: a controller route and other paths keep the global policy', async () => {
      const refused = await preflight('/health', GRAPHQL_ORIGIN, 'GET');
      expect(refused.status).toBe(403);
      expect(corsHeaderNames(refused)).toEqual([]);
      const accepted = await preflight('/health', APP_ORIGIN, 'GET', 'content-type');
      expect(accepted.status).toBe(204);
      expect(accepted.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(accepted.headers['access-control-allow-credentials']).toBeUndefined();
      expect(accepted.headers['access-control-allow-headers']).toBe(
        'accept, accept-language, content-language, content-type',
      );
      expect(accepted.headers['access-control-max-age']).toBe('600');
      expect((await preflight('/graphql/elsewhere', APP_ORIGIN, 'POST')).status).toBe(204);
      expect((await preflight('/graphql/elsewhere', GRAPHQL_ORIGIN, 'POST')).status).toBe(403);
    });
  });

  describe('actual requests', () => {
    it("a JSON query from the graphql policy's origin gets its data and that policy's headers", async () => {
      const res = await query(GRAPHQL_ORIGIN, { query: '{ hello }' }).set('Authorization', 'Bearer t');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: { hello: 'world' } });
      expect(res.headers['access-control-allow-origin']).toBe(GRAPHQL_ORIGIN);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-expose-headers']).toBe('X-Request-Id');
      expect(res.headers['access-control-allow-methods']).toBeUndefined();
      expect(res.headers['access-control-max-age']).toBeUndefined();
      expect(res.headers.vary).toBe('Origin');
    });

    it('a JSON mutation from that origin runs once', async () => {
      const res = await query(GRAPHQL_ORIGIN, { query: MUTATION });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: { bump: 1 } });
      expect(res.headers['access-control-allow-origin']).toBe(GRAPHQL_ORIGIN);
      expect(bumps).toBe(1);
    });

    it('a GET query from the origin of the global policy is served without CORS headers (safe method, not allowed)', async () => {
      const res = await http().get('/graphql').query({ query: '{ hello }' }).set('Origin', APP_ORIGIN);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: { hello: 'world' } });
      expect(corsHeaderNames(res)).toEqual([]);
      expect(res.headers.vary).toBe('Origin');
    });

    it('a GraphQL error (unknown field, 400) still carries the CORS headers, so the browser can read it', async () => {
      const res = await query(GRAPHQL_ORIGIN, { query: '{ nope }' });
      expect(res.status).toBe(400);
      expect(res.body.errors[0].message).toMatch(/Cannot query field "nope" on type "Query"/);
      expect(res.headers['access-control-allow-origin']).toBe(GRAPHQL_ORIGIN);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(res.headers['access-control-expose-headers']).toBe('X-Request-Id');
      expect(res.headers.vary).toBe('Origin');
    });

    it('a body the parser refuses (malformed JSON, 400) still carries the CORS headers', async () => {
      const res = await http()
        .post('/graphql')
        .set('Origin', GRAPHQL_ORIGIN)
        .set('Content-Type', 'application/json')
        .send('{"query": ');
      expect(res.status).toBe(400);
      expect(res.headers['access-control-allow-origin']).toBe(GRAPHQL_ORIGIN);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
    });
  });

  describe('CSRF', () => {
    it.each([
      ['no policy allows', EVIL_ORIGIN],
      ['only the global policy allows', APP_ORIGIN],
    ])(
      'refuses a cross-site text/plain mutation from an origin %s with our 403, before the server',
      async (_case, origin) => {
        const res = await http()
          .post('/graphql')
          .set('Origin', origin)
          .set('Content-Type', 'text/plain')
          .send(JSON.stringify({ query: MUTATION }));
        expect(res.status).toBe(403);
        expect(res.body).toEqual({
          statusCode: 403,
          error: 'Forbidden',
          message: 'CORS request rejected: origin not allowed',
        });
        expect(corsHeaderNames(res)).toEqual([]);
        expect(res.headers.vary).toBe('Origin');
        expect(bumps).toBe(0);
      },
    );

    it('refuses a cross-site form POST of a mutation, which the server would otherwise run', async () => {
      const form = (origin?: string) => {
        const req = http().post('/graphql').type('form');
        return (origin === undefined ? req : req.set('Origin', origin)).send({ query: MUTATION });
      };
      const refused = await form(EVIL_ORIGIN);
      expect(refused.status).toBe(403);
      expect(refused.body.message).toBe('CORS request rejected: origin not allowed');
      expect(bumps).toBe(0);
      // The control: the same form without Origin (not a browser's cross-site request) reaches the server and runs.
      const served = await form();
      expect(served.status).toBe(200);
      expect(served.body).toEqual({ data: { bump: 1 } });
      expect(bumps).toBe(1);
    });

    it.each([
      ['without Origin', {}],
      ['same-origin per Sec-Fetch-Site', { Origin: EVIL_ORIGIN, 'Sec-Fetch-Site': 'same-origin' }],
      ['same-origin per Host', { Origin: 'https://api.example.com', Host: 'api.example.com' }],
    ])('serves a mutation %s, without CORS headers', async (_case, headers) => {
      const res = await http()
        .post('/graphql')
        .set(headers)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ query: MUTATION }));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: { bump: 1 } });
      expect(corsHeaderNames(res)).toEqual([]);
      expect(res.headers.vary).toBe('Origin');
      expect(bumps).toBe(1);
    });
  });
});

describe.each(SERVERS)("with the GraphQL server's own CSRF prevention on, on $name ($server)", (server) => {
  it('our 403 comes first for a disallowed origin; an allowed one reaches the server, whose 400 is readable', async () => {
    bumps = 0;
    await withApp(await graphqlApp(server, true), async (app) => {
      const textPlain = (origin: string) =>
        request(app.getHttpServer())
          .post('/graphql')
          .set('Origin', origin)
          .set('Content-Type', 'text/plain')
          .send(JSON.stringify({ query: MUTATION }));
      const refused = await textPlain(EVIL_ORIGIN);
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({
        statusCode: 403,
        error: 'Forbidden',
        message: 'CORS request rejected: origin not allowed',
      });
      expect(corsHeaderNames(refused)).toEqual([]);
      const theirs = await textPlain(GRAPHQL_ORIGIN);
      expect(theirs.status).toBe(400);
      expect(theirs.text).toMatch(SERVER_CSRF_REFUSAL);
      expect(theirs.headers['access-control-allow-origin']).toBe(GRAPHQL_ORIGIN);
      expect(theirs.headers['access-control-allow-credentials']).toBe('true');
      expect(bumps).toBe(0);
      const json = await request(app.getHttpServer())
        .post('/graphql')
        .set('Origin', GRAPHQL_ORIGIN)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ query: MUTATION }));
      expect(json.status).toBe(200);
      expect(json.body).toEqual({ data: { bump: 1 } });
      expect(json.headers['access-control-allow-origin']).toBe(GRAPHQL_ORIGIN);
    });
  });
});
