import type { IncomingMessage } from 'node:http';
import type { CorsOptions, CorsOriginFunction } from '../cors-options.interface.js';

export type OriginCacheKey = NonNullable<CorsOptions['originCacheKey']>;
export type OriginFunctionOptions = Required<Pick<CorsOptions, 'originCacheTtl' | 'originTimeout'>> &
  Pick<CorsOptions, 'originCacheKey'>;

/** The defaults of the options that only a function origin reads (see `CorsOptions`). */
export const ORIGIN_FUNCTION_DEFAULTS: OriginFunctionOptions = {
  originCacheTtl: 0,
  originTimeout: 1000,
  originCacheKey: undefined,
};

/** Bounds the `originCacheTtl` cache: a client can send endless well-formed origins (and hosts, for a key of them). */
const MAX_CACHED_ANSWERS = 1000;

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
    super(
      `origin function ${originFunction.name || '(anonymous)'} did not answer for ${JSON.stringify(origin)} within ${timeoutMs} ms`,
    );
    this.name = 'OriginTimeoutError';
  }
}

/**
 * The origin functions of one configuration of an app, by function object, then key function, then TTL and timeout:
 * every policy with the same function and options (typically the controllers that inherit `forRoot`'s function) asks
 * through one instance, so the cache bound and the one call per key hold for all of them together, not for each
 * policy. Policies whose options differ get an instance of their own: an answer is only reused under the key, TTL and
 * timeout it was obtained with. A new configuration (`reconfigure()`) compiles with a registry of its own, so that no
 * answer remembered, and no call in flight, under the old one decides a request under the new one.
 */
export class OriginFunctions {
  private readonly byFunction = new Map<
    CorsOriginFunction,
    Map<OriginCacheKey | undefined, Map<string, SharedOriginFunction>>
  >();

  for(
    fn: CorsOriginFunction,
    { originCacheTtl, originTimeout, originCacheKey }: OriginFunctionOptions,
  ): SharedOriginFunction {
    let byCacheKey = this.byFunction.get(fn);
    if (byCacheKey === undefined) this.byFunction.set(fn, (byCacheKey = new Map()));
    let byTimes = byCacheKey.get(originCacheKey);
    if (byTimes === undefined) byCacheKey.set(originCacheKey, (byTimes = new Map()));
    const times = `${originCacheTtl}/${originTimeout}`;
    let instance = byTimes.get(times);
    if (instance === undefined) {
      byTimes.set(
        times,
        (instance = new SharedOriginFunction(fn, originCacheKey, originCacheTtl * 1000, originTimeout)),
      );
    }
    return instance;
  }

  /** Forgets the answers remembered for `origin` (every origin without one), and its calls in flight. */
  forget(origin?: string): void {
    for (const byCacheKey of this.byFunction.values())
      for (const byTimes of byCacheKey.values()) for (const instance of byTimes.values()) instance.forget(origin);
  }
}

/**
 * An origin function with its timeout, its lookups in flight and, with `originCacheTtl`, its answers. An answer
 * belongs to its request: it is shared only among requests the function cannot tell apart. With `originCacheKey`,
 * those with the same origin and key; without it, those with the same origin when the function is declared without
 * the request parameter, and none when it is declared with it.
 */
export class SharedOriginFunction {
  private readonly answers = new Map<string, { allowed: boolean; expires: number }>();
  private readonly pending = new Map<string, Promise<boolean>>();
  /** A function declared with a request parameter, and no key to say what of the request it reads. */
  private readonly answersEachRequest: boolean;

  constructor(
    private readonly fn: CorsOriginFunction,
    private readonly cacheKey: OriginCacheKey | undefined,
    private readonly ttlMs: number,
    private readonly timeoutMs: number,
  ) {
    this.answersEachRequest = cacheKey === undefined && fn.length >= 2;
  }

  /**
   * The function's answer for `origin`. It rejects, uncached, when the function throws, rejects or does not answer in
   * time (`OriginTimeoutError`); it throws when the key function does, or gives no string. While an answer is in
   * flight, every request it is shared with waits for it (50 concurrent requests from an origin make one call); with a
   * TTL the answer is also remembered.
   */
  ask(origin: string, request: IncomingMessage): boolean | Promise<boolean> {
    if (this.answersEachRequest) return this.call(origin, request);
    const key = this.keyOf(origin, request);
    const known = this.answers.get(key);
    if (known !== undefined && known.expires > Date.now()) return known.allowed;
    const inFlight = this.pending.get(key);
    if (inFlight !== undefined) return inFlight;
    const answer = this.call(origin, request);
    if (typeof answer === 'boolean') return this.remember(key, answer);
    const lookup: Promise<boolean> = answer.then(
      (allowed) => (this.settled(key, lookup) ? this.remember(key, allowed) : allowed),
      (error: unknown) => {
        this.settled(key, lookup);
        throw error;
      },
    );
    this.pending.set(key, lookup);
    return lookup;
  }

  /**
   * Forgets the answers remembered for `origin` (every origin without one), and its calls in flight: a request that
   * comes later asks the function again, and what a call in flight answers is not remembered, as it may have read
   * what was just changed. The requests already waiting for that call still get its answer.
   */
  forget(origin?: string): void {
    for (const table of [this.answers, this.pending]) {
      if (origin === undefined) table.clear();
      else for (const key of table.keys()) if (key === origin || key.startsWith(`${origin} `)) table.delete(key);
    }
  }

  /** Whether `lookup` is still the call in flight for `key` (nothing forgot it); it is not in flight any more. */
  private settled(key: string, lookup: Promise<boolean>): boolean {
    if (this.pending.get(key) !== lookup) return false;
    this.pending.delete(key);
    return true;
  }

  /**
   * The origin, then the user's key: a serialized origin has no space, so no two pairs give the same string, and a key
   * that leaves the origin out cannot hand one origin's answer to another.
   */
  private keyOf(origin: string, request: IncomingMessage): string {
    if (this.cacheKey === undefined) return origin;
    const key: unknown = this.cacheKey(origin, request);
    // Any one value for every request (a block-bodied arrow without `return`) would share answers across tenants.
    if (typeof key !== 'string')
      throw new TypeError(`originCacheKey returned ${key === null ? 'null' : typeof key}, not a string`);
    return `${origin} ${key}`;
  }

  /** One call; anything but `true` denies. The timer never keeps the process alive and stops when the function settles. */
  private call(origin: string, request: IncomingMessage): boolean | Promise<boolean> {
    const answer = this.fn(origin, request);
    if (typeof answer === 'boolean') return answer;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new OriginTimeoutError(this.fn, origin, this.timeoutMs)),
        this.timeoutMs,
      ).unref();
      Promise.resolve(answer)
        .then((value) => resolve(value === true), reject)
        .finally(() => clearTimeout(timer));
    });
  }

  /** The oldest entry makes room when full. */
  private remember(key: string, allowed: boolean): boolean {
    if (this.ttlMs === 0) return allowed;
    this.answers.delete(key);
    if (this.answers.size >= MAX_CACHED_ANSWERS) this.answers.delete(this.answers.keys().next().value as string);
    this.answers.set(key, { allowed, expires: Date.now() + this.ttlMs });
    return allowed;
  }
}
