import { type DynamicModule, Global, Module, type NestModule } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import { CORS_OPTIONS, ConfigurableCorsModule } from './cors.module-definition.js';
import { CorsGuard } from './cors.guard.js';
import { CorsInterceptor } from './cors.interceptor.js';
import { CorsMiddleware } from './cors.middleware.js';
import type { CorsModuleOptions } from './cors-options.interface.js';
import { CorsPolicies } from './cors-policies.service.js';

/**
 * Per-endpoint CORS. Import it once, with `forRoot()` or `forRootAsync()`: it is global, and installs the preflight
 * middleware for every route and method, the enforcing guard and the header interceptor.
 */
@Global()
@Module({
  providers: [
    CorsPolicies,
    CorsMiddleware,
    { provide: APP_GUARD, useClass: CorsGuard },
    { provide: APP_INTERCEPTOR, useClass: CorsInterceptor },
  ],
  exports: [CORS_OPTIONS],
})
export class CorsModule extends ConfigurableCorsModule implements NestModule {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly middleware: CorsMiddleware,
  ) {
    super();
  }

  /** The global policy; with no options, nothing is allowed cross-origin. */
  static forRoot(options: CorsModuleOptions = {}): DynamicModule {
    return super.forRoot(options);
  }

  /**
   * Binds the middleware on the adapter itself, for every request, when Nest configures middleware (before any route
   * is registered). `MiddlewareConsumer.forRoutes('*')` would mount it under the global prefix only, leaving
   * preflights and 404s of paths outside the prefix unanswered.
   */
  configure(): void {
    this.adapterHost.httpAdapter.use(this.middleware.use.bind(this.middleware));
  }
}
