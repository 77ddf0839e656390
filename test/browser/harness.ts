import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from '@jest/globals';
import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { CorsModule } from '../../src/index.js';
import { type AdapterCase, startApp } from '../e2e/app.fixture.js';

export interface PageServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves the test pages from their own origin: `/` is an empty page the tests script, `/form` posts a form to the
 * `action` query parameter, `/sandbox` frames a sandboxed iframe whose origin is `null`.
 */
export async function servePages(): Promise<PageServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://pages');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    if (url.pathname === '/form') {
      const action = url.searchParams.get('action') ?? '';
      res.end(
        `<!doctype html><form id="f" method="POST" enctype="text/plain" action="${encodeURI(action)}">` +
          `<input name="amount" value="1000"></form>`,
      );
    } else {
      res.end('<!doctype html><title>page</title><body></body>');
    }
  });
  return listen(server);
}

/**
 * Registers the hooks of a suite that opens the test pages in one browser: before all, the page server, then the
 * browser `launch` opens (told the page server, for the specs that name its address in the browser's settings); after
 * all, both closed. Read the two through the returned functions, from the suite's hooks and tests.
 */
export function pagesAndBrowser<B extends { close(): Promise<void> }>(
  launch: (pages: PageServer) => Promise<B>,
): { pages: () => PageServer; browser: () => B } {
  let pages: PageServer;
  let browser: B;
  beforeAll(async () => {
    pages = await servePages();
    browser = await launch(pages);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([browser?.close(), pages?.close()]);
  });
  return { pages: () => pages, browser: () => browser };
}

async function listen(server: Server): Promise<PageServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** What the API received, recorded by the HTTP server before the app (and nestjs-cors in it) sees the request. */
export interface Received {
  method: string;
  path: string;
  origin?: string;
  requestMethod?: string;
  requestHeaders?: string;
  cookie?: string;
  privateNetwork?: string;
}

/**
 * Records every request the app's HTTP server receives, ahead of the app itself and of nestjs-cors's front door, which
 * is first among the server's listeners once the app is initialised: call it then.
 */
export function recordRequests(app: INestApplication, into: Received[]): void {
  app.getHttpServer().prependListener('request', (req: IncomingMessage) => {
    const header = (name: string) => req.headers[name] as string | undefined;
    into.push({
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0],
      origin: header('origin'),
      requestMethod: header('access-control-request-method'),
      requestHeaders: header('access-control-request-headers'),
      cookie: header('cookie'),
      privateNetwork: header('access-control-request-private-network'),
    });
  });
}

/**
 * A page a test can run a script in, whichever library drives the browser: playwright-core's `Page` is one, and the
 * drivers (`driver.ts`) give every engine's pages this shape. The script runs in the page, under the page's origin;
 * `arg` and the result cross as JSON-like values.
 */
export interface ScriptPage {
  evaluate<Arg, Result>(script: (arg: Arg) => Result | Promise<Result>, arg: Arg): Promise<Result>;
}

/** What the page's own script could see of a response, or the error the browser gave it instead. */
export type PageResult = { status: number; body: string; headers: Record<string, string> } | { error: string };

/** Runs `fetch` in the page, so the request is the page's own, under the page's origin. */
export function pageFetch(page: ScriptPage, url: string, init: RequestInit = {}): Promise<PageResult> {
  return page.evaluate(
    async ({ url, init }) => {
      try {
        const response = await fetch(url, init);
        const headers: Record<string, string> = {};
        response.headers.forEach((value, name) => (headers[name] = value));
        return { status: response.status, body: await response.text(), headers };
      } catch (error) {
        return { error: String(error) };
      }
    },
    { url, init },
  );
}

/** The same through XMLHttpRequest, with `withCredentials`. */
export function pageXhr(page: ScriptPage, method: string, url: string, withCredentials = false): Promise<PageResult> {
  return page.evaluate(
    ({ method, url, withCredentials }) =>
      new Promise<PageResult>((resolve) => {
        const xhr = new XMLHttpRequest();
        xhr.open(method, url);
        xhr.withCredentials = withCredentials;
        xhr.onload = () => {
          const headers: Record<string, string> = {};
          for (const line of xhr.getAllResponseHeaders().trim().split(/\r?\n/)) {
            const at = line.indexOf(':');
            if (at > 0) headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
          }
          resolve({ status: xhr.status, body: xhr.responseText, headers });
        };
        xhr.onerror = () => resolve({ error: 'XMLHttpRequest network error' });
        xhr.send();
      }),
    { method, url, withCredentials },
  );
}

/** Fetches from a sandboxed iframe (origin `null`) inside the page, returning what its script could see. */
export function sandboxedFetch(page: ScriptPage, url: string): Promise<PageResult> {
  return page.evaluate(
    (url) =>
      new Promise<PageResult>((resolve) => {
        const frame = document.createElement('iframe');
        frame.setAttribute('sandbox', 'allow-scripts');
        frame.srcdoc = `<script>
          fetch(${JSON.stringify(url)})
            .then(async (r) => parent.postMessage({ status: r.status, body: await r.text(), headers: {} }, '*'))
            .catch((e) => parent.postMessage({ error: String(e) }, '*'));
        </script>`;
        addEventListener('message', (event) => resolve(event.data as PageResult), { once: true });
        document.body.append(frame);
      }),
    url,
  );
}

@Controller('device')
class DeviceController {
  @Get() status() {
    return 'on';
  }
}

/**
 * The API of the Local Network Access specs: on loopback, allowing `pageOrigin` with `X-Device` and private network
 * access, recording what it receives into `received`. Returns the app and its URL.
 */
export async function startDeviceApi(
  adapter: AdapterCase,
  pageOrigin: string,
  received: Received[],
): Promise<{ app: INestApplication; api: string }> {
  @Module({
    imports: [CorsModule.forRoot({ origin: [pageOrigin], allowedHeaders: ['X-Device'], allowPrivateNetwork: true })],
    controllers: [DeviceController],
  })
  class DeviceModule {}
  const app = await startApp(adapter, [DeviceModule]);
  recordRequests(app, received);
  await app.listen(0, '127.0.0.1');
  return { app, api: `http://localhost:${(app.getHttpServer().address() as { port: number }).port}` };
}
