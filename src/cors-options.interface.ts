/**
 * Decides whether a request's origin may have cross-origin access. It only ever receives a well-formed,
 * serialized origin (`scheme://host[:port]`), never `null` and never a malformed value.
 */
export type CorsOriginFunction = (origin: string, request: unknown) => boolean | Promise<boolean>;

/** An exact origin, a pattern (`https://*.example.com`, `http://localhost:*`) or an anchored RegExp. */
export type CorsOriginEntry = string | RegExp;

export type CorsOrigin = '*' | CorsOriginEntry | CorsOriginEntry[] | CorsOriginFunction;

/** Reject cross-origin requests the policy does not allow: `'unsafe'` methods only, `'all'`, or never (`false`). */
export type CorsEnforce = 'unsafe' | 'all' | false;

/** One CORS policy. Every field is optional; what is left out comes from the level above, then the defaults. */
export interface CorsOptions {
  /** Who may read responses cross-origin. Default `[]`: nobody. */
  origin?: CorsOrigin;
  /**
   * Seconds to remember a function origin's answer for each origin (at most 1,000 origins; errors are never
   * remembered). Default `0`: ask the function on every request. Ignored for other kinds of `origin`.
   */
  originCacheTtl?: number;
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
  /** Answer `Access-Control-Request-Private-Network` for allowed origins. Default `false`. */
  allowPrivateNetwork?: boolean;
  /** CSRF protection: reject disallowed cross-origin requests with 403 before the handler runs. Default `'unsafe'`. */
  enforce?: CorsEnforce;
}

/** The options of `CorsModule.forRoot()`: the global policy. */
export type CorsModuleOptions = CorsOptions;
