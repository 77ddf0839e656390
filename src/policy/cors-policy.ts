import type { CorsEnforce, CorsOptions, CorsRejectionReason } from '../cors-options.interface.js';
import { CorsConfigError } from './cors-config.error.js';
import { isToken, parseHeaderList } from './http-tokens.js';
import { ORIGIN_FUNCTION_DEFAULTS } from './origin-function.js';
import { OriginMatcher } from './origin-matcher.js';

/** Every option, defaults included: only `originCacheKey` may be left out. */
export type ResolvedCorsOptions = Required<Omit<CorsOptions, 'originCacheKey'>> & Pick<CorsOptions, 'originCacheKey'>;

/** Restrictive by default, as Starlette's `CORSMiddleware`: nothing is allowed until it is named. */
const CORS_DEFAULTS: ResolvedCorsOptions = {
  origin: [],
  ...ORIGIN_FUNCTION_DEFAULTS,
  methods: ['GET'],
  allowedHeaders: [],
  exposedHeaders: [],
  credentials: false,
  maxAge: 600,
  optionsSuccessStatus: 204,
  preflightContinue: false,
  allowPrivateNetwork: false,
  enforce: 'unsafe',
  reportOnly: false,
};

const OPTION_KEYS = new Set(Object.keys(CORS_DEFAULTS));
/** CORS-safelisted request headers: always allowed, and always listed so the answer is explicit. */
const SAFELISTED_HEADERS = ['accept', 'accept-language', 'content-language', 'content-type'];
/** Methods browsers upper-case themselves; written in another case in the config they would never match. */
const NORMALIZED_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Node fires a longer timer at once, which would deny every origin. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Why a preflight was rejected: any `CorsRejectionReason`. */
export type PreflightRejection = CorsRejectionReason;
/** Why an actual request was not allowed: it carries no headers to refuse. */
export type ActualRejection = Exclude<CorsRejectionReason, 'header not allowed'>;
/**
 * Response headers as `[name, value]` pairs. Names are lower case, as HTTP/2 writes them and Fastify stores them:
 * literal, so that adding one to a header object (Fastify's) reuses the same internal string each time.
 */
export type CorsHeaders = ReadonlyArray<readonly [name: string, value: string]>;

/** What a preflight gets: the status and headers of an accepted one, or the reason it was rejected. */
export type PreflightAnswer =
  | { accepted: true; status: number; headers: CorsHeaders; continue: boolean }
  | { accepted: false; reason: PreflightRejection };

/** The facts of a preflight, read from its headers by the caller. */
export interface PreflightRequest {
  origin: string;
  requestMethod: string;
  requestHeaders: string | string[] | undefined;
  privateNetwork: boolean;
}

/** One level of a policy (`forRoot`, a named policy, a controller, a route) and where it was written. */
export interface PolicyLevel {
  source: string;
  options: CorsOptions | false | undefined;
}

/** Where each field of a merged policy came from, so an error caused by an inherited value can say so. */
export type OptionSources = Partial<Record<keyof CorsOptions, string>>;

/**
 * Combines policy levels field by field, the last one winning: `forRoot, named policy, controller, route`. Arrays
 * replace, they never merge. `false` (from `@Cors(false)`) closes the endpoint to every origin; more specific levels
 * can still reopen it.
 */
export function mergePolicyLevels(levels: readonly PolicyLevel[]): { options: CorsOptions; sources: OptionSources } {
  const options: CorsOptions = {};
  const sources: OptionSources = {};
  for (const { source, options: level } of levels) {
    const fields: CorsOptions = level === false ? { origin: [] } : (level ?? {});
    Object.assign(options, fields);
    for (const key of Object.keys(fields) as Array<keyof CorsOptions>) sources[key] = source;
  }
  return { options, sources };
}

/**
 * One endpoint's CORS policy, validated and compiled once at bootstrap. Every header value that does not echo the
 * request is computed here; a request only compares.
 */
export class CorsPolicy {
  readonly origins: OriginMatcher;
  /** `Vary` tokens of every response this policy answers; preflights add the request-method and -headers ones. */
  readonly vary: readonly string[];
  readonly preflightVary: readonly string[];
  private readonly methods: ReadonlySet<string> | '*';
  private readonly allowedHeaders: ReadonlySet<string> | '*';
  private readonly allowPrivateNetwork: boolean;
  private readonly enforce: CorsEnforce;
  /** Let through, and report, what `enforce` would refuse. */
  readonly reportOnly: boolean;
  private readonly preflightContinue: boolean;
  private readonly optionsSuccessStatus: number;
  private readonly preflightHeaders: CorsHeaders;
  private readonly actualHeaders: CorsHeaders;

  /**
   * Validates `options` (merged with the defaults) and compiles them; throws `CorsConfigError` naming `location`, and
   * where a conflicting field was inherited from (`sources`).
   */
  static compile(options: CorsOptions, location: string, sources: OptionSources = {}): CorsPolicy {
    return new CorsPolicy(validate({ ...CORS_DEFAULTS, ...options }, location, sources), location, sources);
  }

  /**
   * @param options every field, defaults included, as validated
   * @param sources where each field not left to its default came from (`forRoot`, `policy 'partner'`, a controller)
   */
  private constructor(
    readonly options: Readonly<ResolvedCorsOptions>,
    location: string,
    readonly sources: OptionSources,
  ) {
    this.origins = OriginMatcher.compile(options.origin, location, options);
    this.enforce = options.enforce;
    this.reportOnly = options.reportOnly;
    this.preflightContinue = options.preflightContinue;
    this.optionsSuccessStatus = options.optionsSuccessStatus;
    this.allowPrivateNetwork = options.allowPrivateNetwork;
    this.methods = options.methods === '*' ? '*' : new Set(withHead(options.methods));
    this.allowedHeaders =
      options.allowedHeaders === '*' ? '*' : new Set([...SAFELISTED_HEADERS, ...options.allowedHeaders.map(lower)]);
    this.vary = this.origins.any ? [] : ['Origin'];
    this.preflightVary = [...this.vary, 'Access-Control-Request-Method', 'Access-Control-Request-Headers'];

    const credentials = options.credentials ? [['access-control-allow-credentials', 'true'] as const] : [];
    this.actualHeaders = [
      ...credentials,
      ...(options.exposedHeaders.length > 0
        ? [['access-control-expose-headers', unique(options.exposedHeaders).join(', ')] as const]
        : []),
    ];
    this.preflightHeaders = [
      ...credentials,
      ...(this.methods === '*' ? [] : [['access-control-allow-methods', [...this.methods].join(', ')] as const]),
      ...(this.allowedHeaders === '*'
        ? []
        : [['access-control-allow-headers', [...this.allowedHeaders].join(', ')] as const]),
      ['access-control-max-age', String(options.maxAge)],
    ];
  }

  /** Whether an actual request's method is allowed; HEAD counts as GET. Case-sensitive, as the Fetch spec says. */
  allowsMethod(method: string): boolean {
    return this.methods === '*' || this.methods.has(method);
  }

  /** Why an actual cross-origin request is not allowed, or `undefined` when it is. */
  rejectActual(originAllowed: boolean, method: string): ActualRejection | undefined {
    if (!originAllowed) return 'origin not allowed';
    return this.allowsMethod(method) ? undefined : 'method not allowed';
  }

  /**
   * What becomes of a cross-origin request with `method` that the policy does not allow: refused with 403 where it
   * enforces for that method (`'unsafe'`: not GET/HEAD/OPTIONS; `'all'`), let through and reported with `reportOnly`,
   * else only left without CORS headers.
   */
  disallowedOutcome(method: string): 'refused' | 'reported' | 'withheld' {
    if (!(this.enforce === 'all' || (this.enforce === 'unsafe' && !SAFE_METHODS.has(method)))) return 'withheld';
    return this.reportOnly ? 'reported' : 'refused';
  }

  /** `Access-Control-Allow-Origin`: `*` only for `origin: '*'` (never with credentials), else the origin itself. */
  allowOrigin(origin: string): string {
    return this.origins.any ? '*' : origin;
  }

  /** Headers of an allowed actual request, `Access-Control-Allow-Origin` first. */
  headersForActual(origin: string): CorsHeaders {
    return [['access-control-allow-origin', this.allowOrigin(origin)], ...this.actualHeaders];
  }

  /** The whole preflight decision, in the order Starlette checks it: origin, method, headers. */
  resolvePreflight(request: PreflightRequest, originAllowed: boolean): PreflightAnswer {
    if (!originAllowed) return { accepted: false, reason: 'origin not allowed' };
    const method = request.requestMethod;
    if (!isToken(method) || !this.allowsMethod(method)) return { accepted: false, reason: 'method not allowed' };
    const requested = parseHeaderList(request.requestHeaders);
    if (requested === undefined) return { accepted: false, reason: 'header not allowed' };
    const allowed = this.allowedHeaders;
    if (allowed !== '*' && !requested.every((name) => allowed.has(name))) {
      return { accepted: false, reason: 'header not allowed' };
    }
    const headers: Array<readonly [string, string]> = [
      ['access-control-allow-origin', this.allowOrigin(request.origin)],
      ...this.preflightHeaders,
    ];
    // Mirrored values are validated tokens (the method, and each header name), never raw request text.
    if (this.methods === '*') headers.push(['access-control-allow-methods', method]);
    if (allowed === '*') headers.push(['access-control-allow-headers', unique([...SAFELISTED_HEADERS, ...requested]).join(', ')]);
    if (this.allowPrivateNetwork && request.privateNetwork) headers.push(['access-control-allow-private-network', 'true']);
    return { accepted: true, status: this.optionsSuccessStatus, headers, continue: this.preflightContinue };
  }
}

function validate(options: Record<string, unknown>, location: string, sources: OptionSources): ResolvedCorsOptions {
  const fail = (problem: string): never => {
    throw new CorsConfigError(location, problem);
  };
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) fail(`unknown option '${key}' (known: ${[...OPTION_KEYS].join(', ')})`);
  }
  const { origin, methods, allowedHeaders, exposedHeaders, credentials, optionsSuccessStatus } = options;
  for (const key of ['credentials', 'preflightContinue', 'allowPrivateNetwork', 'reportOnly'] as const) {
    if (typeof options[key] !== 'boolean') fail(`'${key}' must be true or false`);
  }
  if (![false, 'unsafe', 'all'].includes(options.enforce as never)) fail(`'enforce' must be 'unsafe', 'all' or false`);
  if (credentials && origin === '*') {
    const from = (key: keyof CorsOptions) => (sources[key] !== undefined && sources[key] !== location ? ` from ${sources[key]}` : '');
    fail(`credentials${from('credentials')} cannot be used with origin '*'${from('origin')}: list the origins, as browsers refuse '*' with credentials`);
  }
  for (const key of ['maxAge', 'originCacheTtl'] as const) {
    const seconds = options[key];
    if (!Number.isInteger(seconds) || (seconds as number) < 0) fail(`'${key}' must be a whole number of seconds >= 0`);
  }
  const timeout = options.originTimeout as number;
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_TIMER_MS) {
    fail(`'originTimeout' must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS}`);
  }
  if (options.originCacheKey !== undefined && typeof options.originCacheKey !== 'function') {
    fail(`'originCacheKey' must be a function (origin, request) => string`);
  }
  if (!Number.isInteger(optionsSuccessStatus) || (optionsSuccessStatus as number) < 200 || (optionsSuccessStatus as number) > 299) {
    fail(`'optionsSuccessStatus' must be a 2xx status`);
  }
  checkNames('methods', methods, fail);
  for (const method of Array.isArray(methods) ? (methods as string[]) : []) {
    const normalized = method.toUpperCase();
    if (method !== normalized && NORMALIZED_METHODS.includes(normalized)) {
      fail(`method '${method}' never matches: browsers send '${normalized}'`);
    }
  }
  checkNames('allowedHeaders', allowedHeaders, fail);
  checkNames('exposedHeaders', exposedHeaders, fail);
  return options as ResolvedCorsOptions;
}

/**
 * `'*'` is a token, so inside an array it would pass as a name and silently mean something else than a wildcard; and
 * exposed headers take no wildcard at all. What each option says instead.
 */
const MISUSED_STAR = {
  methods: `'methods' has '*' inside an array, where it names a method called '*': write methods: '*' to allow every method`,
  allowedHeaders: `'allowedHeaders' has '*' inside an array, where it names a header called '*': write allowedHeaders: '*' to allow every request header`,
  exposedHeaders: `'exposedHeaders' has '*', which browsers read as a header called '*' on requests with credentials: list the names of the headers to expose`,
};

function checkNames(key: keyof typeof MISUSED_STAR, value: unknown, fail: (problem: string) => never): void {
  const wildcard = key !== 'exposedHeaders';
  if (wildcard && value === '*') return;
  if (value === '*' || (Array.isArray(value) && value.includes('*'))) fail(MISUSED_STAR[key]);
  if (!Array.isArray(value)) fail(`'${key}' must be an array of names${wildcard ? ` or '*'` : ''}`);
  for (const item of value as unknown[]) {
    if (typeof item !== 'string' || !isToken(item)) {
      fail(`'${key}' has ${JSON.stringify(item)}, which is not a valid name (an RFC 9110 token)`);
    }
  }
}

function withHead(methods: string[]): string[] {
  return methods.includes('GET') && !methods.includes('HEAD') ? [...methods, 'HEAD'] : methods;
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

function lower(name: string): string {
  return name.toLowerCase();
}
