import type { IncomingMessage } from 'node:http';
import { describe, expect, it, jest } from '@jest/globals';
import type { CorsOptions } from '../../src/index.js';
import { CorsPolicy } from '../../src/policy/cors-policy.js';
import { OriginFunctions, OriginTimeoutError } from '../../src/policy/origin-function.js';
import { OriginMatcher } from '../../src/policy/origin-matcher.js';

/** The matcher only hands the request on to a function origin. */
const nodeRequest = {} as IncomingMessage;

/** A function origin that records the origins it is asked about. Each test gets its own: caches are per function. */
function counting(answer: (origin: string) => boolean | Promise<boolean>) {
  const calls: string[] = [];
  return { calls, fn: (origin: string) => (calls.push(origin), answer(origin)) };
}

const never = () => new Promise<boolean>(() => {});

describe('function origins', () => {
  it('receive the origin and the request, sync or async', async () => {
    const seen: Array<[string, unknown]> = [];
    const sync = OriginMatcher.compile(
      (origin, req) => (seen.push([origin, req]), origin === 'https://ok.test'),
      'forRoot',
    );
    expect(sync.matches('https://ok.test', nodeRequest)).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0][0]).toBe('https://ok.test');
    expect(seen[0][1]).toBe(nodeRequest);
    const async = OriginMatcher.compile(async (origin) => origin.endsWith('.ok.test'), 'forRoot');
    await expect(async.matches('https://a.ok.test', nodeRequest)).resolves.toBe(true);
  });

  it('are never asked about malformed or null origins', () => {
    const { calls, fn } = counting(() => true);
    const matcher = OriginMatcher.compile(fn, 'forRoot');
    expect(matcher.matches('null', nodeRequest)).toBe(false);
    expect(matcher.matches('https://a.test/path', nodeRequest)).toBe(false);
    expect(calls).toEqual([]);
  });
});

describe('originTimeout', () => {
  it('denies, by rejecting with an OriginTimeoutError naming the function, when the function never settles', async () => {
    const matcher = OriginMatcher.compile(never, 'forRoot', { originTimeout: 20 });
    const error = await Promise.resolve(matcher.matches('https://a.test', nodeRequest)).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(OriginTimeoutError);
    expect(error).toMatchObject({ originFunction: never, origin: 'https://a.test', timeoutMs: 20 });
    expect((error as Error).message).toBe('origin function never did not answer for "https://a.test" within 20 ms');
  });

  it('never remembers a timeout: the next request asks again', async () => {
    const { calls, fn } = counting(never);
    const matcher = OriginMatcher.compile(fn, 'forRoot', { originCacheTtl: 60, originTimeout: 20 });
    await expect(matcher.matches('https://a.test', nodeRequest)).rejects.toThrow(OriginTimeoutError);
    await expect(matcher.matches('https://a.test', nodeRequest)).rejects.toThrow(OriginTimeoutError);
    expect(calls).toEqual(['https://a.test', 'https://a.test']);
  });

  it('waits with a timer that does not keep the process alive and is stopped when the function answers', async () => {
    jest.useFakeTimers();
    const setTimer = jest.spyOn(globalThis, 'setTimeout');
    try {
      const answer = OriginMatcher.compile(async () => true, 'forRoot').matches('https://a.test', nodeRequest);
      expect(jest.getTimerCount()).toBe(1);
      expect((setTimer.mock.results[0].value as NodeJS.Timeout).hasRef()).toBe(false);
      await expect(answer).resolves.toBe(true);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      setTimer.mockRestore();
      jest.useRealTimers();
    }
  });

  it('does not apply to synchronous answers', () => {
    expect(
      OriginMatcher.compile(() => true, 'forRoot', { originTimeout: 1 }).matches('https://a.test', nodeRequest),
    ).toBe(true);
  });
});

describe('originCacheTtl', () => {
  it('asks the function once per origin within the TTL, then again after it', () => {
    let now = 1_000_000;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      const { calls, fn } = counting((origin) => origin === 'https://ok.test');
      const matcher = OriginMatcher.compile(fn, 'forRoot', { originCacheTtl: 60 });
      expect(matcher.matches('https://ok.test', nodeRequest)).toBe(true);
      expect(matcher.matches('https://ok.test', nodeRequest)).toBe(true);
      expect(matcher.matches('https://no.test', nodeRequest)).toBe(false);
      expect(matcher.matches('https://no.test', nodeRequest)).toBe(false);
      expect(calls).toEqual(['https://ok.test', 'https://no.test']);
      now += 60_001;
      expect(matcher.matches('https://ok.test', nodeRequest)).toBe(true);
      expect(calls).toEqual(['https://ok.test', 'https://no.test', 'https://ok.test']);
    } finally {
      clock.mockRestore();
    }
  });

  it('remembers async answers but never errors', async () => {
    let fail = true;
    const { calls, fn } = counting(async () => {
      if (fail) throw new Error('down');
      return true;
    });
    const matcher = OriginMatcher.compile(fn, 'forRoot', { originCacheTtl: 60 });
    await expect(matcher.matches('https://a.test', nodeRequest)).rejects.toThrow('down');
    fail = false;
    await expect(matcher.matches('https://a.test', nodeRequest)).resolves.toBe(true);
    expect(matcher.matches('https://a.test', nodeRequest)).toBe(true);
    expect(calls).toEqual(['https://a.test', 'https://a.test']);
  });

  it('holds at most 1,000 origins, forgetting the oldest first', () => {
    const { calls, fn } = counting(() => true);
    const matcher = OriginMatcher.compile(fn, 'forRoot', { originCacheTtl: 600 });
    for (let i = 0; i <= 1000; i++) matcher.matches(`https://o${i}.test`, nodeRequest);
    calls.length = 0;
    matcher.matches('https://o1000.test', nodeRequest);
    matcher.matches('https://o1.test', nodeRequest);
    matcher.matches('https://o0.test', nodeRequest);
    expect(calls).toEqual(['https://o0.test']);
  });

  it('shares one lookup among concurrent requests from an origin', async () => {
    let answer!: (allowed: boolean) => void;
    const { calls, fn } = counting(() => new Promise<boolean>((resolve) => (answer = resolve)));
    const matcher = OriginMatcher.compile(fn, 'forRoot', { originCacheTtl: 60 });
    const answers = Array.from({ length: 50 }, () => matcher.matches('https://a.test', nodeRequest));
    expect(calls).toEqual(['https://a.test']);
    answer(true);
    expect(await Promise.all(answers)).toEqual(Array(50).fill(true));
    expect(matcher.matches('https://a.test', nodeRequest)).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it('without a TTL, shares the answer in flight but remembers nothing once it is given', async () => {
    let answer!: (allowed: boolean) => void;
    const { calls, fn } = counting(() => new Promise<boolean>((resolve) => (answer = resolve)));
    const matcher = OriginMatcher.compile(fn, 'forRoot');
    const answers = Array.from({ length: 50 }, () => matcher.matches('https://a.test', nodeRequest));
    expect(calls).toHaveLength(1);
    answer(true);
    expect(await Promise.all(answers)).toEqual(Array(50).fill(true));
    const later = matcher.matches('https://a.test', nodeRequest);
    expect(calls).toHaveLength(2);
    answer(false);
    expect(await later).toBe(false);
  });

  it('forgets one origin, or every one, when told', () => {
    const allowed = new Set(['https://a.test', 'https://b.test']);
    const { calls, fn } = counting((origin) => allowed.has(origin));
    const app = new OriginFunctions();
    const matcher = CorsPolicy.compile({ origin: fn, originCacheTtl: 60 }, 'forRoot', {}, app).origins;
    expect([matcher.matches('https://a.test', nodeRequest), matcher.matches('https://b.test', nodeRequest)]).toEqual([
      true,
      true,
    ]);
    allowed.clear();
    expect(matcher.matches('https://a.test', nodeRequest)).toBe(true);
    app.forget('https://a.test');
    expect(matcher.matches('https://a.test', nodeRequest)).toBe(false);
    expect(matcher.matches('https://b.test', nodeRequest)).toBe(true);
    app.forget();
    expect(matcher.matches('https://b.test', nodeRequest)).toBe(false);
    expect(calls).toEqual(['https://a.test', 'https://b.test', 'https://a.test', 'https://b.test']);
  });

  it('forgets a call in flight: later requests ask again, and its answer, read before the change, is not remembered', async () => {
    const allowed = new Set(['https://a.test']);
    const answers: Array<() => void> = [];
    const { calls, fn } = counting((origin) => {
      const answer = allowed.has(origin);
      return new Promise<boolean>((resolve) => answers.push(() => resolve(answer)));
    });
    const app = new OriginFunctions();
    const matcher = CorsPolicy.compile({ origin: fn, originCacheTtl: 60 }, 'forRoot', {}, app).origins;
    const before = matcher.matches('https://a.test', nodeRequest);
    allowed.clear();
    app.forget('https://a.test');
    const after = matcher.matches('https://a.test', nodeRequest);
    expect(calls).toHaveLength(2);
    const [answerBefore, answerAfter] = answers;
    answerAfter();
    expect(await after).toBe(false);
    answerBefore();
    expect(await before).toBe(true);
    expect(matcher.matches('https://a.test', nodeRequest)).toBe(false);
    expect(calls).toHaveLength(2);
  });

  it('is one cache for every policy of an app with the same function, TTL and timeout, with one bound for all', () => {
    const { calls, fn } = counting(() => true);
    const app = new OriginFunctions();
    const global = CorsPolicy.compile({ origin: fn, originCacheTtl: 60 }, 'forRoot', {}, app).origins;
    const users = CorsPolicy.compile(
      { origin: fn, originCacheTtl: 60, methods: ['POST'] },
      'UsersController.create',
      {},
      app,
    ).origins;
    global.matches('https://a.test', nodeRequest);
    users.matches('https://a.test', nodeRequest);
    expect(calls).toEqual(['https://a.test']);

    // 1,001 origins through the two policies: the first one asked is the one forgotten.
    for (let i = 0; i < 1000; i++) (i % 2 === 0 ? global : users).matches(`https://o${i}.test`, nodeRequest);
    calls.length = 0;
    global.matches('https://o1.test', nodeRequest);
    users.matches('https://o0.test', nodeRequest);
    users.matches('https://a.test', nodeRequest);
    expect(calls).toEqual(['https://a.test']);
  });

  it('is a separate cache for a policy whose TTL or timeout differs', () => {
    const { calls, fn } = counting(() => true);
    const app = new OriginFunctions();
    const ask = (options: CorsOptions) =>
      CorsPolicy.compile({ origin: fn, ...options }, 'forRoot', {}, app).origins.matches('https://a.test', nodeRequest);
    ask({ originCacheTtl: 60 });
    ask({ originCacheTtl: 30 });
    ask({ originCacheTtl: 60, originTimeout: 50 });
    ask({ originCacheTtl: 60 });
    expect(calls).toHaveLength(3);
  });

  it('is a separate cache for each app, or configuration of one (reconfigure)', () => {
    const { calls, fn } = counting(() => true);
    const ask = (app: OriginFunctions) =>
      CorsPolicy.compile({ origin: fn, originCacheTtl: 60 }, 'forRoot', {}, app).origins.matches(
        'https://a.test',
        nodeRequest,
      );
    const before = new OriginFunctions();
    ask(before);
    ask(before);
    ask(new OriginFunctions());
    expect(calls).toHaveLength(2);
  });
});

describe('function origins that read the request', () => {
  const ORIGIN = 'https://a.test';
  /** A request to `host`: what a multi-tenant function reads. */
  const requestTo = (host: string) => ({ headers: { host } }) as IncomingMessage;
  const tenantA = requestTo('tenant-a.test');
  const tenantB = requestTo('tenant-b.test');
  const byHost = (_origin: string, req: IncomingMessage) => req.headers.host ?? '';

  /** Allows `https://a.test` for tenant A only, answering each call when the test calls `answerAll`. */
  function tenantDirectory() {
    const calls: Array<[string, string | undefined]> = [];
    const waiting: Array<() => void> = [];
    const fn = (origin: string, req: IncomingMessage) => {
      calls.push([origin, req.headers.host]);
      return new Promise<boolean>((resolve) =>
        waiting.push(() => resolve(origin === ORIGIN && req.headers.host === 'tenant-a.test')),
      );
    };
    return { calls, fn, answerAll: () => waiting.splice(0).forEach((answer) => answer()) };
  }

  it('are asked for every request: concurrent requests from one origin to two tenants each get their own answer', async () => {
    const { calls, fn, answerAll } = tenantDirectory();
    const matcher = OriginMatcher.compile(fn, 'forRoot');
    const attacker = matcher.matches(ORIGIN, tenantA);
    const victim = matcher.matches(ORIGIN, tenantB);
    expect(calls).toEqual([
      [ORIGIN, 'tenant-a.test'],
      [ORIGIN, 'tenant-b.test'],
    ]);
    answerAll();
    expect(await attacker).toBe(true);
    expect(await victim).toBe(false);
  });

  it('with originCacheTtl but no originCacheKey, share nothing, in flight or remembered', async () => {
    const { calls, fn, answerAll } = tenantDirectory();
    const matcher = OriginMatcher.compile(fn, 'forRoot', { originCacheTtl: 60 });
    const concurrent = [matcher.matches(ORIGIN, tenantA), matcher.matches(ORIGIN, tenantB)];
    answerAll();
    expect(await Promise.all(concurrent)).toEqual([true, false]);
    const victim = matcher.matches(ORIGIN, tenantB);
    answerAll();
    expect(await victim).toBe(false);
    expect(calls).toHaveLength(3);
  });

  it('with originCacheKey, share a call in flight and a remembered answer among requests with the same key only', async () => {
    const { calls, fn, answerAll } = tenantDirectory();
    const matcher = OriginMatcher.compile(fn, 'forRoot', { originCacheTtl: 60, originCacheKey: byHost });
    const answers = [tenantA, tenantB, tenantA, tenantB].map((req) => matcher.matches(ORIGIN, req));
    expect(calls).toEqual([
      [ORIGIN, 'tenant-a.test'],
      [ORIGIN, 'tenant-b.test'],
    ]);
    answerAll();
    expect(await Promise.all(answers)).toEqual([true, false, true, false]);
    expect(matcher.matches(ORIGIN, tenantA)).toBe(true);
    expect(matcher.matches(ORIGIN, tenantB)).toBe(false);
    expect(calls).toHaveLength(2);
  });

  it('with originCacheKey, never share between origins, even when the key leaves the origin out', async () => {
    const { calls, fn, answerAll } = tenantDirectory();
    const matcher = OriginMatcher.compile(fn, 'forRoot', { originCacheTtl: 60, originCacheKey: byHost });
    const allowed = matcher.matches(ORIGIN, tenantA);
    const other = matcher.matches('https://b.test', tenantA);
    expect(calls).toEqual([
      [ORIGIN, 'tenant-a.test'],
      ['https://b.test', 'tenant-a.test'],
    ]);
    answerAll();
    expect([await allowed, await other]).toEqual([true, false]);
  });

  it('throw, without asking the function, when originCacheKey throws or gives no string', () => {
    const { calls, fn } = tenantDirectory();
    const failing = OriginMatcher.compile(fn, 'forRoot', {
      originCacheKey: () => {
        throw new Error('no tenant');
      },
    });
    expect(() => failing.matches(ORIGIN, tenantA)).toThrow('no tenant');
    const forgetful = OriginMatcher.compile(fn, 'forRoot', { originCacheKey: (() => undefined) as never });
    expect(() => forgetful.matches(ORIGIN, tenantA)).toThrow('originCacheKey returned undefined, not a string');
    expect(calls).toEqual([]);
  });

  it('share through one cache for every policy with the same key function, and a separate one for another key function', () => {
    const calls: string[] = [];
    const fn = (origin: string, req: IncomingMessage) => (calls.push(`${req.headers.host}`), origin === ORIGIN);
    const app = new OriginFunctions();
    const global = CorsPolicy.compile(
      { origin: fn, originCacheTtl: 60, originCacheKey: byHost },
      'forRoot',
      {},
      app,
    ).origins;
    const users = CorsPolicy.compile(
      { origin: fn, originCacheTtl: 60, originCacheKey: byHost, methods: ['POST'] },
      'UsersController.create',
      {},
      app,
    ).origins;
    const byHostToo = (_origin: string, req: IncomingMessage) => req.headers.host ?? '';
    const other = CorsPolicy.compile(
      { origin: fn, originCacheTtl: 60, originCacheKey: byHostToo },
      'UsersController.list',
      {},
      app,
    ).origins;
    for (const matcher of [global, users, other]) matcher.matches(ORIGIN, tenantA);
    expect(calls).toEqual(['tenant-a.test', 'tenant-a.test']);
  });
});
