import { type DynamicModule, Global, Logger, Module, type NestModule } from '@nestjs/common';
import { type AbstractHttpAdapter, HttpAdapterHost } from '@nestjs/core';
import { adapterBinding } from './adapters/adapter-binding.js';
import { CORS_LOGGER_CONTEXT } from './cors.constants.js';
import { CorsFrontDoor } from './cors-front-door.js';
import { CORS_OPTIONS, ConfigurableCorsModule } from './cors.module-definition.js';
import type { CorsModuleOptions } from './cors-options.interface.js';
import { CorsPolicies } from './cors-policies.service.js';

/**
 * Per-endpoint CORS. Import it once, with `forRoot()` or `forRootAsync()`: it is global, and puts its front door
 * ahead of everything else the app runs, for every path and method.
 */
@Global()
@Module({
  providers: [CorsPolicies, CorsFrontDoor],
  exports: [CORS_OPTIONS],
})
export class CorsModule extends ConfigurableCorsModule implements NestModule {
  constructor(
    adapterHost: HttpAdapterHost,
    frontDoor: CorsFrontDoor,
    private readonly policies: CorsPolicies,
  ) {
    super();
    // The adapter is there from `NestFactory.create()` on (from `createNestApplication()` in a test), before
    // `main.ts` adds anything to it and before `init()` adds the body parsers: the front door goes first.
    adapterHost.init$.subscribe(() => {
      const adapter = adapterHost.httpAdapter;
      const binding = adapterBinding(adapter);
      if (binding === undefined) {
        new Logger(CORS_LOGGER_CONTEXT).error(`CorsModule supports the Express and Fastify adapters, not '${adapter.getType()}': CORS is not handled`);
        return;
      }
      binding.bind(frontDoor);
      policies.useAdapter(binding);
      warnOnEnableCors(adapter);
    });
  }

  /** The global policy; with no options, nothing is allowed cross-origin. */
  static forRoot(options: CorsModuleOptions = {}): DynamicModule {
    return super.forRoot(options);
  }

  /** Nest configures middleware after `main.ts` has set the prefix and versioning, and before it registers routes. */
  configure(): void {
    this.policies.compileRoutes();
  }
}

/**
 * `app.enableCors()` and the `cors` application option install a second, global CORS layer through the adapter's
 * `enableCors()`: it answers the same requests with its own policy. Say so once, at startup, where the developer
 * looks.
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
