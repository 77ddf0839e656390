import type { IncomingMessage } from 'node:http';
import type { CorsOrigin } from '../cors-options.interface.js';
import { CorsConfigError } from './cors-config.error.js';
import {
  ORIGIN_FUNCTION_DEFAULTS,
  type OriginFunctionOptions,
  OriginFunctions,
  type SharedOriginFunction,
} from './origin-function.js';
import { OriginFindings, type OriginSafety, SAFE_BY_DEFAULT } from './origin-safety.js';
import { checkExactOrigin, type OriginPattern, parsePattern, SERIALIZED_ORIGIN } from './origin-syntax.js';
import { checkRegExpOrigin } from './regexp-origin.js';

/** Longer than any real origin (a 253-byte host with scheme and port); longer input is not even compared. */
const MAX_ORIGIN_LENGTH = 300;

/** What compiling an `origin` option takes besides the option: a function origin's settings and what makes an origin safe. */
export type OriginSettings = OriginFunctionOptions & OriginSafety;

/** Compiled once from the `origin` option; answers for each request's `Origin` by comparison only. */
export class OriginMatcher {
  /** Only exact origins: an origin not among them needs no parsing to be refused (a disallowed origin's common case). */
  private readonly exactOnly: boolean;

  private constructor(
    /** `origin: '*'`: every origin, and the answer never depends on the request. */
    readonly any: boolean,
    private readonly exact: ReadonlySet<string>,
    private readonly patterns: readonly OriginPattern[],
    private readonly regexps: readonly RegExp[],
    private readonly fn: SharedOriginFunction | undefined,
    /** What an opt-in (`dangerouslyAllow...`) let through: the startup warnings of this option. */
    readonly tolerated: readonly string[],
  ) {
    this.exactOnly = patterns.length === 0 && regexps.length === 0 && fn === undefined;
  }

  /**
   * Checks and compiles an `origin` option, throwing one `CorsConfigError` with every problem found. `settings` left out
   * are the defaults of `CorsOptions`; the function settings only matter for a function origin.
   */
  static compile(origin: CorsOrigin, location: string, settings: Partial<OriginSettings> = {}): OriginMatcher {
    const findings = new OriginFindings({ credentials: false, ...SAFE_BY_DEFAULT, ...settings });
    const matcher = OriginMatcher.check(origin, findings, settings);
    const error = CorsConfigError.of(location, findings.problems);
    if (error !== undefined || matcher === undefined) throw error;
    return matcher;
  }

  /**
   * Checks an `origin` option into `findings`: the matcher, or `undefined` where it has problems. A function origin
   * shares its calls and answers with the other policies compiled with the same `originFunctions`.
   */
  static check(
    origin: CorsOrigin,
    findings: OriginFindings,
    settings: Partial<OriginSettings> = {},
    originFunctions = new OriginFunctions(),
  ): OriginMatcher | undefined {
    if (origin === '*') return new OriginMatcher(true, new Set(), [], [], undefined, []);
    if (typeof origin === 'function') {
      const fn = originFunctions.for(origin, { ...ORIGIN_FUNCTION_DEFAULTS, ...settings });
      return new OriginMatcher(false, new Set(), [], [], fn, []);
    }
    if ((origin as unknown) === true) {
      findings.problems.push(`origin: true (reflect every origin) is not supported: list the origins, or use '*'`);
      return undefined;
    }
    const entries: unknown[] = Array.isArray(origin) ? origin : [origin];
    const exact = new Set<string>();
    const patterns: OriginPattern[] = [];
    const regexps: RegExp[] = [];
    for (const entry of entries) {
      if (entry instanceof RegExp) {
        checkRegExpOrigin(entry, findings);
        regexps.push(entry);
      } else if (typeof entry !== 'string')
        findings.problems.push(`origin entries must be strings or RegExps, got ${typeof entry}`);
      else if (entry === '*') findings.problems.push(`origin '*' must stand alone, not inside an array`);
      else if (entry.includes('*')) {
        const pattern = parsePattern(entry, findings);
        if (pattern !== undefined) patterns.push(pattern);
      } else {
        checkExactOrigin(entry, findings);
        exact.add(entry);
      }
    }
    if (findings.problems.length > 0) return undefined;
    return new OriginMatcher(false, exact, patterns, regexps, undefined, findings.tolerated);
  }

  /**
   * Whether `origin` (the request's single `Origin` value) may have access. Only a function origin can be async; it
   * throws or rejects when the function or its `originCacheKey` does, or does not answer within `originTimeout`
   * (`OriginTimeoutError`), and the caller denies.
   */
  matches(origin: string, request: IncomingMessage): boolean | Promise<boolean> {
    if (this.any) return true;
    if (this.exact.has(origin)) return true;
    if (this.exactOnly || origin.length > MAX_ORIGIN_LENGTH) return false;
    const parts = SERIALIZED_ORIGIN.exec(origin);
    if (parts === null) return false;
    for (const pattern of this.patterns) {
      if (matchesPattern(pattern, parts[1], parts[2], parts[3] ?? '')) return true;
    }
    for (const regexp of this.regexps) {
      if (regexp.test(origin)) return true;
    }
    return this.fn === undefined ? false : this.fn.ask(origin, request);
  }
}

function matchesPattern(pattern: OriginPattern, scheme: string, host: string, port: string): boolean {
  if (scheme !== pattern.scheme) return false;
  if (pattern.port !== '*' && port !== pattern.port) return false;
  if (pattern.suffix === undefined) return host === pattern.host;
  // At least one whole label before the suffix: never the apex, never `evilexample.com` for `*.example.com`.
  return host.length > pattern.suffix.length && host.endsWith(pattern.suffix);
}
