import type { IncomingMessage } from 'node:http';
import type { CorsOptions, CorsOriginFunction } from '../cors-options.interface.js';

export type OriginFunctionOptions = Required<Pick<CorsOptions, 'originCacheTtl' | 'originTimeout'>>;

/** The defaults of the options that only a function origin reads (see `CorsOptions`). */
export const ORIGIN_FUNCTION_DEFAULTS: OriginFunctionOptions = { originCacheTtl: 0, originTimeout: 1000 };

/** Bounds the `originCacheTtl` cache: a client can send endless well-formed origins. */
const MAX_CACHED_ORIGINS = 1000;

/**
 * The rejection of an origin function that did not settle within `originTimeout`; the origin is denied. It names the
 * function so the caller can log a slow function once rather than on every request.
 */
export class OriginTimeoutError extends Error {
  constructor(
    readonly originFunction: CorsOriginFunction,
    readonly origin: string,
    readonly timeoutMs: number,
  ) {
    super(`origin function ${originFunction.name || '(anonymous)'} did not answer for ${JSON.stringify(origin)} within ${timeoutMs} ms`);
    this.name = 'OriginTimeoutError';
  }
}

/**
 * The shared instances, by function object and then by options: every policy with the same function, `originCacheTtl`
 * and `originTimeout` (typically the controllers that inherit `forRoot`'s function) asks through one instance, so the
 * cache bound and the one call per origin hold for all of them together, not for each policy. Policies whose options
 * differ get an instance of their own: an answer is only reused under the TTL and timeout it was obtained with.
 */
const shared = new WeakMap<CorsOriginFunction, Map<string, SharedOriginFunction>>();

/** An origin function with its timeout, its lookups in flight and, with `originCacheTtl`, its answers. */
export class SharedOriginFunction {
  private readonly answers = new Map<string, { allowed: boolean; expires: number }>();
  private readonly pending = new Map<string, Promise<boolean>>();

  private constructor(
    private readonly fn: CorsOriginFunction,
    private readonly ttlMs: number,
    private readonly timeoutMs: number,
  ) {}

  static for(fn: CorsOriginFunction, { originCacheTtl, originTimeout }: OriginFunctionOptions): SharedOriginFunction {
    let byOptions = shared.get(fn);
    if (byOptions === undefined) shared.set(fn, (byOptions = new Map()));
    const key = `${originCacheTtl}/${originTimeout}`;
    let instance = byOptions.get(key);
    if (instance === undefined) byOptions.set(key, (instance = new SharedOriginFunction(fn, originCacheTtl * 1000, originTimeout)));
    return instance;
  }

  /**
   * The function's answer for `origin`. It rejects, uncached, when the function throws, rejects or does not answer in
   * time (`OriginTimeoutError`). While an answer for `origin` is in flight, every request from that origin waits for
   * it (50 concurrent requests make one call); with a TTL the answer is also remembered.
   */
  ask(origin: string, request: IncomingMessage): boolean | Promise<boolean> {
    const known = this.answers.get(origin);
    if (known !== undefined && known.expires > Date.now()) return known.allowed;
    const inFlight = this.pending.get(origin);
    if (inFlight !== undefined) return inFlight;
    const answer = this.call(origin, request);
    if (typeof answer === 'boolean') return this.remember(origin, answer);
    const lookup = answer.then((allowed) => this.remember(origin, allowed)).finally(() => this.pending.delete(origin));
    this.pending.set(origin, lookup);
    return lookup;
  }

  /** One call; anything but `true` denies. The timer never keeps the process alive and stops when the function settles. */
  private call(origin: string, request: IncomingMessage): boolean | Promise<boolean> {
    const answer = this.fn(origin, request);
    if (typeof answer === 'boolean') return answer;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new OriginTimeoutError(this.fn, origin, this.timeoutMs)), this.timeoutMs).unref();
      Promise.resolve(answer)
        .then((value) => resolve(value === true), reject)
        .finally(() => clearTimeout(timer));
    });
  }

  /** The oldest entry makes room when full. */
  private remember(origin: string, allowed: boolean): boolean {
    if (this.ttlMs === 0) return allowed;
    this.answers.delete(origin);
    if (this.answers.size >= MAX_CACHED_ORIGINS) this.answers.delete(this.answers.keys().next().value as string);
    this.answers.set(origin, { allowed, expires: Date.now() + this.ttlMs });
    return allowed;
  }
}
