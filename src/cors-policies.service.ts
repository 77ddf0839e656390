import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, Logger, type Type } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import { ApplicationConfig, HttpAdapterHost, ModulesContainer, Reflector } from '@nestjs/core';
import type { AdapterBinding } from './adapters/adapter-binding.js';
import { CORS_LOGGER_CONTEXT, CORS_METADATA } from './cors.constants.js';
import { CorsGuard } from './cors.guard.js';
import { CORS_OPTIONS } from './cors.module-definition.js';
import type { CorsModuleOptions, CorsOptions } from './cors-options.interface.js';
import { type AdapterRequest, hostnameOf } from './cors-request.js';
import { CandidatePolicies } from './policy/candidate-policies.js';
import { CorsPolicy, mergeCorsOptions } from './policy/cors-policy.js';
import { type DiscoveredRoute, discoverRoutes } from './routing/discover-routes.js';
import { OriginTimeoutError } from './policy/origin-function.js';
import { type RouteDefinition, RouteTable } from './routing/route-table.js';

type CorsMetadata = CorsOptions | false | undefined;

/** The one guard every handler behind a version filter shares (see `CorsGuard`). */
const VERSIONED_HANDLER_GUARD = new CorsGuard();

/**
 * Every CORS policy of the app, compiled at bootstrap: the global one from `forRoot`, one per distinct `@Cors()`
 * combination, and the route table that tells which applies to a request before Nest has routed it.
 */
@Injectable()
export class CorsPolicies {
  private readonly global: CorsPolicy;
  private readonly logger = new Logger(CORS_LOGGER_CONTEXT);
  /** Compiled policies by controller metadata, then route metadata: one compilation per distinct combination. */
  private readonly compiled = new Map<CorsMetadata, Map<CorsMetadata, CorsPolicy>>();
  /** The last answer of `forHandler` for each handler, so a request does not read metadata again. */
  private readonly byHandler = new WeakMap<Function, { controller: Type; policy: CorsPolicy }>();
  private readonly globalCandidates: CandidatePolicies;
  private readonly candidatesByPolicy = new Map<CorsPolicy, CandidatePolicies>();
  private routes: RouteTable<CandidatePolicies> | undefined;
  private adapter: AdapterBinding | undefined;
  /** Origin functions whose timeout was logged: a stalled backend is worth one warning, not one per request. */
  private readonly slowOriginFunctions = new WeakSet<Function>();

  constructor(
    @Inject(CORS_OPTIONS) private readonly options: CorsModuleOptions | undefined,
    private readonly reflector: Reflector,
    private readonly modules: ModulesContainer,
    private readonly config: ApplicationConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.global = CorsPolicy.compile(mergeCorsOptions(options), 'forRoot');
    this.globalCandidates = this.candidatesOf([this.global]);
  }

  /**
   * Validates every endpoint's policy (a `CorsConfigError` stops the bootstrap), builds the route table and gives the
   * guard to the handlers the table cannot tell apart. Called before Nest registers routes (it reads a handler's
   * guards then), once `main.ts` has set the global prefix and versioning.
   */
  compileRoutes(): void {
    const routes = discoverRoutes(this.modules, this.config, this.adapterHost.httpAdapter);
    const policies = routes.map((route) => this.forHandler(route.controller, route.handler));
    // With one policy for the whole app there is nothing to look up per request.
    if (policies.every((policy) => policy === this.global)) return;

    // Handlers behind a version filter on the same method, path and host are one route to a preflight.
    const definitions: Array<RouteDefinition<CorsPolicy[]>> = [];
    const versionGroups = new Map<string, CorsPolicy[]>();
    const groupOf = (route: DiscoveredRoute) => `${route.method} ${route.path} ${String(route.hosts)}`;
    routes.forEach((route, i) => {
      const group = route.versionFiltered ? versionGroups.get(groupOf(route)) : undefined;
      if (group !== undefined) {
        if (!group.includes(policies[i])) group.push(policies[i]);
        return;
      }
      const value = [policies[i]];
      if (route.versionFiltered) versionGroups.set(groupOf(route), value);
      definitions.push({ ...route, value });
    });
    for (const route of routes) {
      if (route.versionFiltered && versionGroups.get(groupOf(route))!.length > 1) guardHandler(route.handler);
    }
    if (this.adapter === undefined) return;
    this.routes = new RouteTable(
      definitions.map((definition) => ({ ...definition, value: this.candidatesOf(definition.value) })),
      this.adapter.pathMatching(),
    );
    for (const route of this.routes.unsupported) {
      this.logger.warn(`cannot match the path of ${route}; its preflights are answered with the global policy`);
    }
  }

  /** The adapter the front door is bound to: how it routes a request's path. */
  useAdapter(adapter: AdapterBinding): void {
    this.adapter = adapter;
  }

  /** The policy of a controller method: route `@Cors` > controller `@Cors` > `forRoot` > defaults. */
  forHandler(controller: Type, handler: Function): CorsPolicy {
    const known = this.byHandler.get(handler);
    if (known?.controller === controller) return known.policy;
    const policy = this.resolve(controller, handler);
    this.byHandler.set(handler, { controller, policy });
    return policy;
  }

  private resolve(controller: Type, handler: Function): CorsPolicy {
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

  /**
   * The policies of the route a request for `method` at the request's path reaches; the global one where no route
   * matches. The path is read only when the app has more than one policy, the host only when a route is host-bound.
   */
  forRequest(method: string, request: AdapterRequest): CandidatePolicies {
    const routes = this.routes;
    if (routes === undefined) return this.globalCandidates;
    const path = (this.adapter as AdapterBinding).routingPath(request);
    return routes.match(method, path, routes.hostBound ? hostnameOf(request) : undefined) ?? this.globalCandidates;
  }

  private candidatesOf(policies: CorsPolicy[]): CandidatePolicies {
    if (policies.length > 1) return new CandidatePolicies(policies);
    let candidates = this.candidatesByPolicy.get(policies[0]);
    if (candidates === undefined) this.candidatesByPolicy.set(policies[0], (candidates = new CandidatePolicies(policies)));
    return candidates;
  }

  /**
   * Whether `policy` allows `origin`. A function origin that throws, rejects or times out denies, and is logged (a
   * timeout once per function): it never crashes the request.
   */
  isOriginAllowed(policy: CorsPolicy, origin: string, request: IncomingMessage): boolean | Promise<boolean> {
    const denyOnError = (error: unknown) => {
      if (error instanceof OriginTimeoutError) {
        if (!this.slowOriginFunctions.has(error.originFunction)) {
          this.slowOriginFunctions.add(error.originFunction);
          this.logger.error(`${error.message}; denied (later timeouts of this function are logged at debug level)`);
        } else this.logger.debug(`${error.message}; denied`);
        return false;
      }
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

/** Runs before the handler's own guards, after the global and controller ones. */
function guardHandler(handler: Function): void {
  const guards: unknown[] = Reflect.getMetadata(GUARDS_METADATA, handler) ?? [];
  if (!guards.includes(VERSIONED_HANDLER_GUARD)) Reflect.defineMetadata(GUARDS_METADATA, [VERSIONED_HANDLER_GUARD, ...guards], handler);
}
