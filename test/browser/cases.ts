import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  type CanActivate,
  Controller,
  Delete,
  Get,
  Header,
  Injectable,
  type INestApplication,
  Module,
  Post,
  Put,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { Cors, CorsModule } from '../../src/index.js';
import { ADAPTERS, type AdapterCase, handled, recordHandled, startApp } from '../e2e/app.fixture.js';
import type { BrowserDriver, DriverContext, DriverPage } from './driver.js';
import {
  type PageResult,
  pageFetch,
  pagesAndBrowser,
  pageXhr,
  type Received,
  recordRequests,
  sandboxedFetch,
} from './harness.js';

@Injectable()
class SessionGuard implements CanActivate {
  canActivate(context: Parameters<CanActivate['canActivate']>[0]): boolean {
    const cookie = context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers.cookie ?? '';
    if (!cookie.includes('session=valid')) throw new UnauthorizedException('log in first');
    return true;
  }
}

/** The API under test; its policies name the page origin, known only once the page server listens. */
function apiModule(pageOrigin: string) {
  @Controller('api')
  class ApiController {
    @Get('items') @Header('X-Request-Id', 'req-1') @Header('X-Hidden', 'secret') items() {
      return recordHandled('items', 'items');
    }
    @Post('items') create() {
      return recordHandled('create', { created: true });
    }
    @Put('items/:id') replace() {
      return recordHandled('replace', 'replaced');
    }
    @Delete('items/:id') remove() {
      return recordHandled('remove', 'removed');
    }
    @Get('session') session(@Req() req: { headers: Record<string, string> }) {
      return recordHandled('session', req.headers.cookie ?? 'no cookie');
    }
    @UseGuards(SessionGuard) @Get('private') private() {
      return recordHandled('private', 'private');
    }
    @Post('transfer') transfer() {
      return recordHandled('transfer', 'transferred');
    }
    @Cors({ exposedHeaders: ['X-Total-Count'] })
    @Get('count')
    @Header('X-Total-Count', '3')
    @Header('X-Hidden', 'secret')
    count() {
      return recordHandled('count', '3');
    }
    @Cors({ allowedHeaders: ['X-Trace'] }) @Get('traced') traced() {
      return recordHandled('traced', 'traced');
    }
    @Cors({ methods: ['GET', 'DELETE'] }) @Delete('archive/:id') archive() {
      return recordHandled('archive', 'archived');
    }
    @Cors({ credentials: false }) @Get('anonymous') anonymous() {
      return recordHandled('anonymous', 'anonymous');
    }
    @Cors({ origin: ['null'], credentials: false }) @Get('sandboxed') sandboxed() {
      return recordHandled('sandboxed', 'sandboxed');
    }
    @Cors({ origin: '*', credentials: false, methods: ['GET'] })
    @Get('cached')
    @Header('Cache-Control', 'max-age=60')
    cached() {
      return recordHandled('cached', 'cached');
    }
    @Cors(false) @Post('admin') admin() {
      return recordHandled('admin', 'admin');
    }
    /** The global policy's `maxAge: 600`: `Access-Control-Max-Age: 600`. */
    @Post('preflight/max-age') preflightCached() {
      return 'cached preflight';
    }
    /** `Access-Control-Max-Age: 0`: the browser may not reuse the preflight at all. */
    @Cors({ maxAge: 0 }) @Post('preflight/none') preflightUncached() {
      return 'uncached preflight';
    }
  }

  @Module({
    imports: [
      CorsModule.forRoot({
        origin: [pageOrigin],
        credentials: true,
        methods: ['GET', 'POST'],
        exposedHeaders: ['X-Request-Id'],
        maxAge: 600,
      }),
    ],
    controllers: [ApiController],
  })
  class BrowserApiModule {}
  return BrowserApiModule;
}

const isError = (result: PageResult): result is { error: string } => 'error' in result;

/** Starts the API on `adapter`, recording what its HTTP server receives into `received`; its origin is `http://localhost:<port>`. */
async function startApi(
  adapter: AdapterCase,
  pageOrigin: string,
  received: Received[],
): Promise<{ app: INestApplication; api: string }> {
  const app = await startApp(adapter, [apiModule(pageOrigin)]);
  recordRequests(app, received);
  await app.listen(0, '127.0.0.1');
  return { app, api: `http://localhost:${(app.getHttpServer().address() as { port: number }).port}` };
}

/** What the API received for one path, from `received`: preflights and actual requests. */
const seenIn = (received: Received[], path: string) =>
  received.filter((r) => r.path === path).map((r) => `${r.method}${r.requestMethod ? ` for ${r.requestMethod}` : ''}`);

/** How long a preflight answered without `Access-Control-Max-Age` is cached: Fetch's default, as Chromium and Firefox do. */
const DEFAULT_PREFLIGHT_CACHE_MS = 5_000;

/**
 * The real-browser CORS cases, run in the browser `driver` launches against every adapter: the page is served from
 * another origin than the API, web security is on, and the network is never intercepted, so what the page sees is
 * what the browser decided from the API's real answers. Where engines differ, each engine's own behaviour is asserted.
 */
export function describeCorsCases(driver: BrowserDriver): void {
  describe(`in a real browser (${driver.name}, web security on)`, () => {
    const { browser, pages } = pagesAndBrowser(() => driver.launch());
    /** The page origin the API's policies allow, and the same page server under 127.0.0.1: another origin, and another site. */
    const pageOrigin = () => `http://localhost:${pages().port}`;
    const otherOrigin = () => `http://127.0.0.1:${pages().port}`;

    describe.each(ADAPTERS)('against $name ($bootstrap)', (adapter) => {
      let app: INestApplication;
      let api: string;
      let context: DriverContext;
      let allowedPage: DriverPage;
      let otherPage: DriverPage;
      const received: Received[] = [];
      const seen = (path: string) => seenIn(received, path);

      beforeAll(async () => {
        ({ app, api } = await startApi(adapter, pageOrigin(), received));
        context = await browser().newContext([{ name: 'session', value: 'valid', domain: 'localhost', path: '/' }]);
        allowedPage = await context.newPage(`${pageOrigin()}/`);
        otherPage = await context.newPage(`${otherOrigin()}/`);
      }, 30_000);
      afterAll(async () => {
        await context?.close();
        await app?.close();
      });
      beforeEach(() => {
        received.length = 0;
        handled.length = 0;
      });

      it('simple GET from an allowed page: readable, no preflight', async () => {
        const result = await pageFetch(allowedPage, `${api}/api/items`);
        expect(result).toMatchObject({ status: 200, body: 'items' });
        expect(seen('/api/items')).toEqual(['GET']);
      });

      it("origin '*': a response cached from a request without Origin still serves a later CORS fetch", async () => {
        const url = `${api}/api/cached`;
        await allowedPage.evaluate((url) => fetch(url, { mode: 'no-cors' }).then(() => undefined), url);
        const result = await pageFetch(allowedPage, url);
        expect(result).toMatchObject({ status: 200, body: 'cached' });
        expect(received.filter((r) => r.path === '/api/cached').map((r) => r.origin)).toEqual([undefined]);
      });

      it('simple GET from another origin: the page gets a TypeError, though the server answered', async () => {
        const result = await pageFetch(otherPage, `${api}/api/items`);
        expect(isError(result) && result.error).toMatch(driver.fetchError);
        expect(seen('/api/items')).toEqual(['GET']);
        expect(handled).toEqual(['items']);
      });

      it('credentialed fetch sends the cookie and can read the answer', async () => {
        const result = await pageFetch(allowedPage, `${api}/api/session`, { credentials: 'include' });
        expect(result).toMatchObject({ status: 200, body: 'session=valid' });
        expect(received.find((r) => r.path === '/api/session')?.cookie).toBe('session=valid');
      });

      it('a credentialed fetch from another site is refused, and carries no session cookie', async () => {
        // Both engines keep the localhost cookie off a request from a page on 127.0.0.1 (another site), for different
        // reasons. Chromium: the cookie has no SameSite attribute, which it treats as Lax. Firefox has no Lax by default
        // (and would refuse SameSite=None without Secure, which http://localhost cannot have), but Total Cookie
        // Protection (ETP standard, network.cookie.cookieBehavior 5) keeps an unpartitioned cookie off requests made
        // under another top-level site: with cookieBehavior 0 Firefox sends it.
        const result = await pageFetch(otherPage, `${api}/api/session`, { credentials: 'include' });
        expect(isError(result) && result.error).toMatch(driver.fetchError);
        expect(received.filter((r) => r.path === '/api/session')).toEqual([
          expect.objectContaining({ method: 'GET', origin: otherOrigin(), cookie: undefined }),
        ]);
      });

      it('credentialed XHR is refused where the policy has no credentials', async () => {
        const result = await pageXhr(allowedPage, 'GET', `${api}/api/anonymous`, true);
        expect(isError(result)).toBe(true);
        expect(seen('/api/anonymous')).toEqual(['GET']);
        const anonymous = await pageXhr(allowedPage, 'GET', `${api}/api/anonymous`, false);
        expect(anonymous).toMatchObject({ status: 200, body: 'anonymous' });
      });

      it('JSON POST is preflighted, then sent and readable', async () => {
        const result = await pageFetch(allowedPage, `${api}/api/items`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{"name":"x"}',
        });
        expect(result).toMatchObject({ status: 201, body: '{"created":true}' });
        expect(seen('/api/items')).toEqual(['OPTIONS for POST', 'POST']);
        expect(received[0].requestHeaders).toBe('content-type');
        expect(handled).toEqual(['create']);
      });

      it('JSON POST from a disallowed origin stops at the preflight: the POST is never sent', async () => {
        const result = await pageFetch(otherPage, `${api}/api/items`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
        });
        expect(isError(result) && result.error).toMatch(driver.fetchError);
        expect(seen('/api/items')).toEqual(['OPTIONS for POST']);
        expect(handled).toEqual([]);
      });

      it('a method the policy does not allow stops at the preflight', async () => {
        const result = await pageFetch(allowedPage, `${api}/api/items/1`, { method: 'PUT' });
        expect(isError(result) && result.error).toMatch(driver.fetchError);
        expect(seen('/api/items/1')).toEqual(['OPTIONS for PUT']);
        expect(handled).toEqual([]);
      });

      it('a header the policy does not allow stops at the preflight', async () => {
        const result = await pageFetch(allowedPage, `${api}/api/items`, { headers: { 'X-Secret': '1' } });
        expect(isError(result) && result.error).toMatch(driver.fetchError);
        expect(seen('/api/items')).toEqual(['OPTIONS for GET']);
        expect(handled).toEqual([]);
      });

      it('a custom header is allowed on the route that allows it, and only there', async () => {
        const traced = await pageFetch(allowedPage, `${api}/api/traced`, { headers: { 'X-Trace': 'abc' } });
        expect(traced).toMatchObject({ status: 200, body: 'traced' });
        expect(seen('/api/traced')).toEqual(['OPTIONS for GET', 'GET']);
        const elsewhere = await pageFetch(allowedPage, `${api}/api/items`, { headers: { 'X-Trace': 'abc' } });
        expect(isError(elsewhere) && elsewhere.error).toMatch(driver.fetchError);
      });

      it('a response header is readable only when exposed', async () => {
        const count = await pageFetch(allowedPage, `${api}/api/count`);
        expect(isError(count) ? undefined : count.headers['x-total-count']).toBe('3');
        expect(isError(count) ? 'error' : count.headers['x-hidden']).toBeUndefined();
        const items = await pageXhr(allowedPage, 'GET', `${api}/api/items`);
        expect(isError(items) ? undefined : items.headers['x-request-id']).toBe('req-1');
        expect(isError(items) ? 'error' : items.headers['x-total-count']).toBeUndefined();
      });

      it('DELETE works on the route that allows it and is refused elsewhere', async () => {
        const archived = await pageFetch(allowedPage, `${api}/api/archive/1`, { method: 'DELETE' });
        expect(archived).toMatchObject({ status: 200, body: 'archived' });
        expect(seen('/api/archive/1')).toEqual(['OPTIONS for DELETE', 'DELETE']);
        const removed = await pageFetch(allowedPage, `${api}/api/items/1`, { method: 'DELETE' });
        expect(isError(removed) && removed.error).toMatch(driver.fetchError);
        expect(handled).toEqual(['archive']);
      });

      it("a 401 from the app's own auth guard is readable by an allowed page", async () => {
        const result = await pageFetch(allowedPage, `${api}/api/private`);
        expect(result).toMatchObject({ status: 401 });
        expect(isError(result) ? '' : result.body).toContain('log in first');
        expect(handled).toEqual([]);
      });

      it('a cross-site form POST to a route that does not allow it is refused before the handler', async () => {
        const formContext = await browser().newContext();
        try {
          const form = await formContext.newPage(
            `${otherOrigin()}/form?action=${encodeURIComponent(`${api}/api/transfer`)}`,
          );
          const status = await form.navigateBy(() => (document.getElementById('f') as HTMLFormElement).submit());
          expect(status).toBe(403);
          expect(received.filter((r) => r.path === '/api/transfer')).toEqual([
            expect.objectContaining({ method: 'POST', origin: otherOrigin() }),
          ]);
          expect(handled).toEqual([]);
        } finally {
          await formContext.close();
        }
      });

      it('a sandboxed iframe (Origin: null) reads only the route that lists null', async () => {
        const listed = await sandboxedFetch(allowedPage, `${api}/api/sandboxed`);
        expect(listed).toMatchObject({ status: 200, body: 'sandboxed' });
        expect(received.find((r) => r.path === '/api/sandboxed')?.origin).toBe('null');
        const other = await sandboxedFetch(allowedPage, `${api}/api/items`);
        expect(isError(other) && other.error).toMatch(driver.fetchError);
      });
    });

    /**
     * `Access-Control-Max-Age` against the browser's own default: without the header both engines cache a preflight
     * for 5 s, so a second request within 5 s proves nothing about max-age (the case used to pass against a server
     * sending no max-age at all). So the `maxAge: 600` route is asked again only after waiting past the default, and the
     * `maxAge: 0` route is the control: asked again within the default, it is preflighted again, which it would not
     * be were its `Access-Control-Max-Age: 0` missing. Both adapters are primed first, then checked after one wait, so
     * the wait is paid once per engine. (The engines cap max-age differently, Chromium at 2 h and Firefox at 24 h: not
     * tested here.)
     */
    describe('the preflight cache: max-age, not the browser default, decides', () => {
      const apis = ADAPTERS.map((adapter) => ({
        adapter,
        received: [] as Received[],
        app: undefined as INestApplication | undefined,
        api: '',
        /** The answers to the first request on each route, and when the `maxAge: 0` one was sent. */
        primed: [] as PageResult[],
        uncachedSentAt: 0,
      }));
      let context: DriverContext;
      let page: DriverPage;
      /** When every first request had its answer: the `maxAge: 600` preflights were all cached by then. */
      let cachedBy = 0;
      const post = (api: string, path: string) =>
        pageFetch(page, `${api}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
        });

      beforeAll(async () => {
        for (const entry of apis)
          ({ app: entry.app, api: entry.api } = await startApi(entry.adapter, pageOrigin(), entry.received));
        context = await browser().newContext();
        page = await context.newPage(`${pageOrigin()}/`);
        for (const entry of apis) {
          entry.primed.push(await post(entry.api, '/api/preflight/max-age'));
          entry.uncachedSentAt = Date.now();
          entry.primed.push(await post(entry.api, '/api/preflight/none'));
        }
        cachedBy = Date.now();
      }, 30_000);
      afterAll(async () => {
        await context?.close();
        await Promise.all(apis.map(({ app }) => app?.close()));
      });

      it.each(apis)(
        '$adapter.name: maxAge 0 is preflighted again at once',
        async ({ api, received, primed, uncachedSentAt }) => {
          expect(primed).toEqual([
            expect.objectContaining({ status: 201, body: 'cached preflight' }),
            expect.objectContaining({ status: 201, body: 'uncached preflight' }),
          ]);
          expect(await post(api, '/api/preflight/none')).toMatchObject({ status: 201, body: 'uncached preflight' });
          // Still within the default: a preflight cached for it would have been reused.
          expect(Date.now() - uncachedSentAt).toBeLessThan(DEFAULT_PREFLIGHT_CACHE_MS);
          expect(seenIn(received, '/api/preflight/none')).toEqual([
            'OPTIONS for POST',
            'POST',
            'OPTIONS for POST',
            'POST',
          ]);
        },
      );

      it.each(apis)(
        '$adapter.name: caches an accepted preflight for max-age: the second request, past the default, sends none',
        async ({ api, received }) => {
          await new Promise((resolve) =>
            setTimeout(resolve, cachedBy + DEFAULT_PREFLIGHT_CACHE_MS + 1_000 - Date.now()),
          );
          expect(await post(api, '/api/preflight/max-age')).toMatchObject({ status: 201, body: 'cached preflight' });
          expect(seenIn(received, '/api/preflight/max-age')).toEqual(['OPTIONS for POST', 'POST', 'POST']);
        },
        15_000,
      );
    });
  });
}
