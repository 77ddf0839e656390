import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { All, Controller } from '@nestjs/common';
import fc from 'fast-check';
import request from 'supertest';
import type { CorsOptions } from '../../src/index.js';
import { HEADERS, METHODS, policyOptions, sendableOrigin, trustedWith } from '../policy/arbitraries.js';
import { ADAPTERS, appModule, corsHeaderNames, handled, recordHandled, startApp } from './app.fixture.js';

@Controller('things')
class ThingsController {
  @All() any() {
    return recordHandled('things.any', 'ok');
  }
}

const exchange = fc.record({
  preflight: fc.boolean(),
  origin: sendableOrigin,
  method: fc.constantFrom(...METHODS),
  headers: fc.subarray(HEADERS),
});
type Exchange = typeof exchange extends fc.Arbitrary<infer T> ? T : never;

/** Whether `options` trust `origin` with `method`: `origin` for reads, `writeOrigin` (else `origin`) for writes. */
function allows(options: CorsOptions, origin: string, method: string): boolean {
  const trusted = trustedWith(options, method);
  return trusted === '*' || (Array.isArray(trusted) && trusted.includes(origin));
}

const SAFELISTED = ['accept', 'accept-language', 'content-language', 'content-type'];

/** What the policy says of an exchange, read from its options alone (as the README's tables state it). */
function verdict(options: CorsOptions, { preflight, origin, method, headers }: Exchange): boolean {
  const { methods = ['GET'], allowedHeaders = [] } = options;
  const originOk = allows(options, origin, method);
  const methodOk = methods === '*' || methods.includes(method);
  const headersOk =
    allowedHeaders === '*' ||
    headers.every((name) => SAFELISTED.includes(name) || allowedHeaders.map((h) => h.toLowerCase()).includes(name));
  return originOk && methodOk && (!preflight || headersOk);
}

/** Each enforcement mode; `undefined` leaves the option out, as most apps do (`'unsafe'`). */
const ENFORCEMENTS: Array<{ name: string; enforce: CorsOptions['enforce'] | undefined }> = [
  { name: 'enforce: false', enforce: false },
  { name: "the default enforcement, 'unsafe'", enforce: undefined },
  { name: "enforce: 'all'", enforce: 'all' },
];
const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

describe.each(ADAPTERS)('end-to-end properties on $name ($bootstrap)', (adapter) => {
  it.each(ENFORCEMENTS)(
    'every response: ACAO absent, * without credentials, or the single request origin the policy allows, and present wherever the policy allows the request; rejected preflights carry no CORS header; Vary has Origin unless the policy is *; a disallowed request is refused (403, no CORS header, handler not run) where the policy enforces, else let through without CORS headers ($name)',
    async ({ enforce }) => {
      let allowedSeen = 0;
      let refusedSeen = 0;
      let withheldSeen = 0;
      await fc.assert(
        fc.asyncProperty(
          policyOptions,
          fc.array(exchange, { minLength: 1, maxLength: 6 }),
          async (options, exchanges) => {
            const app = await startApp(adapter, [
              appModule(enforce === undefined ? options : { ...options, enforce }, [ThingsController]),
            ]);
            try {
              for (const sent of exchanges) {
                const { preflight, origin, method, headers } = sent;
                let req = preflight
                  ? request(app.getHttpServer()).options('/things').set('Access-Control-Request-Method', method)
                  : request(app.getHttpServer())[method.toLowerCase() as 'get'](`/things`);
                req = req.set('Origin', origin);
                if (preflight && headers.length > 0)
                  req = req.set('Access-Control-Request-Headers', headers.join(', '));
                handled.length = 0;
                const res = await req;
                const acao = res.headers['access-control-allow-origin'];
                const trusted = trustedWith(options, method);
                if (acao === '*') {
                  expect(trusted).toBe('*');
                  expect(res.headers['access-control-allow-credentials']).toBeUndefined();
                } else if (acao !== undefined) {
                  expect(acao).toBe(origin);
                  expect(allows(options, origin, method)).toBe(true);
                }
                if (acao !== undefined) allowedSeen++;
                if (preflight && res.status === 403) expect(corsHeaderNames(res)).toEqual([]);
                const readsVary = options.origin !== '*';
                const writesVary = trustedWith(options, 'POST') !== '*';
                const write = !SAFE_METHODS.includes(method);
                if (preflight ? readsVary || writesVary : write ? writesVary : readsVary)
                  expect(res.headers.vary).toContain('Origin');

                if (verdict(options, sent)) {
                  expect(acao).toBe(trusted === '*' ? '*' : origin);
                  if (preflight) {
                    expect(res.status).toBe(204);
                    expect(handled).toEqual([]);
                  } else {
                    expect(res.status).toBeLessThan(300);
                    expect(handled).toEqual(['things.any']);
                  }
                } else if (preflight) {
                  expect(res.status).toBe(403);
                  expect(corsHeaderNames(res)).toEqual([]);
                } else {
                  expect(corsHeaderNames(res)).toEqual([]);
                  const refused = enforce === 'all' || (enforce !== false && !SAFE_METHODS.includes(method));
                  if (refused) {
                    refusedSeen++;
                    expect(res.status).toBe(403);
                    expect(handled).toEqual([]);
                  } else {
                    withheldSeen++;
                    expect(res.status).toBeLessThan(300);
                    expect(handled).toEqual(['things.any']);
                  }
                }
              }
            } finally {
              await app.close();
            }
          },
        ),
        { numRuns: 100 },
      );
      expect(allowedSeen).toBeGreaterThan(5);
      // Each branch above was taken, so none of them holds vacuously.
      if (enforce !== false) expect(refusedSeen).toBeGreaterThan(5);
      if (enforce !== 'all') expect(withheldSeen).toBeGreaterThan(5);
    },
    60_000,
  );
});
