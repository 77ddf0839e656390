import type { CorsEnforce, CorsOptions, CorsRejectionReason } from '../cors-options.interface.js';
import { CorsConfigError } from './cors-config.error.js';
import { isToken, parseHeaderList } from './http-tokens.js';
import type { OriginFunctions } from './origin-function.js';
import { OriginMatcher } from './origin-matcher.js';
import { OriginFindings } from './origin-safety.js';
import { CORS_DEFAULTS, type OptionSources, type ResolvedCorsOptions, validateOptions } from './validate-options.js';

export type { OptionSources, ResolvedCorsOptions } from './validate-options.js';

/** CORS-safelisted request headers: always allowed, and always listed so the answer is explicit. */
const SAFELISTED_HEADERS = ['accept', 'accept-language', 'content-language', 'content-type'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

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
   * Validates `options` (merged with the defaults) and compiles them; throws one `CorsConfigError` naming `location`
   * with every problem found, and where a conflicting field was inherited from (`sources`). A function origin shares
   * its calls and answers with the other policies compiled with the same `originFunctions` (those of one app).
   */
  static compile(
    options: CorsOptions,
    location: string,
    sources: OptionSources = {},
    originFunctions?: OriginFunctions,
  ): CorsPolicy {
    const resolved = { ...CORS_DEFAULTS, ...options };
    const problems = validateOptions(resolved, location, sources);
    const findings = new OriginFindings(resolved);
    const origins = OriginMatcher.check(resolved.origin, findings, resolved, originFunctions);
    const error = CorsConfigError.of(location, [...problems, ...findings.problems]);
    if (error !== undefined || origins === undefined) throw error;
    return new CorsPolicy(resolved, origins, sources);
  }

  /**
   * @param options every field, defaults included, as validated
   * @param sources where each field not left to its default came from (`forRoot`, `policy 'partner'`, a controller)
   */
  private constructor(
    readonly options: Readonly<ResolvedCorsOptions>,
    readonly origins: OriginMatcher,
    readonly sources: OptionSources,
  ) {
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

  /** What an opt-in (`dangerouslyAllow...`) let through in this policy, for a warning at startup. */
  get warnings(): readonly string[] {
    return this.origins.tolerated;
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
    if (allowed === '*')
      headers.push(['access-control-allow-headers', unique([...SAFELISTED_HEADERS, ...requested]).join(', ')]);
    if (this.allowPrivateNetwork && request.privateNetwork)
      headers.push(['access-control-allow-private-network', 'true']);
    return { accepted: true, status: this.optionsSuccessStatus, headers, continue: this.preflightContinue };
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
