import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { type INestApplication, Module } from '@nestjs/common';
import { WebSocketGateway } from '@nestjs/websockets';
import { CorsModule, type CorsRejection } from '../../src/index.js';
import { ADAPTERS, handled, startApp } from '../e2e/app.fixture.js';
import { EchoGateway, TRANSPORTS, type TransportCase } from '../e2e/gateway.fixture.js';
import type { BrowserDriver, DriverContext, DriverPage } from './driver.js';
import { pagesAndBrowser } from './harness.js';

@WebSocketGateway({ path: '/chat' })
class ChatGateway extends EchoGateway {}

/** What the page's script saw of its connection: the gateway's echo, or that it never opened. */
type Outcome = { connected: true; echo: unknown } | { connected: false; error: string };

/** The browser's own WebSocket, from the page: opens `url`, sends `echo`, returns the answer or how it ended. */
function pageWebSocket(page: DriverPage, url: string): Promise<Outcome> {
  return page.evaluate(
    (url) =>
      new Promise<Outcome>((resolve) => {
        const socket = new WebSocket(url);
        socket.onopen = () => socket.send(JSON.stringify({ event: 'echo', data: 'hi' }));
        socket.onmessage = (event) => {
          resolve({ connected: true, echo: JSON.parse(String(event.data)).data });
          socket.close();
        };
        socket.onclose = (event) => resolve({ connected: false, error: `closed ${event.code}` });
      }),
    url,
  );
}

/**
 * socket.io's own client in the page (the script the gateway's server serves), with credentials: its transports
 * (polling, then the upgrade, by default) are the browser's XHR and WebSocket.
 */
function pageSocketIo(page: DriverPage, api: string, transports: string[]): Promise<Outcome> {
  return page.evaluate(
    async ({ api, transports }) => {
      type Client = {
        on(event: string, listener: (value: unknown) => void): void;
        emit(event: string, data: string): void;
        close(): void;
      };
      const scope = window as unknown as { io?: (url: string, options: object) => Client };
      if (scope.io === undefined) {
        await new Promise((resolve, reject) => {
          const script = document.createElement('script');
          script.src = `${api}/chat/socket.io.min.js`;
          script.onload = resolve;
          script.onerror = reject;
          document.head.append(script);
        });
      }
      const connect = scope.io as NonNullable<typeof scope.io>;
      return new Promise<Outcome>((resolve) => {
        const socket = connect(api, {
          path: '/chat',
          transports,
          withCredentials: true,
          reconnection: false,
          timeout: 5_000,
        });
        socket.on('connect', () => socket.emit('echo', 'hi'));
        socket.on('echo', (echo) => {
          resolve({ connected: true, echo });
          socket.close();
        });
        socket.on('connect_error', (error) => {
          resolve({ connected: false, error: String(error) });
          socket.close();
        });
      });
    },
    { api, transports },
  );
}

/**
 * WebSocket gateways in a real browser, against every adapter and both gateway adapters: browsers apply no CORS to a
 * WebSocket, so the page on the other origin is stopped by the server's refusal of its handshake alone (the
 * browser sends the page's `Origin`), which `onRejection` records; the page on the allowed origin talks to the
 * gateway. Nothing is intercepted or stubbed.
 */
export function describeWebSocketCases(driver: BrowserDriver): void {
  describe(`WebSocket gateways in a real browser (${driver.name}, web security on)`, () => {
    const { browser, pages } = pagesAndBrowser(() => driver.launch());
    const pageOrigin = () => `http://localhost:${pages().port}`;
    const otherOrigin = () => `http://127.0.0.1:${pages().port}`;

    describe.each(ADAPTERS.flatMap((adapter) => TRANSPORTS.map((transport) => ({ ...adapter, ...transport }))))(
      '$transport on $name ($bootstrap)',
      ({ transport, configure, ...adapter }: (typeof ADAPTERS)[number] & TransportCase) => {
        let app: INestApplication;
        let api: string;
        let context: DriverContext;
        let allowedPage: DriverPage;
        let otherPage: DriverPage;
        const rejections: CorsRejection[] = [];
        const connect = (page: DriverPage, transports = ['polling', 'websocket']) =>
          transport === 'ws'
            ? pageWebSocket(page, `${api.replace('http', 'ws')}/chat`)
            : pageSocketIo(page, api, transports);

        beforeAll(async () => {
          @Module({
            imports: [
              CorsModule.forRoot({
                origin: [pageOrigin()],
                credentials: true,
                methods: ['GET', 'POST'],
                onRejection: (rejection) => void rejections.push(rejection),
              }),
            ],
            providers: [ChatGateway],
          })
          class ChatModule {}
          app = await startApp(adapter, [ChatModule], { configure });
          await app.listen(0, '127.0.0.1');
          api = `http://localhost:${(app.getHttpServer().address() as { port: number }).port}`;
          context = await browser().newContext();
          allowedPage = await context.newPage(`${pageOrigin()}/`);
          otherPage = await context.newPage(`${otherOrigin()}/`);
        }, 30_000);
        afterAll(async () => {
          await context?.close();
          await app?.close();
        }, 30_000);
        beforeEach(() => {
          handled.length = 0;
          rejections.length = 0;
        });

        it('a page on an allowed origin connects and exchanges a message', async () => {
          expect(await connect(allowedPage)).toEqual({ connected: true, echo: 'hi' });
          expect(handled).toEqual(['ChatGateway.connection', 'ChatGateway.echo']);
          expect(rejections).toEqual([]);
        });

        it('a page on another origin cannot open it: its handshake is refused, and the gateway never runs', async () => {
          const outcome = await connect(otherPage, ['websocket']);
          expect(outcome.connected).toBe(false);
          await new Promise((resolve) => setImmediate(resolve));
          expect(rejections).toEqual([
            expect.objectContaining({
              kind: 'upgrade',
              outcome: 'refused',
              origin: otherOrigin(),
              handler: 'ChatGateway',
            }),
          ]);
          expect(handled).toEqual([]);
        });

        if (transport === 'socket.io') {
          it("a page on another origin cannot use socket.io's polling either: the browser hides the answer, the POST is never sent", async () => {
            expect(await connect(otherPage)).toMatchObject({ connected: false });
            await new Promise((resolve) => setImmediate(resolve));
            // The handshake GET is answered without CORS headers (the default enforce refuses unsafe methods only).
            expect(rejections).toEqual([
              expect.objectContaining({ kind: 'request', outcome: 'withheld', method: 'GET', origin: otherOrigin() }),
            ]);
            expect(handled).toEqual([]);
          });
        }
      },
    );
  });
}
