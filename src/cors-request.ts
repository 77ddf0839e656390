import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * The request as adapters hand it over: Express's extends Node's `IncomingMessage`, Fastify's wraps it as `raw`;
 * both expose `host`, honouring their own trust-proxy setting (`X-Forwarded-Host` only from a trusted proxy).
 */
export interface AdapterRequest {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers: IncomingHttpHeaders;
  host?: unknown;
  raw?: IncomingMessage;
}

/** The response as adapters hand it over: Express's extends Node's `ServerResponse`, Fastify's reply wraps it. */
export type AdapterResponse = ServerResponse | { raw: ServerResponse };

/** The Node request behind the adapter's request object. */
export function rawRequest(request: AdapterRequest): IncomingMessage {
  return request.raw ?? (request as IncomingMessage);
}

/** The Node response behind the adapter's response object. */
export function rawResponse(response: AdapterResponse): ServerResponse {
  return 'raw' in response ? response.raw : response;
}

/** The host the client addressed, as the adapter is configured to believe it. */
export function hostOf(request: AdapterRequest): string | undefined {
  const { headers } = request;
  // The adapters' getters differ from `Host` only for a trusted `X-Forwarded-Host`, or on HTTP/2 (`:authority`);
  // Express's runs its trust-proxy check on every call.
  if (headers['x-forwarded-host'] === undefined && headers.host !== undefined) return headers.host;
  return typeof request.host === 'string' ? request.host : headers.host;
}

/** The path without the query string, as the client sent it (Express's `originalUrl` survives mounting). */
export function pathOf(request: AdapterRequest): string {
  const url = request.originalUrl ?? request.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** The host without its port: `[::1]:3000` keeps its brackets, `example.com:3000` loses the port. */
export function hostnameOf(request: AdapterRequest): string | undefined {
  const host = hostOf(request);
  if (host === undefined) return undefined;
  const portAt = host.lastIndexOf(':');
  return portAt > host.lastIndexOf(']') ? host.slice(0, portAt) : host;
}
