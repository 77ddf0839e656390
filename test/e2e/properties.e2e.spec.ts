import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { All, Controller } from '@nestjs/common';
import fc from 'fast-check';
import request from 'supertest';
import type { CorsOptions } from '../../src/index.js';
import { HEADERS, METHODS, policyOptions, sendableOrigin } from '../policy/arbitraries.js';
import { ADAPTERS, appModule, corsHeaderNames, startApp } from './app.fixture.js';

@Controller('things')
class ThingsController {
  @All() any() {
    return 'ok';
  }
}

const exchange = fc.record({
  preflight: fc.boolean(),
  origin: sendableOrigin,
  method: fc.constantFrom(...METHODS),
  headers: fc.subarray(HEADERS),
});

function allows(options: CorsOptions, origin: string): boolean {
  return Array.isArray(options.origin) && options.origin.includes(origin);
}

describe.each(ADAPTERS)('end-to-end properties on $name ($bootstrap)', (adapter) => {
  it('every response: ACAO absent, * without credentials, or the single request origin the policy allows; rejected preflights carry no CORS header; Vary has Origin unless the policy is *', async () => {
    let allowedSeen = 0;
    await fc.assert(
      fc.asyncProperty(policyOptions, fc.array(exchange, { minLength: 1, maxLength: 6 }), async (options, exchanges) => {
        const app = await startApp(adapter, [appModule({ ...options, enforce: false }, [ThingsController])]);
        try {
          for (const { preflight, origin, method, headers } of exchanges) {
            let req = preflight
              ? request(app.getHttpServer()).options('/things').set('Access-Control-Request-Method', method)
              : request(app.getHttpServer())[method.toLowerCase() as 'get'](`/things`);
            req = req.set('Origin', origin);
            if (preflight && headers.length > 0) req = req.set('Access-Control-Request-Headers', headers.join(', '));
            const res = await req;
            const acao = res.headers['access-control-allow-origin'];
            if (acao === '*') {
              expect(options.origin).toBe('*');
              expect(res.headers['access-control-allow-credentials']).toBeUndefined();
            } else if (acao !== undefined) {
              expect(acao).toBe(origin);
              expect(allows(options, origin)).toBe(true);
            }
            if (acao !== undefined) allowedSeen++;
            if (preflight && res.status === 403) expect(corsHeaderNames(res)).toEqual([]);
            if (options.origin !== '*') expect(res.headers.vary).toContain('Origin');
          }
        } finally {
          await app.close();
        }
      }),
      { numRuns: 100 },
    );
    expect(allowedSeen).toBeGreaterThan(5);
  }, 60_000);
});
