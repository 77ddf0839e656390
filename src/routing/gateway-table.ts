import { CorsConfigError } from '../policy/cors-config.error.js';
import type { CorsPolicy } from '../policy/cors-policy.js';
import { samePolicy } from '../policy/same-policy.js';

/** The gateway adapters whose servers nestjs-cors knows the routing of: Nest's `WsAdapter` and `IoAdapter`. */
export type GatewayTransport = 'ws' | 'socket.io';

/** A WebSocket gateway served on the app's HTTP server. */
export interface GatewayDefinition<T> {
  transport: GatewayTransport;
  /** What its server compares a request with: `ws`, the whole path; socket.io, engine.io's path prefix (`/socket.io/`). */
  path: string;
  /** The gateway class's name. */
  handler: string;
  policy: CorsPolicy;
  value: T;
}

/**
 * The path a gateway's server takes handshakes at, computed as that server computes it from the gateway's options:
 * Nest's `WsAdapter` normalizes `path` (`/` without one) and compares the request's whole path with it; socket.io
 * (`/socket.io` without one) hands engine.io the path, which takes every request whose target starts with it and a
 * slash (without the slash where `addTrailingSlash` is false).
 */
export function handshakePath(
  transport: GatewayTransport,
  options: { path?: unknown; addTrailingSlash?: unknown },
): string {
  const path = typeof options.path === 'string' ? options.path : '';
  if (transport === 'ws') return path === '' ? '/' : `/${path.replace(/\/+$/, '')}`.replace(/\/+/g, '/');
  return (path || '/socket.io').replace(/\/$/, '') + (options.addTrailingSlash === false ? '' : '/');
}

/**
 * Which gateway a request on the app's HTTP server reaches, matched as the gateways' own servers match it: they see
 * the request before the HTTP adapter does (socket.io's engine.io takes its HTTP requests, the long-polling
 * transport, ahead of the adapter's listener; both take upgrades). Gateways that share a handshake (socket.io
 * namespaces on one path, `ws` gateways on one path) cannot be told apart before it, so they must share a policy.
 */
export class GatewayTable<T> {
  /** Whether any gateway's server answers HTTP requests of its own (socket.io's polling transport). */
  readonly takesRequests: boolean;

  /** @throws CorsConfigError where gateways that share a handshake have different policies */
  constructor(private readonly gateways: ReadonlyArray<GatewayDefinition<T>>) {
    this.takesRequests = gateways.some((gateway) => gateway.transport === 'socket.io');
    const errors: CorsConfigError[] = [];
    gateways.forEach((gateway, i) => {
      const first = gateways.findIndex((other) => other.transport === gateway.transport && other.path === gateway.path);
      if (first < i && !samePolicy(gateways[first].policy, gateway.policy))
        errors.push(sharedHandshake(gateways[first], gateway));
    });
    if (errors.length > 0) throw CorsConfigError.all(errors);
  }

  /** The gateway whose server answers an HTTP request for `target` (the request target as sent) itself. */
  forRequest(target: string): T | undefined {
    for (const gateway of this.gateways)
      if (gateway.transport === 'socket.io' && target.startsWith(gateway.path)) return gateway.value;
    return undefined;
  }

  /** The gateway whose server takes an upgrade to `target`. */
  forUpgrade(target: string): T | undefined {
    let pathname: string | undefined;
    for (const gateway of this.gateways) {
      if (
        gateway.transport === 'socket.io'
          ? target.startsWith(gateway.path)
          : (pathname ??= wsPathname(target)) === gateway.path
      )
        return gateway.value;
    }
    return undefined;
  }
}

/** The path `WsAdapter` compares: the target's, resolved as a URL (dot segments, `//host/path`), as it resolves it. */
function wsPathname(target: string): string {
  try {
    return new URL(target, 'ws://localhost/').pathname;
  } catch {
    return target;
  }
}

function sharedHandshake(first: GatewayDefinition<unknown>, other: GatewayDefinition<unknown>): CorsConfigError {
  return new CorsConfigError(
    other.handler,
    `it shares its handshake (${first.transport} at ${first.path}) with ${first.handler}, which has another CORS policy: ` +
      `a handshake does not say which of them it is for (socket.io namespaces travel after it). Give them the same ` +
      `policy (the same @Cors(), or none), or give this gateway a path of its own (@WebSocketGateway({ path }))`,
  );
}
