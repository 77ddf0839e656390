import { Injectable } from '@nestjs/common';
import type { CorsModuleOptions } from './cors-options.interface.js';
import { CorsRejections } from './cors-rejections.service.js';
import { CorsRoutes } from './cors-routes.service.js';

/**
 * Changes the app's CORS configuration while it serves, without a deploy: a new partner, a tenant's custom domain.
 * `app.get(CorsReconfigurer)`, or inject it.
 */
@Injectable()
export class CorsReconfigurer {
  constructor(
    private readonly routes: CorsRoutes,
    private readonly rejections: CorsRejections,
  ) {}

  /**
   * Replaces what `forRoot` (or `forRootAsync`) configured: the global policy, the named `policies` and the `paths`,
   * and `onRejection` where `options` gives one. Every route's policy is resolved again over them, as at startup, from
   * the `@Cors()` of its code, which does not change; what a test overrides (`CORS_OVERRIDES`, `CORS_OPTIONS`) still
   * applies over them. Validated as at startup, and all or nothing: a mistake throws a `CorsConfigError` naming where
   * it is (`reconfigure()`, `reconfigure() policy 'partner'`, `PartnerController.update`) and changes nothing. Else
   * the requests that arrive from then on are decided under the new configuration, and those in flight finish under
   * the one they started with. The origin functions start with nothing remembered.
   */
  reconfigure(options: CorsModuleOptions): void {
    const { onRejection } = options;
    this.routes.reconfigure(options);
    this.rejections.reconfigure(onRejection);
  }

  /**
   * Forgets what origin functions (`originCacheTtl`) remember about `origin`, or about every origin, and their calls in
   * flight for it: the next request asks the function again. For a function that reads a table whose row just changed.
   */
  forgetOrigin(origin?: string): void {
    this.routes.current.policies.originFunctions.forget(origin);
  }
}
