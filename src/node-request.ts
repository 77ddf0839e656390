import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request as a guard gets it from the adapter: Express's is Node's own, Fastify's wraps it as `raw`. */
export type AdapterRequest = IncomingMessage | { raw: IncomingMessage };
/** A response as a guard gets it from the adapter: Express's is Node's own, Fastify's reply wraps it as `raw`. */
export type AdapterResponse = ServerResponse | { raw: ServerResponse };

/** The Node request behind the adapter's request object. */
export function nodeRequestOf(request: AdapterRequest): IncomingMessage {
  return 'raw' in request ? request.raw : request;
}

/** The Node response behind the adapter's response object. */
export function nodeResponseOf(response: AdapterResponse): ServerResponse {
  return 'raw' in response ? response.raw : response;
}

/** The path of a request target, without the query string, as the client sent it. */
export function pathOf(target: string | undefined): string {
  const url = target ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** The host without its port: `[::1]:3000` keeps its brackets, `example.com:3000` loses the port. */
export function hostnameOf(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const portAt = host.lastIndexOf(':');
  return portAt > host.lastIndexOf(']') ? host.slice(0, portAt) : host;
}

/**
 * The host the client addressed. The adapter's answer (which applies its trust-proxy setting) differs from `Host` only
 * for an `X-Forwarded-Host` or on HTTP/2 (`:authority`), so it is asked only then.
 */
export function hostOf(
  request: IncomingMessage,
  adapterHost: (request: IncomingMessage) => string | undefined,
): string | undefined {
  const { headers } = request;
  if (headers['x-forwarded-host'] === undefined && headers.host !== undefined) return headers.host;
  return adapterHost(request);
}
