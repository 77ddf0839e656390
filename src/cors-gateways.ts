import { Logger, type Type } from '@nestjs/common';
import type { ApplicationConfig, ModulesContainer } from '@nestjs/core';
import { CORS_LOGGER_CONTEXT } from './cors.constants.js';
import { type DiscoveredGateway, discoverGateways, webSocketAdapterOf } from './nest-internals.js';
import type { CorsPolicy } from './policy/cors-policy.js';
import { handshakePath } from './routing/gateway-table.js';
import type { GatewayEndpoint } from './routing/route-index.interface.js';

/** A gateway the front door decides, with what its policy and the startup checks need of it. */
export interface AppGateway extends Omit<GatewayEndpoint, 'policy'> {
  /** The gateway class, whose `@Cors()` is its policy. */
  type: Type;
  /** Whether its server also answers HTTP requests: socket.io with the polling transport (its default). */
  polls: boolean;
}

/**
 * The app's WebSocket gateways (`classes`: every one, whose `@Cors()` is validated wherever it is served), and those
 * whose handshakes the front door decides (`decided`): those Nest's `WsAdapter` or `IoAdapter` serves on the app's
 * HTTP server, each with the path its server takes handshakes at. Warns at startup about the gateways it cannot
 * decide, and about a gateway's own `cors` option, as it does about `app.enableCors()`: two layers would disagree.
 */
export function appGateways(
  modules: ModulesContainer,
  config: ApplicationConfig,
  server: unknown,
): { classes: Type[]; decided: AppGateway[] } {
  const discovered = discoverGateways(modules);
  const classes = discovered.map(({ gateway }) => gateway);
  if (discovered.length === 0) return { classes, decided: [] };
  const logger = new Logger(CORS_LOGGER_CONTEXT);
  const adapter = webSocketAdapterOf(config);
  const gateways: AppGateway[] = [];
  for (const { gateway, port, options } of discovered) {
    if (options.cors !== undefined) logger.warn(ownCorsOption(gateway.name));
    if (port !== 0 || adapter === undefined || adapter.httpServer !== server) {
      logger.warn(ownServer(gateway.name, port));
    } else if (adapter.transport === undefined) {
      logger.warn(unknownAdapter(gateway.name, adapter.name));
    } else {
      const polls =
        adapter.transport === 'socket.io' &&
        (!Array.isArray(options.transports) || options.transports.includes('polling'));
      gateways.push({
        transport: adapter.transport,
        path: handshakePath(adapter.transport, options),
        handler: gateway.name,
        type: gateway,
        polls,
      });
    }
  }
  return { classes, decided: gateways };
}

/**
 * socket.io's polling transport sends every message with a POST: where a polling gateway's policy refuses POSTs, an
 * allowed origin's client that starts with polling (socket.io's default) never connects; where its `writeOrigin` is
 * narrower than `origin`, the origins between the two connect but cannot poll. Said once per configuration,
 * at startup and on `reconfigure()`.
 * `resolved` holds each gateway's policy as the index resolved it (its own, its `paths` entry's, or the global one).
 */
export function warnOnRefusedPolling(gateways: readonly AppGateway[], resolved: readonly CorsPolicy[]): void {
  gateways.forEach(({ polls, handler }, i) => {
    const policy = resolved[i];
    if (!polls || policy.disallowedOutcome('POST') !== 'refused') return;
    const logger = new Logger(CORS_LOGGER_CONTEXT);
    if (!policy.allowsMethod('POST')) {
      logger.warn(
        `${handler}: socket.io's polling transport sends messages with POST, which the gateway's CORS policy does not ` +
          `allow, so the polling requests of allowed origins are refused and clients that start with polling (socket.io's ` +
          `default) cannot connect. Allow it (@Cors({ methods: ['GET', 'POST'] }) on the gateway), or use the websocket ` +
          `transport only (transports: ['websocket'] in the gateway's options and its clients')`,
      );
    } else if (policy.writes !== policy.origins && !policy.writes.any) {
      // The handshake is a read, decided on `origin`; the polling POSTs are writes, decided on `writeOrigin`.
      logger.warn(
        `${handler}: socket.io's polling transport sends messages with POST, a write, which the gateway's CORS policy ` +
          `trusts only its writeOrigin with: an origin allowed to connect that writeOrigin does not list cannot poll. ` +
          `List it in writeOrigin too, or use the websocket transport only (transports: ['websocket'])`,
      );
    }
  });
}

function ownCorsOption(gateway: string): string {
  return (
    `${gateway} sets its own cors option (@WebSocketGateway({ cors })) together with CorsModule: two CORS layers now ` +
    `answer its requests and disagree. nestjs-cors decides its handshakes and polling requests and replaces the ` +
    `gateway's CORS headers on cross-origin responses: remove the cors option, and give the gateway its policy with ` +
    `@Cors() on its class`
  );
}

function ownServer(gateway: string, port: DiscoveredGateway['port']): string {
  const where =
    port !== 0
      ? `on port ${port}, on a server of its own`
      : `on another server than the app's (its WebSocket adapter was not built with the app)`;
  return (
    `${gateway} is served ${where}, whose handshakes nestjs-cors does not see: cross-site WebSocket hijacking is not ` +
    `refused there. Serve it on the app's HTTP server (@WebSocketGateway() without a port, the adapter built with ` +
    `the app), or check the handshake's Origin yourself (ws: verifyClient; socket.io: allowRequest)`
  );
}

function unknownAdapter(gateway: string, adapter: string): string {
  return (
    `${gateway} is served by ${adapter}, whose routing nestjs-cors does not know (it knows WsAdapter and IoAdapter): ` +
    `its handshakes are decided with the policy of their path (a paths entry, else the global policy), not the ` +
    `gateway's @Cors(), and its own HTTP requests, if any, as requests for their path`
  );
}
