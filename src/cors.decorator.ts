import { SetMetadata } from '@nestjs/common';
import { CORS_METADATA } from './cors.constants.js';
import type { CorsOptions, CorsPolicyName } from './cors-options.interface.js';

/** What `@Cors()` leaves on a controller or a route. */
export interface CorsMetadata {
  /** A policy from `forRoot({ policies })`. */
  policy?: string;
  options?: CorsOptions | false;
}

/**
 * Overrides the global CORS policy for a controller or a route, field by field: route > controller > named policy >
 * `forRoot` > defaults; arrays replace, they never merge. `@Cors(false)` closes the endpoint to every cross-origin
 * request; `@Cors('partner')` applies a policy of `forRoot({ policies })`, and `@Cors('partner', { ... })` overrides
 * some of its fields. Validated at bootstrap.
 */
export function Cors(options: CorsOptions | false): ClassDecorator & MethodDecorator;
export function Cors(policy: CorsPolicyName, overrides?: CorsOptions): ClassDecorator & MethodDecorator;
export function Cors(
  policyOrOptions: CorsPolicyName | CorsOptions | false,
  overrides?: CorsOptions,
): ClassDecorator & MethodDecorator {
  const metadata: CorsMetadata =
    typeof policyOrOptions === 'string'
      ? { policy: policyOrOptions, options: overrides }
      : { options: policyOrOptions };
  return SetMetadata(CORS_METADATA, metadata);
}
