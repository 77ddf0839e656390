import { type DynamicModule, Global, Logger, Module, type NestModule } from '@nestjs/common';
import { type AbstractHttpAdapter, APP_GUARD, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { CORS_LOGGER_CONTEXT } from './cors.constants.js';
import { CORS_OPTIONS, ConfigurableCorsModule } from './cors.module-definition.js';
import { CorsGuard } from './cors.guard.js';
import { CorsInterceptor, interceptHandlersSettingVary } from './cors.interceptor.js';
import { CorsMiddleware } from './cors.middleware.js';
import type { CorsModuleOptions } from './cors-options.interface.js';
import { CorsPolicies } from './cors-policies.service.js';

/**
 * Per-endpoint CORS. Import it once, with `forRoot()` or `forRootAsync()`: it is global, and installs the preflight
 * middleware for every route and method, the enforcing guard, and the `Vary` interceptor on the handlers that
 * need it.
 */
@Global()
@Module({
  providers: [
    CorsPolicies,
    CorsMiddleware,
    CorsInterceptor,
    { provide: APP_GUARD, useClass: CorsGuard },
  ],
  exports: [CORS_OPTIONS],
})
export class CorsModule extends ConfigurableCorsModule implements NestModule {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly middleware: CorsMiddleware,
    modules: ModulesContainer,
  ) {
    super();
    adapterHost.init$.subscribe(() => warnOnEnableCors(adapterHost.httpAdapter));
    interceptHandlersSettingVary(modules);
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

/**
 * `app.enableCors()` and the `cors` application option install a second, global CORS layer through the adapter's
 * `enableCors()`: it answers the same requests with its own policy (and, on Express, preflights before ours).
 * Say so once, at startup, where the developer looks.
 */
function warnOnEnableCors(adapter: AbstractHttpAdapter): void {
  const enableCors = adapter.enableCors.bind(adapter);
  let warned = false;
  adapter.enableCors = (...args: Parameters<AbstractHttpAdapter['enableCors']>) => {
    if (!warned) {
      warned = true;
      new Logger(CORS_LOGGER_CONTEXT).warn(
        'app.enableCors() (or the cors application option) was used together with CorsModule: two CORS layers now ' +
          'answer the same requests and disagree. Remove app.enableCors(); CorsModule handles preflights and headers.',
      );
    }
    return enableCors(...args);
  };
}
