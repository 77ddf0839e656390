import type { Server } from 'node:http';
import { type DynamicModule, Global, Logger, Module, type NestModule } from '@nestjs/common';
import { type AbstractHttpAdapter, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import type { AdapterBinding } from './adapters/adapter-binding.js';
import { adapterBinding } from './adapters/binding-for.js';
import { CORS_LOGGER_CONTEXT, CORS_OPTIONS_SOURCE } from './cors.constants.js';
import { CorsAudit } from './cors-audit.service.js';
import { CorsFrontDoor } from './cors-front-door.js';
import {
  ASYNC_OPTIONS_TYPE,
  CORS_MODULE_OPTIONS,
  CORS_OPTIONS,
  CORS_OVERRIDES,
  ConfigurableCorsModule,
} from './cors.module-definition.js';
import type { CorsModuleOptions } from './cors-options.interface.js';
import { CorsRejections } from './cors-rejections.service.js';
import { CorsPolicies } from './cors-policies.service.js';
import { CorsReconfigurer } from './cors-reconfigurer.service.js';
import { CorsRoutes } from './cors-routes.service.js';
import { CorsUpgrades } from './cors-upgrades.js';
import { HeaderOverrides } from './header-overrides.js';
import { importsModule } from './nest-internals.js';
import { OriginChecks } from './origin-checks.service.js';
import { CorsConfigError } from './policy/cors-config.error.js';

/**
 * Per-endpoint CORS. Import it once, with `forRoot()` or `forRootAsync()`: it is global, and puts its front door
 * ahead of everything else the app runs, for every path and method: first among the HTTP server's `request`
 * listeners, and first inside the adapter for requests that reach it otherwise; and ahead of every `upgrade`
 * listener (WebSocket gateways).
 */
@Global()
@Module({
  providers: [
    // Its own provider, so that a test can replace it and the app's own options stay known (see `CORS_OPTIONS`).
    {
      provide: CORS_OPTIONS,
      useFactory: (options: CorsModuleOptions | undefined) => options,
      inject: [CORS_MODULE_OPTIONS],
    },
    { provide: CORS_OVERRIDES, useValue: {} },
    CorsPolicies,
    CorsRoutes,
    OriginChecks,
    CorsRejections,
    HeaderOverrides,
    CorsFrontDoor,
    CorsUpgrades,
    CorsAudit,
    CorsReconfigurer,
  ],
  exports: [CORS_OPTIONS, CorsAudit, CorsReconfigurer],
})
export class CorsModule extends ConfigurableCorsModule implements NestModule {
  /** How the app's adapter routes and where the front door goes in it; none for an adapter nestjs-cors does not support. */
  private binding: AdapterBinding | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly frontDoor: CorsFrontDoor,
    private readonly upgrades: CorsUpgrades,
    private readonly routes: CorsRoutes,
    private readonly modules: ModulesContainer,
  ) {
    super();
    // The adapter is there from `NestFactory.create()` on (from `createNestApplication()` in a test), before
    // `main.ts` adds anything to it and before `init()` adds the body parsers: the front door goes first.
    adapterHost.init$.subscribe(() => {
      const adapter = adapterHost.httpAdapter;
      const binding = adapterBinding(adapter);
      if (binding === undefined) {
        new Logger(CORS_LOGGER_CONTEXT).error(
          `CorsModule supports the Express and Fastify adapters, not '${adapter.getType()}': CORS is not handled`,
        );
        return;
      }
      frontDoor.bindInside(binding);
      this.binding = binding;
      warnOnEnableCors(adapter);
    });
  }

  /** The global policy; with no options, nothing is allowed cross-origin. */
  static forRoot(options: CorsModuleOptions = {}): DynamicModule {
    return super.forRoot(options);
  }

  /** Options from a factory (`ConfigService`, env), resolved when the app starts; errors in them name `forRootAsync`. */
  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    const module = super.forRootAsync(options);
    return {
      ...module,
      providers: [...(module.providers ?? []), { provide: CORS_OPTIONS_SOURCE, useValue: 'forRootAsync' }],
    };
  }

  /**
   * Nest configures middleware after `main.ts` has set the prefix and versioning, after it has connected the
   * WebSocket gateways to their servers, and before it registers routes. The HTTP server exists by then in every
   * bootstrap (`NestFactory.create()` makes it after the modules, a testing module before), with the adapter's app or
   * router (and engine.io's listener) as its `request` listeners: the front door goes ahead of them, and ahead of
   * every `upgrade` listener.
   */
  configure(): void {
    checkImportedOnce(this.modules);
    this.routes.build(this.binding);
    const server: Server | undefined = this.adapterHost.httpAdapter?.getHttpServer();
    if (server === undefined || this.binding === undefined) return;
    this.frontDoor.bindServer(server);
    this.upgrades.bindServer(server);
  }
}

/**
 * Two imports with different options make two front doors that answer the same requests with different policies (a
 * preflight passes one, its request fails the other). One import, with `@Cors()` and named policies for the rest.
 */
function checkImportedOnce(modules: ModulesContainer): void {
  if ([...modules.values()].filter((module) => module.metatype === CorsModule).length < 2) return;
  // Declared imports only: Nest links a global module into every module.
  const importers = [...modules.values()]
    .filter((module) => importsModule(module.metatype, CorsModule))
    .map((module) => module.metatype.name);
  throw new CorsConfigError(
    'CorsModule',
    `imported more than once, by ${importers.join(' and ')}: import it once, in the root module, and use @Cors() or named ` +
      `policies (forRoot({ policies })) for the endpoints that differ`,
  );
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
