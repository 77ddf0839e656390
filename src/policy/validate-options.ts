import type { CorsOptions } from '../cors-options.interface.js';
import { isToken } from './http-tokens.js';
import { ORIGIN_FUNCTION_DEFAULTS } from './origin-function.js';
import { SAFE_BY_DEFAULT } from './origin-safety.js';
import { SAFE_METHODS } from './request-facts.js';

/** Every option, defaults included: only `originCacheKey` and `writeOrigin` (then `origin`) may be left out. */
export type ResolvedCorsOptions = Required<Omit<CorsOptions, 'originCacheKey' | 'writeOrigin'>> &
  Pick<CorsOptions, 'originCacheKey' | 'writeOrigin'>;

/** Where each field of a merged policy came from, so an error caused by an inherited value can say so. */
export type OptionSources = Partial<Record<keyof CorsOptions, string>>;

/** Restrictive by default, as Starlette's `CORSMiddleware`: nothing is allowed until it is named. */
export const CORS_DEFAULTS: ResolvedCorsOptions = {
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
  ...SAFE_BY_DEFAULT,
};

const OPTION_KEYS = new Set([...Object.keys(CORS_DEFAULTS), 'writeOrigin']);
const BOOLEAN_KEYS = [
  'credentials',
  'preflightContinue',
  'allowPrivateNetwork',
  'reportOnly',
  ...(Object.keys(SAFE_BY_DEFAULT) as Array<keyof typeof SAFE_BY_DEFAULT>),
] as const;
/** Methods browsers upper-case themselves; written in another case in the config they would never match. */
const NORMALIZED_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];
/** Node fires a longer timer at once, which would deny every origin. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Every problem of `options` (merged with the defaults) but those inside `origin` and `writeOrigin`, which `OriginMatcher` checks:
 * all of them, so that one bootstrap reports every mistake of a location. `sources` say where a conflicting field was
 * inherited from.
 */
export function validateOptions(options: ResolvedCorsOptions, location: string, sources: OptionSources): string[] {
  const problems: string[] = [];
  const fail = (problem: string) => void problems.push(problem);
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) fail(`unknown option '${key}' (known: ${[...OPTION_KEYS].join(', ')})`);
  }
  const { origin, credentials, optionsSuccessStatus } = options;
  for (const key of BOOLEAN_KEYS) if (typeof options[key] !== 'boolean') fail(`'${key}' must be true or false`);
  if (![false, 'unsafe', 'all'].includes(options.enforce as never)) fail(`'enforce' must be 'unsafe', 'all' or false`);
  const from = (key: keyof CorsOptions) =>
    sources[key] !== undefined && sources[key] !== location ? ` from ${sources[key]}` : '';
  for (const key of ['origin', 'writeOrigin'] as const) {
    if (options[key] !== '*') continue;
    if (credentials) {
      fail(
        `credentials${from('credentials')} cannot be used with ${key} '*'${from(key)}: list the origins, as browsers refuse '*' with credentials`,
      );
    }
    if (options.allowPrivateNetwork === true) {
      fail(
        `allowPrivateNetwork${from('allowPrivateNetwork')} cannot be used with ${key} '*'${from(key)}: every public site could then reach ` +
          `this server on a private network. List the origins that may`,
      );
    }
  }
  const { methods } = options;
  const unsafe = methods === '*' ? ['*'] : Array.isArray(methods) ? methods.filter((m) => !SAFE_METHODS.has(m)) : [];
  if (origin === '*' && options.writeOrigin === undefined && unsafe.length > 0) {
    fail(
      `origin '*'${from('origin')} with methods ${unsafe.map((method) => `'${method}'`).join(', ')}${from('methods')} ` +
        `would let any site write: '*' lets any site read, not write. Give writeOrigin: ['https://app.example.com'] ` +
        `to trust your own sites with writes, or writeOrigin: '*' to let any site write`,
    );
  }
  for (const key of ['maxAge', 'originCacheTtl'] as const) {
    const seconds = options[key];
    if (!Number.isInteger(seconds) || seconds < 0) fail(`'${key}' must be a whole number of seconds >= 0`);
  }
  const timeout = options.originTimeout;
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_TIMER_MS) {
    fail(`'originTimeout' must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS}`);
  }
  if (options.originCacheKey !== undefined && typeof options.originCacheKey !== 'function') {
    fail(`'originCacheKey' must be a function (origin, request) => string`);
  }
  if (!Number.isInteger(optionsSuccessStatus) || optionsSuccessStatus < 200 || optionsSuccessStatus > 299) {
    fail(`'optionsSuccessStatus' must be a 2xx status`);
  }
  checkNames('methods', options.methods, fail);
  for (const method of Array.isArray(options.methods) ? options.methods : []) {
    const normalized = typeof method === 'string' ? method.toUpperCase() : method;
    if (method !== normalized && NORMALIZED_METHODS.includes(normalized))
      fail(`method '${method}' never matches: browsers send '${normalized}'`);
  }
  checkNames('allowedHeaders', options.allowedHeaders, fail);
  checkNames('exposedHeaders', options.exposedHeaders, fail);
  return problems;
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

function checkNames(key: keyof typeof MISUSED_STAR, value: unknown, fail: (problem: string) => void): void {
  const wildcard = key !== 'exposedHeaders';
  if (wildcard && value === '*') return;
  if (value === '*' || (Array.isArray(value) && value.includes('*'))) return fail(MISUSED_STAR[key]);
  if (!Array.isArray(value)) return fail(`'${key}' must be an array of names${wildcard ? ` or '*'` : ''}`);
  for (const item of value as unknown[]) {
    if (typeof item !== 'string' || !isToken(item))
      fail(`'${key}' has ${JSON.stringify(item)}, which is not a valid name (an RFC 9110 token)`);
  }
}
