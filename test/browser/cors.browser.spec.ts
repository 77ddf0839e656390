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
import type { Browser, Page } from 'playwright-core';
import { Cors, CorsModule } from '../../src/index.js';
import { ADAPTERS, handled, startApp } from '../e2e/app.fixture.js';
import {
  launchBrowser,
  type PageResult,
  type PageServer,
  pageFetch,
  pageXhr,
  type Received,
  recordRequests,
  sandboxedFetch,
  servePages,
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
      handled.push('items');
      return 'items';
    }
    @Post('items') create() {
      handled.push('create');
      return { created: true };
    }
    @Put('items/:id') replace() {
      handled.push('replace');
      return 'replaced';
    }
    @Delete('items/:id') remove() {
      handled.push('remove');
      return 'removed';
    }
    @Get('session') session(@Req() req: { headers: Record<string, string> }) {
      handled.push('session');
      return req.headers.cookie ?? 'no cookie';
    }
    @UseGuards(SessionGuard) @Get('private') private() {
      handled.push('private');
      return 'private';
    }
    @Post('transfer') transfer() {
      handled.push('transfer');
      return 'transferred';
    }
    @Cors({ exposedHeaders: ['X-Total-Count'] }) @Get('count') @Header('X-Total-Count', '3') @Header('X-Hidden', 'secret') count() {
      handled.push('count');
      return '3';
    }
    @Cors({ allowedHeaders: ['X-Trace'] }) @Get('traced') traced() {
      handled.push('traced');
      return 'traced';
    }
    @Cors({ methods: ['GET', 'DELETE'] }) @Delete('archive/:id') archive() {
      handled.push('archive');
      return 'archived';
    }
    @Cors({ credentials: false }) @Get('anonymous') anonymous() {
      handled.push('anonymous');
      return 'anonymous';
    }
    @Cors({ origin: ['null'], credentials: false }) @Get('sandboxed') sandboxed() {
      handled.push('sandboxed');
      return 'sandboxed';
    }
    @Cors({ origin: '*', credentials: false }) @Get('cached') @Header('Cache-Control', 'max-age=60') cached() {
      handled.push('cached');
      return 'cached';
    }
    @Cors(false) @Post('admin') admin() {
      handled.push('admin');
      return 'admin';
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

describe('in a real browser (Chromium from npm, web security on)', () => {
  let browser: Browser;
  let pages: PageServer;

  beforeAll(async () => {
    [browser, pages] = await Promise.all([launchBrowser(), servePages()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([browser?.close(), pages?.close()]);
  });

  describe.each(ADAPTERS)('against $name', (adapter) => {
    let app: INestApplication;
    let api: string;
    let allowedPage: Page;
    let otherPage: Page;
    const received: Received[] = [];
    /** What the API received for one path: preflights and actual requests. */
    const seen = (path: string) => received.filter((r) => r.path === path).map((r) => `${r.method}${r.requestMethod ? ` for ${r.requestMethod}` : ''}`);

    beforeAll(async () => {
      const pageOrigin = `http://localhost:${pages.port}`;
      app = await startApp(adapter, [apiModule(pageOrigin)], { configure: (a) => recordRequests(a, received) });
      await app.listen(0, '127.0.0.1');
      api = `http://localhost:${(app.getHttpServer().address() as { port: number }).port}`;
      const context = await browser.newContext();
      await context.addCookies([{ name: 'session', value: 'valid', domain: 'localhost', path: '/' }]);
      allowedPage = await context.newPage();
      await allowedPage.goto(`${pageOrigin}/`);
      otherPage = await context.newPage();
      await otherPage.goto(`http://127.0.0.1:${pages.port}/`);
    }, 30_000);
    afterAll(async () => {
      await allowedPage?.context().close();
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
      expect(isError(result) && result.error).toMatch(/TypeError/);
      expect(seen('/api/items')).toEqual(['GET']);
      expect(handled).toEqual(['items']);
    });

    it('credentialed fetch sends the cookie and can read the answer', async () => {
      const result = await pageFetch(allowedPage, `${api}/api/session`, { credentials: 'include' });
      expect(result).toMatchObject({ status: 200, body: 'session=valid' });
      expect(received.find((r) => r.path === '/api/session')?.cookie).toBe('session=valid');
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
      expect(isError(result) && result.error).toMatch(/TypeError/);
      expect(seen('/api/items')).toEqual(['OPTIONS for POST']);
      expect(handled).toEqual([]);
    });

    it('a method the policy does not allow stops at the preflight', async () => {
      const result = await pageFetch(allowedPage, `${api}/api/items/1`, { method: 'PUT' });
      expect(isError(result)).toBe(true);
      expect(seen('/api/items/1')).toEqual(['OPTIONS for PUT']);
      expect(handled).toEqual([]);
    });

    it('a header the policy does not allow stops at the preflight', async () => {
      const result = await pageFetch(allowedPage, `${api}/api/items`, { headers: { 'X-Secret': '1' } });
      expect(isError(result)).toBe(true);
      expect(seen('/api/items')).toEqual(['OPTIONS for GET']);
      expect(handled).toEqual([]);
    });

    it('a custom header is allowed on the route that allows it, and only there', async () => {
      const traced = await pageFetch(allowedPage, `${api}/api/traced`, { headers: { 'X-Trace': 'abc' } });
      expect(traced).toMatchObject({ status: 200, body: 'traced' });
      expect(seen('/api/traced')).toEqual(['OPTIONS for GET', 'GET']);
      const elsewhere = await pageFetch(allowedPage, `${api}/api/items`, { headers: { 'X-Trace': 'abc' } });
      expect(isError(elsewhere)).toBe(true);
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
      expect(isError(removed)).toBe(true);
      expect(handled).toEqual(['archive']);
    });

    it("a 401 from the app's own auth guard is readable by an allowed page", async () => {
      const result = await pageFetch(allowedPage, `${api}/api/private`);
      expect(result).toMatchObject({ status: 401 });
      expect(isError(result) ? '' : result.body).toContain('log in first');
      expect(handled).toEqual([]);
    });

    it('a cross-site form POST to a route that does not allow it is refused before the handler', async () => {
      const form = await browser.newPage();
      try {
        await form.goto(`http://127.0.0.1:${pages.port}/form?action=${encodeURIComponent(`${api}/api/transfer`)}`);
        const [response] = await Promise.all([form.waitForNavigation(), form.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit())]);
        expect(response?.status()).toBe(403);
        expect(received.filter((r) => r.path === '/api/transfer')).toEqual([
          expect.objectContaining({ method: 'POST', origin: `http://127.0.0.1:${pages.port}` }),
        ]);
        expect(handled).toEqual([]);
      } finally {
        await form.close();
      }
    });

    it('a sandboxed iframe (Origin: null) reads only the route that lists null', async () => {
      const listed = await sandboxedFetch(allowedPage, `${api}/api/sandboxed`);
      expect(listed).toMatchObject({ status: 200, body: 'sandboxed' });
      expect(received.find((r) => r.path === '/api/sandboxed')?.origin).toBe('null');
      const other = await sandboxedFetch(allowedPage, `${api}/api/items`);
      expect(isError(other)).toBe(true);
    });

    it('caches an accepted preflight for max-age: the second request sends none', async () => {
      const post = () =>
        pageFetch(allowedPage, `${api}/api/items?cache`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      expect(await post()).toMatchObject({ status: 201 });
      expect(await post()).toMatchObject({ status: 201 });
      expect(seen('/api/items')).toEqual(['OPTIONS for POST', 'POST', 'POST']);
    });
  });
});
