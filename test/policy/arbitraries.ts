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

const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

export const policyOptions: fc.Arbitrary<CorsOptions> = fc
  .record({
    origin: fc.oneof(fc.constant('*' as const), fc.subarray(ORIGINS)),
    writeOrigin: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 2 },
      fc.constant('*' as const),
      fc.subarray(ORIGINS),
    ),
    credentials: fc.boolean(),
    methods: fc.oneof(fc.constant('*' as const), fc.subarray(METHODS, { minLength: 1 })),
    allowedHeaders: fc.oneof(fc.constant('*' as const), fc.subarray(HEADERS)),
    exposedHeaders: fc.subarray(['X-Request-Id', 'X-Total-Count']),
    trustedWriters: fc.subarray(ORIGINS),
  })
  .map(({ writeOrigin, trustedWriters, ...options }): CorsOptions => {
    const credentials = options.credentials && options.origin !== '*';
    const writes = options.methods === '*' || options.methods.some((method) => !SAFE_METHODS.includes(method));
    // '*' with a write method needs writeOrigin, and '*' with credentials is refused for writes as for reads (DESIGN §4).
    if ((writeOrigin === undefined && options.origin === '*' && writes) || (writeOrigin === '*' && credentials))
      writeOrigin = trustedWriters;
    const listed = [options.origin, writeOrigin ?? []].flat();
    return {
      ...options,
      credentials,
      ...(writeOrigin === undefined ? {} : { writeOrigin }),
      // 'null' with credentials needs its opt-in (DESIGN §4); the engine's answers are what these properties are about.
      ...(credentials && listed.includes('null') ? { dangerouslyAllowNullOriginWithCredentials: true } : {}),
    };
  });

/** The origins `options` trust with a request with `method` (for a preflight, the method it announces). */
export function trustedWith(options: CorsOptions, method: string): CorsOptions['origin'] {
  return SAFE_METHODS.includes(method) ? options.origin : (options.writeOrigin ?? options.origin);
}

/** Origins an HTTP client can put on the wire as they are (printable ASCII, no surrounding spaces). */
export const sendableOrigin = fc.oneof(
  fc.constantFrom(...ORIGINS),
  nearMiss,
  fc
    .string({ unit: 'grapheme-ascii', maxLength: 40 })
    .filter((text) => /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(text)),
);
