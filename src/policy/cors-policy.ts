import type { CorsEnforce, CorsOptions, CorsRejectionReason } from '../cors-options.interface.js';
import { CorsConfigError } from './cors-config.error.js';
import { isToken, parseHeaderList } from './http-tokens.js';
import type { OriginFunctions } from './origin-function.js';
import { OriginMatcher } from './origin-matcher.js';
import { OriginFindings } from './origin-safety.js';
import { CORS_DEFAULTS, type OptionSources, type ResolvedCorsOptions, validateOptions } from './validate-options.js';
import { SAFE_METHODS } from './request-facts.js';

export type { OptionSources, ResolvedCorsOptions } from './validate-options.js';

/** CORS-safelisted request headers: always allowed, and always listed so the answer is explicit. */
const SAFELISTED_HEADERS = ['accept', 'accept-language', 'content-language', 'content-type'];

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

/**
 * One endpoint's CORS policy, validated and compiled once at bootstrap. Every header value that does not echo the
 * request is computed here; a request only compares.
 */
export class CorsPolicy {
  /**
   * `Vary` tokens of the responses this policy answers, for safe methods (`vary`) and the others (`writeVary`);
   * preflights, which may announce either, vary on `Origin` where either does, and on the request-method and -headers.
   */
  readonly vary: readonly string[];
  readonly writeVary: readonly string[];
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
  /**
   * Those of a preflight for a safe method where `writeOrigin` is not `origin`: only the safe methods are listed, so
   * that the preflight cache of an origin trusted with reads alone holds no write method, and a write that needs a
   * preflight is preflighted (and rejected). A POST with safelisted headers needs none: `enforce` refuses that one.
   */
  private readonly readPreflightHeaders: CorsHeaders;
  private readonly actualHeaders: CorsHeaders;
  private readonly anyOriginHeaders: CorsHeaders;

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
    const writeFindings = new OriginFindings(resolved);
    const writes =
      resolved.writeOrigin === undefined
        ? origins
        : OriginMatcher.check(resolved.writeOrigin, writeFindings, resolved, originFunctions);
    const error = CorsConfigError.of(location, [
      ...problems,
      ...findings.problems,
      ...writeFindings.problems.map(inWriteOrigin),
    ]);
    if (error !== undefined || origins === undefined || writes === undefined) throw error;
    return new CorsPolicy(resolved, origins, writes, sources);
  }

  /**
   * @param options every field, defaults included, as validated
   * @param origins who may send requests with a safe method (reads)
   * @param writes who may send requests with any other method: `origins` itself where `writeOrigin` is not given
   * @param sources where each field not left to its default came from (`forRoot`, `policy 'partner'`, a controller)
   */
  private constructor(
    readonly options: Readonly<ResolvedCorsOptions>,
    readonly origins: OriginMatcher,
    readonly writes: OriginMatcher,
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
    this.vary = origins.any ? [] : ['Origin'];
    this.writeVary = writes.any ? [] : ['Origin'];
    this.preflightVary = [
      ...(origins.any && writes.any ? [] : ['Origin']),
      'Access-Control-Request-Method',
      'Access-Control-Request-Headers',
    ];

    const credentials = options.credentials ? [['access-control-allow-credentials', 'true'] as const] : [];
    this.actualHeaders = [
      ...credentials,
      ...(options.exposedHeaders.length > 0
        ? [['access-control-expose-headers', unique(options.exposedHeaders).join(', ')] as const]
        : []),
    ];
    this.anyOriginHeaders = [['access-control-allow-origin', '*'], ...this.actualHeaders];
    const preflightHeaders = (methods: ReadonlySet<string> | '*'): CorsHeaders => [
      ...credentials,
      ...(methods === '*' ? [] : [['access-control-allow-methods', [...methods].join(', ')] as const]),
      ...(this.allowedHeaders === '*'
        ? []
        : [['access-control-allow-headers', [...this.allowedHeaders].join(', ')] as const]),
      ['access-control-max-age', String(options.maxAge)],
    ];
    this.preflightHeaders = preflightHeaders(this.methods);
    const { methods } = this;
    this.readPreflightHeaders =
      writes === origins || methods === '*'
        ? this.preflightHeaders
        : preflightHeaders(new Set([...methods].filter((method) => SAFE_METHODS.has(method))));
  }

  /** What an opt-in (`dangerouslyAllow...`) let through in this policy, for a warning at startup. */
  get warnings(): readonly string[] {
    return this.writes === this.origins
      ? this.origins.tolerated
      : [...this.origins.tolerated, ...this.writes.tolerated.map(inWriteOrigin)];
  }

  /** Who may send a request with `method`, or announce it in a preflight: `origin` for safe methods, else `writeOrigin`. */
  originsFor(method: string): OriginMatcher {
    return SAFE_METHODS.has(method) ? this.origins : this.writes;
  }

  /** Whether an actual request's method is allowed; HEAD counts as GET. Case-sensitive, as the Fetch spec says. */
  allowsMethod(method: string): boolean {
    return this.methods === '*' || this.methods.has(method);
  }

  /** Why an actual cross-origin request is not allowed, or `undefined` when it is; `originAllowed` by `originsFor(method)`. */
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

  /**
   * `Access-Control-Allow-Origin` for a request with `method`: `*` only where the origins trusted with it are `'*'`
   * (never with credentials), else the origin itself, which they matched: never an origin no list validated.
   */
  allowOrigin(origin: string, method: string): string {
    return this.originsFor(method).any ? '*' : origin;
  }

  /** Headers of an allowed actual request, `Access-Control-Allow-Origin` first. */
  headersForActual(origin: string, method: string): CorsHeaders {
    return [['access-control-allow-origin', this.allowOrigin(origin, method)], ...this.actualHeaders];
  }

  /** The headers of a request with `method` whatever its origin, where `'*'` decides it; else `undefined`. */
  headersForAnyOrigin(method: string): CorsHeaders | undefined {
    return this.originsFor(method).any ? this.anyOriginHeaders : undefined;
  }

  /**
   * The whole preflight decision, in the order Starlette checks it: origin, method, headers. `originAllowed` is the
   * answer of `originsFor(request.requestMethod)`.
   */
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
      ['access-control-allow-origin', this.allowOrigin(request.origin, method)],
      ...(SAFE_METHODS.has(method) ? this.readPreflightHeaders : this.preflightHeaders),
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

function inWriteOrigin(problem: string): string {
  return `writeOrigin: ${problem}`;
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
