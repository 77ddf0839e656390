import 'reflect-metadata';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { type INestApplication, Module } from '@nestjs/common';
import { WebSocketGateway } from '@nestjs/websockets';
import request from 'supertest';
import { Cors, CorsAudit, CorsModule, type CorsModuleOptions } from '../../src/index.js';
import {
  ADAPTERS,
  APP_ORIGIN,
  EVIL_ORIGIN,
  PARTNER_ORIGIN,
  corsHeaderNames,
  handled,
  startApp,
} from './app.fixture.js';
import {
  EchoGateway,
  type Handshake,
  TRANSPORTS,
  type TransportCase,
  connectSocketIo,
  listening,
  openWebSocket,
  socketIoEcho,
  socketIoWebSocketUrl,
  wsEcho,
} from './gateway.fixture.js';

/**
 * The policy of issue #20 (browsers apply no CORS to WebSockets, so the handshake's `Origin` is all there is), with
 * POST, which socket.io's polling transport sends its messages with.
 */
const POLICY: CorsModuleOptions = { origin: [APP_ORIGIN], credentials: true, methods: ['GET', 'POST'], enforce: 'all' };

/** Under the global policy, at ws's `/` and socket.io's `/socket.io/`. */
@WebSocketGateway()
class ChatGateway extends EchoGateway {}

@Cors({ origin: [PARTNER_ORIGIN], credentials: false })
@WebSocketGateway({ path: '/partner' })
class PartnerGateway extends EchoGateway {}

@Cors(false)
@WebSocketGateway({ path: '/closed' })
class ClosedGateway extends EchoGateway {}

function gatewaysModule(options: CorsModuleOptions) {
  @Module({ imports: [CorsModule.forRoot(options)], providers: [ChatGateway, PartnerGateway, ClosedGateway] })
  class GatewaysModule {}
  return GatewaysModule;
}

/** The path each gateway is served at, as its transport's client is told it. */
const PATHS = { ChatGateway: undefined, PartnerGateway: '/partner', ClosedGateway: '/closed' };
type GatewayName = keyof typeof PATHS;

/** A real client of `transport` talking to `gateway`: the gateway's echo of `hi`, or why it could not connect. */
async function talk(
  transport: TransportCase['transport'],
  host: string,
  gateway: GatewayName,
  headers: Record<string, string>,
): Promise<unknown> {
  if (transport === 'ws') {
    const handshake = await openWebSocket(`ws://${host}${PATHS[gateway] ?? '/'}`, headers);
    if (!('open' in handshake)) return handshake;
    try {
      return await wsEcho(handshake.open, 'hi');
    } finally {
      handshake.open.close();
    }
  }
  const socket = await connectSocketIo(host, PATHS[gateway], headers);
  if (socket instanceof Error) return { error: socket.message };
  try {
    return await socketIoEcho(socket, 'hi');
  } finally {
    socket.close();
  }
}

/** The handshake of `gateway`'s transport at the HTTP level: the `ws` client opening its URL, 101 or the refusal. */
function handshake(
  transport: TransportCase['transport'],
  host: string,
  gateway: GatewayName,
  headers: Record<string, string>,
): Promise<Exclude<Handshake, { open: unknown }> | { status: 101 }> {
  const url = transport === 'ws' ? `ws://${host}${PATHS[gateway] ?? '/'}` : socketIoWebSocketUrl(host, PATHS[gateway]);
  return openWebSocket(url, headers).then((result) => {
    if (!('open' in result)) return result;
    result.open.terminate();
    return { status: 101 };
  });
}

const ECHO = { event: 'echo', data: 'hi' };
const REFUSED = { status: 403, body: 'CORS request rejected: origin not allowed' };

describe.each(ADAPTERS.flatMap((adapter) => TRANSPORTS.map((transport) => ({ ...adapter, ...transport }))))(
  'gateways over $transport on $name ($bootstrap)',
  ({ transport, configure, ...adapter }) => {
    let app: INestApplication;
    let host: string;

    beforeAll(async () => {
      app = await startApp(adapter, [gatewaysModule(POLICY)], { configure });
      host = await listening(app);
    });
    afterAll(() => app?.close());
    beforeEach(() => {
      handled.length = 0;
    });

    it('an allowed origin connects and exchanges a message', async () => {
      expect(await talk(transport, host, 'ChatGateway', { Origin: APP_ORIGIN })).toEqual(ECHO);
      expect(handled).toEqual(['ChatGateway.connection', 'ChatGateway.echo']);
    });

    it('a disallowed origin gets 403 at the handshake, before the gateway sees it', async () => {
      expect(await handshake(transport, host, 'ChatGateway', { Origin: EVIL_ORIGIN })).toEqual(REFUSED);
      expect(await talk(transport, host, 'ChatGateway', { Origin: EVIL_ORIGIN })).not.toEqual(ECHO);
      expect(handled).toEqual([]);
    });

    it("@Cors on the gateway class overrides the global policy: an origin only it allows connects, the global one's does not", async () => {
      expect(await talk(transport, host, 'PartnerGateway', { Origin: PARTNER_ORIGIN })).toEqual(ECHO);
      expect(await handshake(transport, host, 'PartnerGateway', { Origin: APP_ORIGIN })).toEqual(REFUSED);
      expect(await handshake(transport, host, 'ChatGateway', { Origin: PARTNER_ORIGIN })).toEqual(REFUSED);
      expect(handled).toEqual(['PartnerGateway.connection', 'PartnerGateway.echo']);
    });

    it('@Cors(false) refuses every cross-origin handshake; a same-origin one passes', async () => {
      expect(await handshake(transport, host, 'ClosedGateway', { Origin: APP_ORIGIN })).toEqual(REFUSED);
      expect(handled).toEqual([]);
      expect(await talk(transport, host, 'ClosedGateway', { Origin: `http://${host}` })).toEqual(ECHO);
    });

    it('same-origin clients (by Host, or by Sec-Fetch-Site) and clients without Origin connect', async () => {
      expect(await talk(transport, host, 'ChatGateway', { Origin: `http://${host}` })).toEqual(ECHO);
      expect(
        await talk(transport, host, 'ChatGateway', { Origin: 'http://localhost:1', 'Sec-Fetch-Site': 'same-origin' }),
      ).toEqual(ECHO);
      expect(await talk(transport, host, 'ChatGateway', {})).toEqual(ECHO);
      expect(handled.filter((name) => name.endsWith('.echo'))).toHaveLength(3);
    });

    it('Sec-Fetch-Site: cross-site wins over a Host that matches the Origin', async () => {
      expect(
        await handshake(transport, host, 'ChatGateway', { Origin: `http://${host}`, 'Sec-Fetch-Site': 'cross-site' }),
      ).toEqual(REFUSED);
    });

    it('the audit lists each gateway with its policy', () => {
      const gateways = app
        .get(CorsAudit)
        .routes()
        .filter((route) => route.method === 'WS');
      const [chat, partner, closed] =
        transport === 'ws' ? ['/', '/partner', '/closed'] : ['/socket.io/', '/partner/', '/closed/'];
      expect(
        gateways.map(({ path, handler, origin, credentials }) => ({ path, handler, origin, credentials })),
      ).toEqual([
        { path: chat, handler: 'ChatGateway', origin: [APP_ORIGIN], credentials: true },
        { path: partner, handler: 'PartnerGateway', origin: [PARTNER_ORIGIN], credentials: false },
        { path: closed, handler: 'ClosedGateway', origin: [], credentials: true },
      ]);
      expect(gateways[1].from.origin).toBe('PartnerGateway');
      const handshakeTarget = transport === 'ws' ? '/partner' : '/partner/?EIO=4&transport=websocket';
      expect(app.get(CorsAudit).routeFor('WS', handshakeTarget)).toMatchObject({ handler: 'PartnerGateway' });
      if (transport === 'socket.io')
        expect(app.get(CorsAudit).routeFor('POST', '/partner/?EIO=4&transport=polling')).toMatchObject({
          handler: 'PartnerGateway',
        });
    });
  },
);

/** socket.io's long-polling transport, spoken by hand (engine.io protocol 4), so that the test sets every `Origin`. */
describe.each(ADAPTERS)("socket.io's polling transport on $name ($bootstrap)", (adapter) => {
  const polling = (path = '/socket.io', sid?: string) => `${path}/?EIO=4&transport=polling${sid ? `&sid=${sid}` : ''}`;
  let app: INestApplication;
  let strict: INestApplication;

  beforeAll(async () => {
    app = await startApp(adapter, [gatewaysModule(POLICY)]);
    await listening(app);
    // The default enforcement: only unsafe methods (the POSTs that carry the messages) are refused.
    strict = await startApp(adapter, [gatewaysModule({ origin: [APP_ORIGIN], credentials: true })]);
    await listening(strict);
  });
  afterAll(() => Promise.all([app?.close(), strict?.close()]));
  beforeEach(() => {
    handled.length = 0;
  });

  /** Opens an engine.io session as `origin`: its id. */
  async function open(target: INestApplication, origin: string, path?: string): Promise<string> {
    const response = await request(target.getHttpServer()).get(polling(path)).set('Origin', origin);
    expect(response.status).toBe(200);
    return JSON.parse(response.text.slice(1)).sid;
  }
  const post = (target: INestApplication, sid: string, origin: string, packet: string, path?: string) =>
    request(target.getHttpServer())
      .post(polling(path, sid))
      .set('Origin', origin)
      .set('Content-Type', 'text/plain;charset=UTF-8')
      .send(packet);

  it("an allowed origin's session carries the gateway policy's headers and Vary: Origin, and reaches the gateway", async () => {
    const handshake = await request(app.getHttpServer()).get(polling()).set('Origin', APP_ORIGIN);
    expect(handshake.status).toBe(200);
    expect(handshake.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(handshake.headers['access-control-allow-credentials']).toBe('true');
    expect(handshake.headers.vary).toMatch(/\bOrigin\b/);
    const sid = JSON.parse(handshake.text.slice(1)).sid;
    const connect = await post(app, sid, APP_ORIGIN, '40');
    expect(connect).toMatchObject({ status: 200, text: 'ok' });
    expect(connect.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    await request(app.getHttpServer()).get(polling(undefined, sid)).set('Origin', APP_ORIGIN);
    expect((await post(app, sid, APP_ORIGIN, '42["echo","hi"]')).status).toBe(200);
    const answer = await request(app.getHttpServer()).get(polling(undefined, sid)).set('Origin', APP_ORIGIN);
    expect(answer.text).toContain('42["echo","hi"]');
    expect(handled).toEqual(['ChatGateway.connection', 'ChatGateway.echo']);
  });

  it('a disallowed origin is refused on the GET handshake and on every POST, even with a valid session id', async () => {
    const handshake = await request(app.getHttpServer()).get(polling()).set('Origin', EVIL_ORIGIN);
    expect(handshake.status).toBe(403);
    expect(corsHeaderNames(handshake)).toEqual([]);
    expect(handshake.headers.vary).toMatch(/\bOrigin\b/);
    const sid = await open(app, APP_ORIGIN);
    for (const packet of ['40', '42["echo","hi"]']) {
      const refused = await post(app, sid, EVIL_ORIGIN, packet);
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('CORS request rejected: origin not allowed');
    }
    expect(handled).toEqual([]);
  });

  it("a gateway's @Cors decides its polling requests: its origin is allowed, with its own headers", async () => {
    const handshake = await request(app.getHttpServer()).get(polling('/partner')).set('Origin', PARTNER_ORIGIN);
    expect(handshake.status).toBe(200);
    expect(handshake.headers['access-control-allow-origin']).toBe(PARTNER_ORIGIN);
    expect(handshake.headers['access-control-allow-credentials']).toBeUndefined();
    expect((await request(app.getHttpServer()).get(polling('/partner')).set('Origin', APP_ORIGIN)).status).toBe(403);
    expect((await request(app.getHttpServer()).get(polling('/closed')).set('Origin', APP_ORIGIN)).status).toBe(403);
  });

  it("with the default enforce ('unsafe'): the GET handshake is answered without CORS headers, the POST that would connect is refused", async () => {
    const handshake = await request(strict.getHttpServer()).get(polling()).set('Origin', EVIL_ORIGIN);
    expect(handshake.status).toBe(200);
    expect(corsHeaderNames(handshake)).toEqual([]);
    const sid = JSON.parse(handshake.text.slice(1)).sid;
    expect((await post(strict, sid, EVIL_ORIGIN, '40')).status).toBe(403);
    expect(handled).toEqual([]);
  });

  it("the polling transport's preflight is answered with the gateway's policy", async () => {
    const preflight = (origin: string) =>
      request(app.getHttpServer())
        .options(polling('/partner'))
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'GET');
    const accepted = await preflight(PARTNER_ORIGIN);
    expect(accepted.status).toBe(204);
    expect(accepted.headers['access-control-allow-origin']).toBe(PARTNER_ORIGIN);
    expect((await preflight(APP_ORIGIN)).status).toBe(403);
  });
});
