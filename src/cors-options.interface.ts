import type { IncomingMessage } from 'node:http';

/**
 * Decides whether a request's origin may have cross-origin access. It only ever receives a well-formed,
 * serialized origin (`scheme://host[:port]`), never `null` and never a malformed value. `request` is Node's
 * `IncomingMessage` on every adapter (on Fastify the raw request, not Fastify's wrapper), so read only what Node
 * gives it (`headers`, `method`, `url`, `socket`). Anything but `true` denies; so do a throw or a rejection (logged),
 * and not settling within `originTimeout`.
 */
export type CorsOriginFunction = (origin: string, request: IncomingMessage) => boolean | Promise<boolean>;

/** An exact origin, a pattern (`https://*.example.com`, `http://localhost:*`) or an anchored RegExp. */
export type CorsOriginEntry = string | RegExp;

export type CorsOrigin = '*' | CorsOriginEntry | CorsOriginEntry[] | CorsOriginFunction;

/** Reject cross-origin requests the policy does not allow: `'unsafe'` methods only, `'all'`, or never (`false`). */
export type CorsEnforce = 'unsafe' | 'all' | false;

/** One CORS policy. Every field is optional; what is left out comes from the level above, then the defaults. */
export interface CorsOptions {
  /** Who may read responses cross-origin: requests with GET, HEAD or OPTIONS. Default `[]`: nobody. */
  origin?: CorsOrigin;
  /**
   * Who may send cross-origin requests with any other method (writes), and their preflights; the same forms as
   * `origin`. Default: `origin`, because a site trusted with reads is usually your own, but never `'*'` by default:
   * with `origin: '*'` and a method other than GET/HEAD/OPTIONS it must be given, as `'*'` only says any site may read.
   * The function settings (`originCacheTtl`, `originTimeout`, `originCacheKey`) apply to a function here too.
   */
  writeOrigin?: CorsOrigin;
  /**
   * Seconds to remember a function origin's answer. Errors and timeouts are never remembered. Answers are remembered,
   * and a call in flight shared, only across requests the function cannot tell apart: with `originCacheKey`, those
   * with the same origin and key; without it, those from the same origin for a function declared with fewer than two
   * parameters (it cannot read the request), and none for a function declared with the request parameter (each
   * request asks it). Policies with the same function, `originCacheTtl`, `originTimeout` and `originCacheKey` (such as
   * controllers that inherit `forRoot`'s function) share one cache of at most 1,000 answers; policies where any of
   * these differ have their own. Default `0`: remember nothing (a call in flight is still shared as above). Ignored
   * for other kinds of `origin`.
   */
  originCacheTtl?: number;
  /**
   * Milliseconds a function origin has to answer; after that the origin is denied for this request (nothing is
   * remembered: the next request asks again) and the timeout is logged. Default `1000`: far above a healthy lookup
   * (a configuration read or an indexed query takes milliseconds), and short enough that a stalled backend costs each
   * cross-origin request a second instead of holding it, and the preflight the browser waits on, until the client
   * gives up. Ignored for other kinds of `origin`.
   */
  originTimeout?: number;
  /**
   * What, besides the origin, a function origin's answer depends on, for a function that reads the request:
   * requests with the same origin and the same key share a call in flight and, with `originCacheTtl`, a remembered
   * answer. A multi-tenant function, `(origin, req) => tenantsOf(req.headers.host).includes(origin)`, gives
   * `(origin, req) => req.headers.host ?? ''`. The origin is always part of the key. Without this option, a function
   * declared with a second parameter is asked for every request, and one declared with fewer (its `length` below 2)
   * is shared by origin alone: a function that reads the request through a default parameter or rest arguments
   * (`(origin, req = x)`, `(...args)`) has a smaller `length`, so give it `originCacheKey`, or declare the request
   * parameter. A key function that throws or returns something other than a string denies the origin, and is logged
   * like an origin function that throws. Policies share answers only through the same key function object. Ignored
   * for other kinds of `origin`.
   */
  originCacheKey?: (origin: string, request: IncomingMessage) => string;
  /**
   * Methods a cross-origin request may use, or `'*'` for every method. Default `['GET']`; HEAD always follows GET.
   * `['*']` is refused: in an array it would name a method called `*`.
   */
  methods?: string[] | '*';
  /**
   * Request headers a cross-origin request may send, beyond the CORS-safelisted ones, or `'*'` for whatever the
   * preflight asks. Default `[]`. `['*']` is refused: in an array it would name a header called `*`.
   */
  allowedHeaders?: string[] | '*';
  /**
   * Response headers the page may read, beyond the CORS-safelisted ones. Default `[]`. Names only: `'*'` is refused,
   * even without credentials. Fetch reads it as "every header" only on requests without credentials and as a header
   * called `*` on requests with them, so a list of names is the one form that means the same on every request.
   */
  exposedHeaders?: string[];
  /** Allow cookies and HTTP auth (`Access-Control-Allow-Credentials: true`). Default `false`. */
  credentials?: boolean;
  /** Seconds a browser may cache a preflight answer. Default `600`. */
  maxAge?: number;
  /** Status of an accepted preflight, 200–299. Default `204`. */
  optionsSuccessStatus?: number;
  /** Pass accepted preflights on to the route's own `@Options()` handler. Default `false`. */
  preflightContinue?: boolean;
  /**
   * Answer `Access-Control-Request-Private-Network: true` with `Access-Control-Allow-Private-Network: true` on
   * accepted preflights. Default `false`. Only for clients that still send Private Network Access preflights (Chromium
   * 104–141 and embedders built on them): since version 142 Chromium asks the user instead (Local Network Access) and
   * sends no such header, and Firefox never did; for those this option changes nothing.
   */
  allowPrivateNetwork?: boolean;
  /** CSRF protection: reject disallowed cross-origin requests with 403 before the handler runs. Default `'unsafe'`. */
  enforce?: CorsEnforce;
  /**
   * Roll enforcement out safely: nothing is refused, but every request `enforce` would refuse is let through (still
   * without CORS headers) and reported, at `warn` level and to `onRejection`. Default `false`.
   */
  reportOnly?: boolean;
  /**
   * With `credentials`, allow wildcards over a public suffix (`https://*.github.io`, `https://*.co.uk`) and RegExps
   * that leave a label under one open. Anyone can register a name there, and its pages would read your responses with
   * your users' cookies: refused at startup unless this is set, and then logged as a warning. Default `false`.
   */
  dangerouslyAllowPublicSuffixWildcards?: boolean;
  /**
   * With `credentials`, allow the origin `'null'`, which sandboxed iframes, `data:` URLs and local files of any site
   * send: refused at startup unless this is set, and then logged as a warning. Default `false`.
   */
  dangerouslyAllowNullOriginWithCredentials?: boolean;
  /**
   * With `credentials`, allow `http://` origins other than loopback ones (`localhost`, `*.localhost`, `127.0.0.0/8`,
   * `[::1]`), whose pages anyone on the network path can read and rewrite: exact origins, patterns, and RegExps that can
   * match one. Refused at startup unless this is set, and then logged as a warning. Default `false`.
   */
  dangerouslyAllowInsecureOriginsWithCredentials?: boolean;
}

/**
 * The names of the policies `forRoot({ policies })` defines. Empty, so any string is a name; declare yours to have
 * `@Cors('name')` checked by the compiler:
 *
 * ```ts
 * declare module 'nestjs-cors' {
 *   interface CorsPolicyNames { partner: true; public: true }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CorsPolicyNames {}

export type CorsPolicyName = keyof CorsPolicyNames extends never ? string : Extract<keyof CorsPolicyNames, string>;

/** A policy for requests to paths no controller serves (a GraphQL endpoint, static files, an `app.use()` router). */
export interface CorsPathPolicy {
  /** Matched against the request path like a route path of the adapter (`/graphql`, `/static/*path`). */
  path: string;
  /** A name from `policies`, or options of its own; both over the global policy, field by field. */
  policy: CorsPolicyName | CorsOptions;
}

/** Why a CORS request or preflight was not allowed. */
export type CorsRejectionReason = 'origin not allowed' | 'method not allowed' | 'header not allowed';

/**
 * A rejected preflight, a cross-origin request that was refused, reported or left without CORS headers, or a
 * cross-origin upgrade (a WebSocket handshake) that was refused or reported.
 */
export interface CorsRejection {
  kind: 'preflight' | 'request' | 'upgrade';
  reason: CorsRejectionReason;
  /**
   * `rejected`: a preflight answered 403; `refused`: a request answered 403 (`enforce`); `reported`: a request
   * `enforce` would refuse, let through (`reportOnly`); `withheld`: a request served without CORS headers.
   */
  outcome: 'rejected' | 'refused' | 'reported' | 'withheld';
  origin: string;
  /** The request's method; for a preflight, the method it announces. */
  method: string;
  path: string;
  /**
   * `Controller.method` of the route, where one matched (several, joined by ` | `, behind a version filter); the
   * gateway class where a WebSocket gateway serves the path (its upgrades, socket.io's polling requests).
   */
  handler?: string;
}

/** The options of `CorsModule.forRoot()`: the global policy, and the named and path policies built on it. */
export interface CorsModuleOptions extends CorsOptions {
  /**
   * Called for every rejection (`CorsRejection`), for metrics and structured logs. Called after the response is on its
   * way, never awaited: a hook that throws, rejects or is slow is logged and never breaks or delays a response. A
   * `reconfigure()` that gives one replaces it; one that leaves it out keeps it (a configuration re-read from files has
   * no functions).
   */
  onRejection?: (rejection: CorsRejection) => void | Promise<void>;
  /** Policies defined once, applied with `@Cors('name')` or `@Cors('name', overrides)`. */
  policies?: Record<string, CorsOptions>;
  /** Policies of paths no controller serves; any other such path gets the global policy. */
  paths?: CorsPathPolicy[];
}

/**
 * What a test changes of the app's policies, through `.overrideProvider(CORS_OVERRIDES).useValue({...})`: each entry
 * applies over the level it names, field by field, as `@Cors()` does (arrays replace). A name that is not the app's is
 * a `CorsConfigError`, so that a typo cannot leave the override silently unused.
 */
export interface CorsOverrides {
  /** Over the global policy (`forRoot` / `forRootAsync`), and so over every policy that inherits from it. */
  global?: CorsOptions;
  /** Over named policies, by name. */
  policies?: Partial<Record<CorsPolicyName, CorsOptions>>;
  /**
   * Over one controller's policy (`'PartnerController'`) or one route's (`'PartnerController.update'`, the method's
   * property key), after its `@Cors()`; `false` closes it, as `@Cors(false)` does.
   */
  routes?: Record<string, CorsOptions | false>;
}

/** What `forRootAsync({ useClass })` and `forRootAsync({ useExisting })` expect of the class. */
export interface CorsOptionsFactory {
  createCorsOptions(): CorsModuleOptions | Promise<CorsModuleOptions>;
}
