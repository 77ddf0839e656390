import { SetMetadata } from '@nestjs/common';
import { CORS_METADATA } from './cors.constants.js';
import type { CorsOptions } from './cors-options.interface.js';

/**
 * Overrides the global CORS policy for a controller or a route, field by field (route > controller > `forRoot`
 * > defaults). `@Cors(false)` closes the endpoint to every cross-origin request. Validated at bootstrap.
 */
export const Cors = (options: CorsOptions | false): ClassDecorator & MethodDecorator =>
  SetMetadata(CORS_METADATA, options);
