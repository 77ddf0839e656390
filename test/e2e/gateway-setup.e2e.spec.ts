import 'reflect-metadata';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { Module, type Type } from '@nestjs/common';
import { WebSocketGateway } from '@nestjs/websockets';
import {
  Cors,
  CorsAudit,
  CorsConfigError,
  CorsModule,
  type CorsModuleOptions,
  type CorsRejection,
} from '../../src/index.js';
import {
  ADAPTERS,
  type AdapterCase,
  APP_ORIGIN,
  CapturingLogger,
  EVIL_ORIGIN,
  PARTNER_ORIGIN,
  handled,
  startApp,
  withApp,
} from './app.fixture.js';
import { EchoGateway, TRANSPORTS, listening, openWebSocket, wsEcho } from './gateway.fixture.js';

const [WS, SOCKET_IO] = TRANSPORTS;

@WebSocketGateway({ path: '/chat' })
class ChatGateway extends EchoGateway {}

@WebSocketGateway({ path: '/feed' })
class FeedGateway extends EchoGateway {}

@Cors({ origin: [APP_ORIGIN] })
@WebSocketGateway({ path: '/own' })
class OwnPolicyGateway extends EchoGateway {}

/** Starts `gateways` over `ws` on `adapter`, under `options`; `logger` keeps what the app logs. */
function startGateways(adapter: AdapterCase, options: CorsModuleOptions, gateways: Type[], logger?: CapturingLogger) {
  @Module({ imports: [CorsModule.forRoot(options)], providers: gateways })
  class GatewaysModule {}
  return startApp(adapter, [GatewaysModule], { configure: WS.configure, appOptions: logger ? { logger } : undefined });
}

/** The status of a handshake: 101 where it opened (closed again at once), else the server's answer. */
async function handshakeStatus(url: string, headers: Record<string, string>): Promise<number | string> {
  const result = await openWebSocket(url, headers);
  if ('open' in result) {
    result.open.terminate();
    return 101;
  }
  return 'status' in result ? result.status : result.error;
}

/** A port nothing listens on, for a gateway with a server of its own. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const warningsOf = (logger: CapturingLogger) =>
  logger.lines.filter((line) => line.level === 'warn' && line.context === 'Cors').map((line) => line.message);

/** The warnings nestjs-cors logs while an app of `module`'s socket.io gateways starts on `adapter`. */
async function socketIoStartupWarnings(adapter: AdapterCase, module: Type): Promise<string[]> {
  const logger = new CapturingLogger();
  const app = await startApp(adapter, [module], { configure: SOCKET_IO.configure, appOptions: { logger } });
  await app.close();
  return warningsOf(logger);
}

describe.each(ADAPTERS)('setting gateways up on $name ($bootstrap)', (adapter) => {
  beforeEach(() => {
    handled.length = 0;
  });

  it('an upgrade listener added after init(), with on() or prependListener(), hears only the upgrades the front door passes', async () => {
    await withApp(await startGateways(adapter, { origin: [APP_ORIGIN] }, [ChatGateway]), async (app) => {
      const host = await listening(app);
      const heard: string[] = [];
      const server = app.getHttpServer();
      server.prependListener('upgrade', (request: IncomingMessage) =>
        heard.push(`prepended ${request.headers.origin}`),
      );
      server.on('upgrade', (request: IncomingMessage) => heard.push(`appended ${request.headers.origin}`));
      expect(await handshakeStatus(`ws://${host}/chat`, { Origin: EVIL_ORIGIN })).toBe(403);
      expect(heard).toEqual([]);
      expect(await handshakeStatus(`ws://${host}/chat`, { Origin: APP_ORIGIN })).toBe(101);
      expect(heard).toEqual([`prepended ${APP_ORIGIN}`, `appended ${APP_ORIGIN}`]);
    });
  });

  it('onRejection hears a refused handshake, with the gateway; reportOnly lets it through, reported', async () => {
    const rejections: CorsRejection[] = [];
    const options = {
      origin: [APP_ORIGIN],
      onRejection: (rejection: CorsRejection) => void rejections.push(rejection),
    };
    await withApp(await startGateways(adapter, options, [ChatGateway]), async (app) => {
      const host = await listening(app);
      expect(await handshakeStatus(`ws://${host}/chat?room=1`, { Origin: EVIL_ORIGIN })).toBe(403);
      await new Promise((resolve) => setImmediate(resolve));
      expect(rejections).toEqual([
        {
          kind: 'upgrade',
          reason: 'origin not allowed',
          outcome: 'refused',
          origin: EVIL_ORIGIN,
          method: 'GET',
          path: '/chat',
          handler: 'ChatGateway',
        },
      ]);
    });
    rejections.length = 0;
    await withApp(await startGateways(adapter, { ...options, reportOnly: true }, [ChatGateway]), async (app) => {
      const handshake = await openWebSocket(`ws://${await listening(app)}/chat`, { Origin: EVIL_ORIGIN });
      if (!('open' in handshake)) throw new Error(`not open: ${JSON.stringify(handshake)}`);
      expect(await wsEcho(handshake.open, 'hi')).toEqual({ event: 'echo', data: 'hi' });
      handshake.open.close();
      expect(rejections).toEqual([
        expect.objectContaining({ kind: 'upgrade', outcome: 'reported', origin: EVIL_ORIGIN }),
      ]);
    });
  });

  it('an origin function that answers asynchronously decides handshakes too', async () => {
    const origin = async (candidate: string) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return candidate === APP_ORIGIN;
    };
    await withApp(await startGateways(adapter, { origin }, [ChatGateway]), async (app) => {
      const host = await listening(app);
      expect(await handshakeStatus(`ws://${host}/chat`, { Origin: EVIL_ORIGIN })).toBe(403);
      expect(await handshakeStatus(`ws://${host}/chat`, { Origin: APP_ORIGIN })).toBe(101);
      expect(handled).toEqual(['ChatGateway.connection']);
    });
  });

  it('a gateway without @Cors gets the paths entry for its path; @Cors on a gateway wins over it; other paths get the global policy', async () => {
    const options: CorsModuleOptions = {
      origin: [APP_ORIGIN],
      policies: { partner: { origin: [PARTNER_ORIGIN] } },
      paths: [
        { path: '/feed', policy: 'partner' },
        { path: '/own', policy: 'partner' },
      ],
    };
    await withApp(await startGateways(adapter, options, [FeedGateway, OwnPolicyGateway]), async (app) => {
      const host = await listening(app);
      expect(await handshakeStatus(`ws://${host}/feed`, { Origin: PARTNER_ORIGIN })).toBe(101);
      expect(await handshakeStatus(`ws://${host}/feed`, { Origin: APP_ORIGIN })).toBe(403);
      expect(await handshakeStatus(`ws://${host}/own`, { Origin: APP_ORIGIN })).toBe(101);
      expect(await handshakeStatus(`ws://${host}/own`, { Origin: PARTNER_ORIGIN })).toBe(403);
      // No gateway serves it (ws then closes the socket): decided all the same, with the global policy.
      expect(await handshakeStatus(`ws://${host}/elsewhere`, { Origin: PARTNER_ORIGIN })).toBe(403);
      const audit = app
        .get(CorsAudit)
        .routes()
        .filter((route) => route.method === 'WS');
      expect(audit.map(({ path, handler, from }) => `${path} ${handler} ${from.origin}`)).toEqual([
        "/feed FeedGateway policy 'partner'",
        '/own OwnPolicyGateway OwnPolicyGateway',
      ]);
    });
  });

  it('warns about a gateway on a port of its own, whose handshakes it does not see, and about a gateway that sets its own cors', async () => {
    const port = await freePort();
    @WebSocketGateway(port, { path: '/own-port' })
    class OwnPortGateway extends EchoGateway {}
    const logger = new CapturingLogger();
    await withApp(await startGateways(adapter, { origin: [APP_ORIGIN] }, [OwnPortGateway], logger), async (app) => {
      expect(warningsOf(logger)).toEqual([
        expect.stringMatching(
          /^OwnPortGateway is served on port \d+, on a server of its own, whose handshakes nestjs-cors does not see/,
        ),
      ]);
      expect(
        app
          .get(CorsAudit)
          .routes()
          .filter((route) => route.method === 'WS'),
      ).toEqual([]);
    });

    @WebSocketGateway({ cors: { origin: '*' } })
    class CorsOptionGateway extends EchoGateway {}
    const ioLogger = new CapturingLogger();
    @Module({
      imports: [CorsModule.forRoot({ origin: [APP_ORIGIN], methods: ['GET', 'POST'] })],
      providers: [CorsOptionGateway],
    })
    class IoModule {}
    await withApp(
      await startApp(adapter, [IoModule], { configure: SOCKET_IO.configure, appOptions: { logger: ioLogger } }),
      async () => {
        expect(warningsOf(ioLogger)).toEqual([
          expect.stringMatching(
            /^CorsOptionGateway sets its own cors option .* two CORS layers now answer its requests and disagree/,
          ),
        ]);
      },
    );
  });

  it("warns where a socket.io gateway's policy refuses the POSTs of its polling transport", async () => {
    @WebSocketGateway()
    class PollingGateway extends EchoGateway {}
    @WebSocketGateway({ path: '/ws-only', transports: ['websocket'] })
    class WebSocketOnly extends EchoGateway {}
    @Module({ imports: [CorsModule.forRoot({ origin: [APP_ORIGIN] })], providers: [PollingGateway, WebSocketOnly] })
    class IoModule {}
    expect(await socketIoStartupWarnings(adapter, IoModule)).toEqual([
      expect.stringMatching(
        /^PollingGateway: socket.io's polling transport sends messages with POST, which the gateway's CORS policy does not allow/,
      ),
    ]);
  });

  it('warns where a socket.io gateway trusts writes, and so its polling POSTs, to fewer origins than may connect', async () => {
    @Cors({ origin: [APP_ORIGIN, PARTNER_ORIGIN], writeOrigin: [APP_ORIGIN], methods: ['GET', 'POST'] })
    @WebSocketGateway()
    class NarrowWritesGateway extends EchoGateway {}
    @Cors({ origin: [APP_ORIGIN], methods: ['GET', 'POST'] })
    @WebSocketGateway({ path: '/same' })
    class SameWritesGateway extends EchoGateway {}
    @Module({
      imports: [CorsModule.forRoot({ origin: [APP_ORIGIN] })],
      providers: [NarrowWritesGateway, SameWritesGateway],
    })
    class IoModule {}
    expect(await socketIoStartupWarnings(adapter, IoModule)).toEqual([
      expect.stringMatching(
        /^NarrowWritesGateway: socket.io's polling transport sends messages with POST, a write, which the gateway's CORS policy trusts only its writeOrigin with/,
      ),
    ]);
  });

  it('socket.io namespaces share one handshake: different policies stop the bootstrap, naming both gateways; the same policy does not', async () => {
    @WebSocketGateway({ namespace: 'public' })
    class PublicGateway extends EchoGateway {}
    @Cors({ origin: [PARTNER_ORIGIN] })
    @WebSocketGateway({ namespace: 'admin' })
    class AdminGateway extends EchoGateway {}
    @Module({
      imports: [CorsModule.forRoot({ origin: [APP_ORIGIN], methods: ['GET', 'POST'] })],
      providers: [PublicGateway, AdminGateway],
    })
    class SharedModule {}
    const failed = await startApp(adapter, [SharedModule], { configure: SOCKET_IO.configure }).then(
      (app) => app.close().then(() => undefined),
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(CorsConfigError);
    expect((failed as Error).message).toMatch(
      /AdminGateway: it shares its handshake \(socket\.io at \/socket\.io\/\) with PublicGateway, which has another CORS policy/,
    );

    // Two @Cors() with the same options: two compiled policies that decide alike.
    @Cors({ origin: [APP_ORIGIN], methods: ['GET', 'POST'] })
    @WebSocketGateway({ namespace: 'first' })
    class FirstGateway extends EchoGateway {}
    @Cors({ origin: [APP_ORIGIN], methods: ['GET', 'POST'] })
    @WebSocketGateway({ namespace: 'second' })
    class SecondGateway extends EchoGateway {}
    @Module({ imports: [CorsModule.forRoot({ origin: [PARTNER_ORIGIN] })], providers: [FirstGateway, SecondGateway] })
    class AgreeingModule {}
    await withApp(await startApp(adapter, [AgreeingModule], { configure: SOCKET_IO.configure }), async (app) => {
      expect(
        app
          .get(CorsAudit)
          .routes()
          .filter((route) => route.method === 'WS')
          .map((route) => route.handler),
      ).toEqual(['FirstGateway', 'SecondGateway']);
    });
  });

  it("a mistake in a gateway's @Cors stops the bootstrap, naming the gateway class", async () => {
    @Cors({ origin: ['https://app.example.com/'] })
    @WebSocketGateway({ path: '/bad' })
    class BadGateway extends EchoGateway {}
    await expect(startGateways(adapter, { origin: [APP_ORIGIN] }, [BadGateway])).rejects.toThrow(
      /Invalid CORS configuration in BadGateway: origin 'https:\/\/app\.example\.com\/' has a path/,
    );
  });
});
