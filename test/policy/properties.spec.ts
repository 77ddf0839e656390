import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CorsPolicy } from '../../src/policy/cors-policy.js';
import { HEADERS, METHODS, policyOptions, requestOrigin } from './arbitraries.js';

/** The matcher only hands the request on to a function origin. */
const nodeRequest = {} as IncomingMessage;

/** The same header names, written the many ways a client may write them. */
function respell(names: string[], seed: number[]): string {
  return names
    .flatMap((name, i) => {
      const variant = seed[i % seed.length] ?? 0;
      const cased = variant % 2 === 0 ? name.toUpperCase() : name;
      return variant % 3 === 0 ? [` ${cased}\t`, '', cased] : [cased];
    })
    .join(',');
}

describe('policy engine properties', () => {
  it('ACAO of an accepted preflight is * (never with credentials) or the request origin byte for byte, which the policy allows', () => {
    let accepted = 0;
    fc.assert(
      fc.property(policyOptions, requestOrigin, fc.constantFrom(...METHODS), fc.subarray(HEADERS), (options, origin, method, headers) => {
        const policy = CorsPolicy.compile(options, 'forRoot');
        const originAllowed = policy.origins.matches(origin, nodeRequest) === true;
        const answer = policy.resolvePreflight({ origin, requestMethod: method, requestHeaders: headers.join(', '), privateNetwork: false }, originAllowed);
        if (!answer.accepted) return;
        accepted++;
        const acao = answer.headers.find(([name]) => name === 'access-control-allow-origin')?.[1];
        const credentials = answer.headers.some(([name]) => name === 'access-control-allow-credentials');
        if (acao === '*') {
          expect(options.origin).toBe('*');
          expect(credentials).toBe(false);
        } else {
          expect(acao).toBe(origin);
          expect(Array.isArray(options.origin) && options.origin.includes(origin)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(100); // the property was exercised, not vacuously true
  });

  it('no header value of an answer carries anything but validated text', () => {
    let accepted = 0;
    const method = fc.oneof(fc.constantFrom(...METHODS), fc.string());
    const headers = fc.oneof(fc.subarray(HEADERS).map((names) => names.join(',')), fc.string());
    fc.assert(
      fc.property(policyOptions, requestOrigin, method, headers, (options, origin, method, headers) => {
        const policy = CorsPolicy.compile(options, 'forRoot');
        const answer = policy.resolvePreflight(
          { origin, requestMethod: method, requestHeaders: headers, privateNetwork: true },
          policy.origins.matches(origin, nodeRequest) === true,
        );
        if (!answer.accepted) return;
        accepted++;
        for (const [, value] of answer.headers) expect(value).toMatch(/^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/);
      }),
      { numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it('the decision never depends on header case, spacing, duplicates or empty items', () => {
    fc.assert(
      fc.property(policyOptions, fc.subarray(HEADERS), fc.array(fc.nat(5), { minLength: 1 }), (options, names, seed) => {
        const policy = CorsPolicy.compile({ ...options, origin: ['https://app.example.com'] }, 'forRoot');
        const ask = (requestHeaders: string) =>
          policy.resolvePreflight({ origin: 'https://app.example.com', requestMethod: 'GET', requestHeaders, privateNetwork: false }, true);
        expect(ask(respell(names, seed)).accepted).toBe(ask(names.join(', ')).accepted);
      }),
      { numRuns: 1000 },
    );
  });

  it("varies on Origin exactly when the policy is not '*'", () => {
    fc.assert(
      fc.property(policyOptions, (options) => {
        const policy = CorsPolicy.compile(options, 'forRoot');
        expect(policy.vary.includes('Origin')).toBe(options.origin !== '*');
        expect(policy.preflightVary.includes('Origin')).toBe(options.origin !== '*');
      }),
    );
  });
});
