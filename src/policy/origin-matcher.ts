import safeRegex from 'safe-regex2';
import type { IncomingMessage } from 'node:http';
import type { CorsOrigin } from '../cors-options.interface.js';
import { CorsConfigError } from './cors-config.error.js';
import { ORIGIN_FUNCTION_DEFAULTS, type OriginFunctionOptions, SharedOriginFunction } from './origin-function.js';

/**
 * A serialized origin as browsers send it: lower-case scheme and ASCII host, an optional port, nothing else.
 * Anything that is not of this shape (two joined `Origin` values, CR/LF, a path, upper case, a trailing dot, an
 * underscore, userinfo) is never allowed, whatever the policy, so patterns, RegExps and functions only ever see
 * well-formed input.
 */
const SERIALIZED_ORIGIN =
  /^([a-z][a-z0-9+.-]*):\/\/([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::([1-9][0-9]{0,4}))?$/;
const ORIGIN_PATTERN =
  /^([a-z][a-z0-9+.-]*):\/\/(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::([1-9][0-9]{0,4}|\*))?$/;
/** Longer than any real origin (a 253-byte host with scheme and port); longer input is not even compared. */
const MAX_ORIGIN_LENGTH = 300;
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', ws: '80', wss: '443' };

interface OriginPattern {
  scheme: string;
  /** `.example.com` for `*.example.com`, else undefined and `host` must be equal. */
  suffix: string | undefined;
  host: string;
  /** `'*'` any port, `''` none, or the port itself. */
  port: string;
}

/** Compiled once from the `origin` option; answers for each request's `Origin` by comparison only. */
export class OriginMatcher {
  private constructor(
    /** `origin: '*'`: every origin, and the answer never depends on the request. */
    readonly any: boolean,
    private readonly exact: ReadonlySet<string>,
    private readonly patterns: readonly OriginPattern[],
    private readonly regexps: readonly RegExp[],
    private readonly fn: SharedOriginFunction | undefined,
  ) {}

  /** `functionOptions` only matter for a function origin; left out, they are the defaults of `CorsOptions`. */
  static compile(origin: CorsOrigin, location: string, functionOptions: Partial<OriginFunctionOptions> = {}): OriginMatcher {
    if (origin === '*') return new OriginMatcher(true, new Set(), [], [], undefined);
    if (typeof origin === 'function') {
      const fn = SharedOriginFunction.for(origin, { ...ORIGIN_FUNCTION_DEFAULTS, ...functionOptions });
      return new OriginMatcher(false, new Set(), [], [], fn);
    }
    if ((origin as unknown) === true) {
      throw new CorsConfigError(location, `origin: true (reflect every origin) is not supported: list the origins, or use '*'`);
    }
    const entries = Array.isArray(origin) ? origin : [origin];
    const exact = new Set<string>();
    const patterns: OriginPattern[] = [];
    const regexps: RegExp[] = [];
    for (const entry of entries) {
      if (entry instanceof RegExp) regexps.push(checkRegExp(entry, location));
      else if (typeof entry !== 'string') throw new CorsConfigError(location, `origin entries must be strings or RegExps, got ${typeof entry}`);
      else if (entry === '*') throw new CorsConfigError(location, `origin '*' must stand alone, not inside an array`);
      else if (entry.includes('*')) patterns.push(parsePattern(entry, location));
      else exact.add(checkOrigin(entry, location));
    }
    return new OriginMatcher(false, exact, patterns, regexps, undefined);
  }

  /**
   * Whether `origin` (the request's single `Origin` value) may have access. Only a function origin can be async; it
   * throws or rejects when the function or its `originCacheKey` does, or does not answer within `originTimeout`
   * (`OriginTimeoutError`), and the caller denies.
   */
  matches(origin: string, request: IncomingMessage): boolean | Promise<boolean> {
    if (this.any) return true;
    if (this.exact.has(origin)) return true;
    if (origin.length > MAX_ORIGIN_LENGTH) return false;
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

/** Checks that a configured origin is written exactly as a browser would send it, naming what is wrong. */
function checkOrigin(origin: string, location: string): string {
  if (origin === 'null') return origin;
  const problem = describeOriginProblem(origin);
  if (problem !== undefined) throw new CorsConfigError(location, `origin '${origin}' ${problem}`);
  return origin;
}

function describeOriginProblem(origin: string): string | undefined {
  if (/\s/.test(origin)) return 'contains whitespace';
  if (/[^\x21-\x7e]/.test(origin)) return 'is not ASCII: write the host in punycode (xn--...)';
  if (origin !== origin.toLowerCase()) return 'has upper case: browsers send scheme and host in lower case';
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)(.*)$/.exec(origin);
  if (authority === null) return 'is not of the form scheme://host[:port]';
  if (authority[1].includes('@')) return 'has userinfo (user@): origins never carry it';
  if (authority[2] !== '') return `has a path, query or trailing slash ('${authority[2]}'): an origin is scheme://host[:port] only`;
  const parts = SERIALIZED_ORIGIN.exec(origin);
  if (parts === null) return 'is not of the form scheme://host[:port]';
  if (parts[3] !== undefined && DEFAULT_PORTS[parts[1]] === parts[3]) {
    return `has the default port :${parts[3]}: browsers leave it out, so it would never match`;
  }
  return undefined;
}

function parsePattern(pattern: string, location: string): OriginPattern {
  const parts = ORIGIN_PATTERN.exec(pattern);
  const fail = (why: string) => new CorsConfigError(location, `origin pattern '${pattern}' ${why}`);
  if (parts === null) {
    throw fail(`is not supported: use 'https://*.example.com' (subdomains) or 'http://localhost:*' (any port)`);
  }
  const [, scheme, wildcardLabel, host, port = ''] = parts;
  if (wildcardLabel !== undefined && !host.includes('.') && host !== 'localhost') {
    throw fail(`would allow a whole top-level domain`);
  }
  if (port !== '*' && port !== '' && DEFAULT_PORTS[scheme] === port) throw fail(`has the default port :${port}`);
  return { scheme, suffix: wildcardLabel === undefined ? undefined : `.${host}`, host, port };
}

function checkRegExp(regexp: RegExp, location: string): RegExp {
  const fail = (why: string) => new CorsConfigError(location, `origin RegExp ${regexp} ${why}`);
  if (regexp.global || regexp.sticky) throw fail('has the g or y flag: lastIndex makes test() answer differently on each call');
  if (regexp.multiline || !isAnchored(regexp.source)) {
    throw fail('is not anchored: write it as /^...$/ (without the m flag) so a prefix or suffix cannot slip through');
  }
  if (hasBareDot(regexp.source)) {
    throw fail(
      `has a bare '.', which matches any character, not only a dot (app.example.com also matches app-example.com): ` +
        `write \\. or use a pattern string such as 'https://*.example.com'`,
    );
  }
  if (!safeRegex(regexp)) throw fail('can backtrack catastrophically: a hostile Origin could stall the server');
  return regexp;
}

/** The characters of a RegExp source that are syntax (neither escaped nor inside a character class), with their index. */
function* syntaxCharacters(source: string): Generator<[char: string, index: number]> {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === '\\') i++;
    else if (inClass) inClass = char !== ']';
    else if (char === '[') inClass = true;
    else yield [char, i];
  }
}

/** `^...$` with no alternation outside a group: `^a|b$` would match anything ending in `b`. */
function isAnchored(source: string): boolean {
  if (!source.startsWith('^')) return false;
  let depth = 0;
  let last = -1;
  for (const [char, i] of syntaxCharacters(source)) {
    if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (char === '|' && depth === 0) return false;
    last = i;
  }
  // The final `$` must be syntax too, not `\$` or inside a class.
  return last === source.length - 1 && source.endsWith('$');
}

const QUANTIFIERS = new Set(['*', '+', '?', '{']);

/**
 * A `.` that is syntax and not quantified: in an origin that is where a literal dot stands, yet it matches any
 * character. Followed by a quantifier (`.*`, `.+`, `.?`, `.{2}`) it clearly means "anything" and is left alone.
 */
function hasBareDot(source: string): boolean {
  for (const [char, i] of syntaxCharacters(source)) {
    if (char === '.' && !QUANTIFIERS.has(source[i + 1])) return true;
  }
  return false;
}
