/** The safe methods of RFC 9110, read-only by contract: `origin` decides them, `writeOrigin` every other method. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Request headers as Node parses them: lower-case names, repeated unknown headers joined with `, `. */
export type RequestHeaders = Record<string, string | string[] | undefined>;

/**
 * The request's `Origin`, or `undefined` when it has none. Two `Origin` headers arrive joined (`a, b`), a value
 * that is not a serialized origin and so matches nothing.
 */
export function requestOrigin(headers: RequestHeaders): string | undefined {
  const origin = headers.origin;
  return Array.isArray(origin) ? origin.join(', ') : origin;
}

/** A CORS preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`. Any other OPTIONS is for the app. */
export function isPreflight(method: string | undefined, headers: RequestHeaders): boolean {
  return method === 'OPTIONS' && headers.origin !== undefined && headers['access-control-request-method'] !== undefined;
}

/**
 * The method a request is decided, and its route looked up, with: for a preflight, the one it announces
 * (`Access-Control-Request-Method`), as a preflight is answered for the request it announces.
 */
export function decidedMethod(
  method: string,
  headers: RequestHeaders,
  preflight = isPreflight(method, headers),
): string {
  return preflight ? String(headers['access-control-request-method']) : method;
}

/**
 * Whether a request that carries `origin` comes from another origin. `Sec-Fetch-Site` is the browser's own answer
 * and wins (`none` is a user's own navigation); without it, the origin's host is compared with the host the request
 * was sent to (`hostOf(request)`: the `Host` header, or the adapter's trusted `X-Forwarded-Host`, asked only when
 * needed), ignoring the scheme, which a proxy may have changed (as Go's `http.CrossOriginProtection` does).
 */
export function isCrossOrigin<R extends { headers: RequestHeaders }>(
  origin: string,
  request: R,
  hostOf: (request: R) => string | undefined = (request) => request.headers.host as string | undefined,
): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const host = hostOf(request);
  return host === undefined || !(isOriginOf(origin, host, 'https://') || isOriginOf(origin, host, 'http://'));
}

/** Whether `origin` is `scheme` followed by `host`, compared in place: this runs for every request with an `Origin`. */
function isOriginOf(origin: string, host: string, scheme: string): boolean {
  return origin.length === scheme.length + host.length && origin.startsWith(scheme) && origin.endsWith(host);
}
