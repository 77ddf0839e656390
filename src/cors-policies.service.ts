import { Inject, Injectable, Logger, type OnModuleInit, type Type } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModulesContainer, Reflector } from '@nestjs/core';
import { CORS_DECISION, CORS_LOGGER_CONTEXT, CORS_METADATA } from './cors.constants.js';
import { CORS_OPTIONS } from './cors.module-definition.js';
import type { CorsModuleOptions, CorsOptions } from './cors-options.interface.js';
import { CorsPolicy, mergeCorsOptions } from './policy/cors-policy.js';
import { discoverRoutes } from './routing/discover-routes.js';
import { RouteTable } from './routing/route-table.js';

type CorsMetadata = CorsOptions | false | undefined;

/** What the middleware decided for a cross-origin request, left on the raw request. */
export interface CorsDecision {
  policy: CorsPolicy;
  originAllowed: boolean;
}

/**
 * Every CORS policy of the app, compiled at bootstrap: the global one from `forRoot`, one per distinct `@Cors()`
 * combination, and the route table that tells which applies to a request before Nest has routed it.
 */
@Injectable()
export class CorsPolicies implements OnModuleInit {
  readonly global: CorsPolicy;
  private readonly logger = new Logger(CORS_LOGGER_CONTEXT);
  /** Compiled policies by controller metadata, then route metadata: one compilation per distinct combination. */
  private readonly compiled = new Map<CorsMetadata, Map<CorsMetadata, CorsPolicy>>();
  private routes: RouteTable<CorsPolicy> | undefined;

  constructor(
    @Inject(CORS_OPTIONS) private readonly options: CorsModuleOptions | undefined,
    private readonly reflector: Reflector,
    private readonly modules: ModulesContainer,
    private readonly config: ApplicationConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.global = CorsPolicy.compile(mergeCorsOptions(options), 'forRoot');
  }

  /** Validates every endpoint's policy (a `CorsConfigError` stops the bootstrap) and builds the route table. */
  onModuleInit(): void {
    const routes = discoverRoutes(this.modules, this.config, this.adapterHost.httpAdapter).map((route) => ({
      ...route,
      value: this.forHandler(route.controller, route.handler),
    }));
    // With one policy for the whole app there is nothing to look up per request.
    if (routes.some((route) => route.value !== this.global)) {
      this.routes = new RouteTable(routes, { caseSensitive: false, strictTrailingSlash: false });
    }
  }

  /** The policy of a controller method: route `@Cors` > controller `@Cors` > `forRoot` > defaults. */
  forHandler(controller: Type, handler: Function): CorsPolicy {
    const onController = this.reflector.get<CorsMetadata>(CORS_METADATA, controller);
    const onRoute = this.reflector.get<CorsMetadata>(CORS_METADATA, handler);
    if (onController === undefined && onRoute === undefined) return this.global;
    let byRoute = this.compiled.get(onController);
    if (byRoute === undefined) this.compiled.set(onController, (byRoute = new Map()));
    let policy = byRoute.get(onRoute);
    if (policy === undefined) {
      const location = `${controller.name}.${handler.name}`;
      policy = CorsPolicy.compile(mergeCorsOptions(this.options, onController, onRoute), location);
      byRoute.set(onRoute, policy);
    }
    return policy;
  }

  /** The policy of the route a request for `method path` reaches; the global one where no route matches. */
  forRequest(method: string, path: string, hostname: string | undefined): CorsPolicy {
    return this.routes?.match(method, path, hostname) ?? this.global;
  }

  /**
   * Whether `policy` allows `origin`, reusing the middleware's answer for the same policy. A function origin that
   * throws or rejects denies, and is logged: it never crashes the request.
   */
  isOriginAllowed(policy: CorsPolicy, origin: string, request: object): boolean | Promise<boolean> {
    const decision = (request as { [CORS_DECISION]?: CorsDecision })[CORS_DECISION];
    if (decision?.policy === policy) return decision.originAllowed;
    const denyOnError = (error: unknown) => {
      this.logger.error(`origin function failed for ${JSON.stringify(origin)}; denied`, error instanceof Error ? error.stack : String(error));
      return false;
    };
    try {
      const allowed = policy.origins.matches(origin, request);
      return typeof allowed === 'boolean' ? allowed : Promise.resolve(allowed).then((value) => value === true, denyOnError);
    } catch (error) {
      return denyOnError(error);
    }
  }
}
