import fc from 'fast-check';
import type { CorsOptions } from '../../src/cors-options.interface.js';

/** Generators shared by the engine and end-to-end properties. */
export const ORIGINS = ['https://app.example.com', 'https://admin.example.com', 'http://localhost:3000', 'null'];
export const HEADERS = ['authorization', 'x-request-id', 'x-api-key', 'content-type', 'accept'];
export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];

/** Turns an origin into the near misses attackers try. */
const nearMiss = fc
  .tuple(fc.constantFrom(...ORIGINS), fc.nat(6))
  .map(
    ([origin, how]) =>
      [
        origin.toUpperCase(),
        `${origin}/`,
        `${origin}.evil.com`,
        `${origin}:8443`,
        origin.replace('https:', 'http:'),
        `${origin}, https://evil.com`,
        `x${origin}`,
      ][how],
  );
export const requestOrigin = fc.oneof(fc.constantFrom(...ORIGINS), nearMiss, fc.string({ maxLength: 40 }));

export const policyOptions: fc.Arbitrary<CorsOptions> = fc
  .record({
    origin: fc.oneof(fc.constant('*' as const), fc.subarray(ORIGINS)),
    credentials: fc.boolean(),
    methods: fc.oneof(fc.constant('*' as const), fc.subarray(METHODS, { minLength: 1 })),
    allowedHeaders: fc.oneof(fc.constant('*' as const), fc.subarray(HEADERS)),
    exposedHeaders: fc.subarray(['X-Request-Id', 'X-Total-Count']),
  })
  .map((options): CorsOptions => {
    if (options.origin === '*') return { ...options, credentials: false };
    // 'null' with credentials needs its opt-in (DESIGN §4); the engine's answers are what these properties are about.
    return options.credentials && options.origin.includes('null')
      ? { ...options, dangerouslyAllowNullOriginWithCredentials: true }
      : options;
  });

/** Origins an HTTP client can put on the wire as they are (printable ASCII, no surrounding spaces). */
export const sendableOrigin = fc.oneof(
  fc.constantFrom(...ORIGINS),
  nearMiss,
  fc
    .string({ unit: 'grapheme-ascii', maxLength: 40 })
    .filter((text) => /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(text)),
);
