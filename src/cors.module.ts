import { type DynamicModule, Global, Logger, Module, type NestModule } from '@nestjs/common';
import { type AbstractHttpAdapter, HttpAdapterHost } from '@nestjs/core';
import { bindExpress } from './adapters/express.js';
import { bindFastify } from './adapters/fastify.js';
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
      bindFrontDoor(adapterHost.httpAdapter, frontDoor);
      warnOnEnableCors(adapterHost.httpAdapter);
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

function bindFrontDoor(adapter: AbstractHttpAdapter, frontDoor: CorsFrontDoor): void {
  const type = adapter.getType();
  if (type === 'express') bindExpress(adapter.getInstance(), frontDoor);
  else if (type === 'fastify') bindFastify(adapter.getInstance(), frontDoor);
  else new Logger(CORS_LOGGER_CONTEXT).error(`CorsModule supports the Express and Fastify adapters, not '${type}': CORS is not handled`);
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
