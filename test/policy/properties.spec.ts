import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { CorsOptions } from '../../src/cors-options.interface.js';
import { CorsConfigError } from '../../src/policy/cors-config.error.js';
import { CorsPolicy } from '../../src/policy/cors-policy.js';
import { HEADERS, METHODS, policyOptions, requestOrigin, trustedWith } from './arbitraries.js';

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
      fc.property(
        policyOptions,
        requestOrigin,
        fc.constantFrom(...METHODS),
        fc.subarray(HEADERS),
        (options, origin, method, headers) => {
          const policy = CorsPolicy.compile(options, 'forRoot');
          const originAllowed = policy.originsFor(method).matches(origin, nodeRequest) === true;
          const answer = policy.resolvePreflight(
            { origin, requestMethod: method, requestHeaders: headers.join(', '), privateNetwork: false },
            originAllowed,
          );
          if (!answer.accepted) return;
          accepted++;
          const acao = answer.headers.find(([name]) => name === 'access-control-allow-origin')?.[1];
          const credentials = answer.headers.some(([name]) => name === 'access-control-allow-credentials');
          if (acao === '*') {
            expect(trustedWith(options, method)).toBe('*');
            expect(credentials).toBe(false);
          } else {
            expect(acao).toBe(origin);
            const trusted = trustedWith(options, method);
            expect(trusted === '*' || (Array.isArray(trusted) && trusted.includes(origin))).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(100); // the property was exercised, not vacuously true
  });

  it('no header value of an answer carries anything but validated text', () => {
    let accepted = 0;
    const method = fc.oneof(fc.constantFrom(...METHODS), fc.string());
    const headers = fc.oneof(
      fc.subarray(HEADERS).map((names) => names.join(',')),
      fc.string(),
    );
    fc.assert(
      fc.property(policyOptions, requestOrigin, method, headers, (options, origin, method, headers) => {
        const policy = CorsPolicy.compile(options, 'forRoot');
        const answer = policy.resolvePreflight(
          { origin, requestMethod: method, requestHeaders: headers, privateNetwork: true },
          policy.originsFor(method).matches(origin, nodeRequest) === true,
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
      fc.property(
        policyOptions,
        fc.subarray(HEADERS),
        fc.array(fc.nat(5), { minLength: 1 }),
        (options, names, seed) => {
          const policy = CorsPolicy.compile({ ...options, origin: ['https://app.example.com'] }, 'forRoot');
          const ask = (requestHeaders: string) =>
            policy.resolvePreflight(
              { origin: 'https://app.example.com', requestMethod: 'GET', requestHeaders, privateNetwork: false },
              true,
            );
          expect(ask(respell(names, seed)).accepted).toBe(ask(names.join(', ')).accepted);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("varies on Origin exactly when the policy is not '*': reads on origin, writes and preflights on writeOrigin too", () => {
    fc.assert(
      fc.property(policyOptions, (options) => {
        const policy = CorsPolicy.compile(options, 'forRoot');
        const readsVary = options.origin !== '*';
        const writesVary = trustedWith(options, 'POST') !== '*';
        expect(policy.vary.includes('Origin')).toBe(readsVary);
        expect(policy.writeVary.includes('Origin')).toBe(writesVary);
        expect(policy.preflightVary.includes('Origin')).toBe(readsVary || writesVary);
      }),
    );
  });
});

/** Entries a team might write: safe ones, and every kind DESIGN §4 refuses (with credentials, or always). */
const ENTRIES: Array<string | RegExp> = [
  'https://app.example.com',
  'http://localhost:3000',
  'https://*.example.com',
  'http://*.localhost:*',
  'null',
  'http://app.example.com',
  'http://*.example.com',
  'https://*.github.io',
  'https://*.co.uk',
  'https://*.vercel.app',
  /^https:\/\/[a-z0-9-]+\.example\.com$/,
  /^https:\/\/(?:[a-z0-9-]+\.)?example\.com$/,
  /^http:\/\/(?:localhost|127\.0\.0\.1):[0-9]+$/,
  /^https?:\/\/app\.example\.com$/,
  /^https:\/\/(?:[a-z0-9-]+\.)?herokuapp\.com$/,
  /^https:\/\/app.example\.com$/,
  /^https:\/\/app\.example\.com.*$/,
  /^https:\/\/app\.example\.co[a-z]*$/,
];
const OPT_INS: CorsOptions = {
  dangerouslyAllowPublicSuffixWildcards: true,
  dangerouslyAllowNullOriginWithCredentials: true,
  dangerouslyAllowInsecureOriginsWithCredentials: true,
};

/** Origins only a refused configuration lets in: look-alikes always, and with credentials the ones anyone can get. */
const attacks = (label: string) => ({
  always: ['https://app-example.com', `https://app.example.com.${label}.example`, `https://app.example.co${label}`],
  withCredentials: [
    'null',
    `http://${label}.example.com`,
    `http://app.example.com`,
    `https://${label}.github.io`,
    `https://${label}.co.uk`,
    `https://${label}.vercel.app`,
    `https://${label}.herokuapp.com`,
  ],
});

describe('startup validation properties', () => {
  it('no origin a refused configuration would have allowed is allowed by any accepted one', () => {
    const seen = { accepted: 0, acceptedWithCredentials: 0, refused: 0, allowedOnceOptedIn: 0 };
    const label = fc.stringMatching(/^[a-z0-9]{1,12}$/).map((text) => `zz${text}`);
    fc.assert(
      fc.property(fc.subarray(ENTRIES, { minLength: 1 }), fc.boolean(), label, (origin, credentials, fresh) => {
        const { always, withCredentials } = attacks(fresh);
        let policy: CorsPolicy;
        try {
          policy = CorsPolicy.compile({ origin, credentials }, 'forRoot');
        } catch (error) {
          expect(error).toBeInstanceOf(CorsConfigError);
          seen.refused++;
          // The refusal is not vacuous: what the opt-ins would let through includes an attacker's origin.
          const optedIn = (() => {
            try {
              return CorsPolicy.compile({ origin, credentials, ...OPT_INS }, 'forRoot');
            } catch {
              return undefined;
            }
          })();
          if (
            optedIn !== undefined &&
            withCredentials.some((attack) => optedIn.origins.matches(attack, nodeRequest) === true)
          )
            seen.allowedOnceOptedIn++;
          return;
        }
        seen.accepted++;
        if (credentials) seen.acceptedWithCredentials++;
        for (const attack of [...always, ...(credentials ? withCredentials : [])]) {
          expect([attack, policy.origins.matches(attack, nodeRequest)]).toEqual([attack, false]);
        }
      }),
      { numRuns: 1500 },
    );
    expect(seen.accepted).toBeGreaterThan(50);
    expect(seen.acceptedWithCredentials).toBeGreaterThan(10);
    expect(seen.refused).toBeGreaterThan(500);
    expect(seen.allowedOnceOptedIn).toBeGreaterThan(50);
  });
});
