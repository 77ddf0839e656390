import { Inject, Injectable, Logger, Optional, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CORS_LOGGER_CONTEXT, CORS_METADATA, CORS_OPTIONS_SOURCE } from './cors.constants.js';
import type { CorsMetadata } from './cors.decorator.js';
import { CORS_OPTIONS } from './cors.module-definition.js';
import type { CorsModuleOptions, CorsOptions } from './cors-options.interface.js';
import type { DiscoveredRoute } from './nest-internals.js';
import { ConfigErrors, CorsConfigError } from './policy/cors-config.error.js';
import { CorsPolicy, mergePolicyLevels, type OptionSources, type PolicyLevel } from './policy/cors-policy.js';
import type { Endpoint, PathEntry } from './routing/route-index.js';

/**
 * Every CORS policy of the app, compiled and validated at bootstrap: the global one from `forRoot`, the named and path
 * ones, and one per distinct `@Cors()` combination. A policy resolves field by field: route `@Cors` > controller
 * `@Cors` > named policy > `forRoot` > defaults. Every mistake of a bootstrap is reported together.
 */
@Injectable()
export class CorsPolicies {
  readonly global: CorsPolicy;
  readonly pathEntries: readonly PathEntry[];
  private readonly globalLevel: PolicyLevel;
  private readonly named: ReadonlyMap<string, CorsOptions>;
  /** Compiled policies by controller metadata, then route metadata: one compilation per distinct combination. */
  private readonly compiled = new Map<CorsMetadata | undefined, Map<CorsMetadata | undefined, CorsPolicy>>();
  /** The last answer of `forHandler` for each handler, so a request does not read metadata again. */
  private readonly byHandler = new WeakMap<Function, { controller: Type; policy: CorsPolicy }>();
  private readonly warned = new Set<string>();

  constructor(
    @Inject(CORS_OPTIONS) options: CorsModuleOptions | undefined,
    @Optional() @Inject(CORS_OPTIONS_SOURCE) source: string | undefined,
    private readonly reflector: Reflector,
  ) {
    source ??= 'forRoot';
    // `onRejection` is the rejections' (`CorsRejections`), not a policy's.
    const { policies = {}, paths = [], onRejection: _onRejection, ...global } = options ?? {};
    this.globalLevel = { source, options: global };
    this.named = new Map(Object.entries(policies));
    const errors = new ConfigErrors();
    this.global = errors.check(() => this.warn(CorsPolicy.compile(global, source), source)) ?? CorsPolicy.compile({}, source);
    const inherited = errors.problems();
    for (const [name, named] of this.named) {
      errors.check(() => this.compileLevels([this.globalLevel, { source: `${source} policy '${name}'`, options: named }]), inherited);
    }
    const pathEntries: PathEntry[] = [];
    paths.forEach(({ path, policy }, i) => {
      const location = `${source} paths[${i}] (${String(path)})`;
      errors.check(() => {
        if (typeof path !== 'string') throw new CorsConfigError(location, `'path' must be a string`);
        const level = typeof policy === 'string' ? this.namedLevel(policy, location) : { source: location, options: policy };
        pathEntries.push({ path, policy: this.compileLevels([this.globalLevel, level]), location: `${source} paths[${i}]` });
      }, inherited);
    });
    errors.throwIfAny();
    this.pathEntries = pathEntries;
  }

  /** Each controller route with its policy; a mistake in any `@Cors()` stops the bootstrap, all of them reported together. */
  forRoutes(routes: readonly DiscoveredRoute[]): Endpoint[] {
    const errors = new ConfigErrors();
    const endpoints = routes.map(({ method, path, hosts, controller, handler, handlerName, versionFiltered }) => ({
      method,
      path,
      hosts,
      handler: `${controller.name}.${handlerName}`,
      handlerFunction: handler,
      versionFiltered,
      policy: errors.check(() => this.forHandler(controller, handler, handlerName)) ?? this.global,
    }));
    errors.throwIfAny();
    return endpoints;
  }

  /**
   * Where each field of `policy` came from, for the audit. The global policy is compiled without sources (its errors
   * name `forRoot` anyway): each field it sets comes from `forRoot` (or `forRootAsync`).
   */
  sourcesForAudit(policy: CorsPolicy): OptionSources {
    return policy === this.global ? mergePolicyLevels([this.globalLevel]).sources : policy.sources;
  }

  /** The policy of a controller method: route `@Cors` > controller `@Cors` > named policy > `forRoot` > defaults. */
  forHandler(controller: Type, handler: Function, handlerName = handler.name): CorsPolicy {
    const known = this.byHandler.get(handler);
    if (known?.controller === controller) return known.policy;
    const policy = this.resolve(controller, handler, handlerName);
    this.byHandler.set(handler, { controller, policy });
    return policy;
  }

  private resolve(controller: Type, handler: Function, handlerName: string): CorsPolicy {
    const onController = this.reflector.get<CorsMetadata | undefined>(CORS_METADATA, controller);
    const onRoute = this.reflector.get<CorsMetadata | undefined>(CORS_METADATA, handler);
    if (onController === undefined && onRoute === undefined) return this.global;
    let byRoute = this.compiled.get(onController);
    if (byRoute === undefined) {
      // A mistake of the controller's own `@Cors` is reported against the controller, not its first route.
      if (onController !== undefined) this.compileLevels(this.levels(controller.name, onController));
      this.compiled.set(onController, (byRoute = new Map()));
    }
    let policy = byRoute.get(onRoute);
    if (policy === undefined) {
      const location = `${controller.name}.${handlerName}`;
      policy = this.compileLevels(this.levels(controller.name, onController, location, onRoute));
      byRoute.set(onRoute, policy);
    }
    return policy;
  }

  /** The levels of an endpoint's policy, most general first; the last level's source names the endpoint. */
  private levels(controllerName: string, onController: CorsMetadata | undefined, routeName?: string, onRoute?: CorsMetadata): PolicyLevel[] {
    const levels = [this.globalLevel];
    const name = onRoute?.policy ?? onController?.policy;
    if (name !== undefined) levels.push(this.namedLevel(name, onRoute?.policy !== undefined ? (routeName as string) : controllerName));
    levels.push({ source: controllerName, options: onController?.options });
    if (routeName !== undefined) levels.push({ source: routeName, options: onRoute?.options });
    return levels;
  }

  private namedLevel(name: string, usedIn: string): PolicyLevel {
    const options = this.named.get(name);
    if (options === undefined) {
      const known = this.named.size === 0 ? 'forRoot defines no policies' : `known: ${[...this.named.keys()].join(', ')}`;
      throw new CorsConfigError(usedIn, `unknown policy '${name}' (${known})`);
    }
    return { source: `policy '${name}'`, options };
  }

  /** Compiles merged levels; an error names the last level and, for an inherited conflict, where each value came from. */
  private compileLevels(levels: PolicyLevel[]): CorsPolicy {
    const { options, sources } = mergePolicyLevels(levels);
    const location = levels[levels.length - 1].source;
    return this.warn(CorsPolicy.compile(options, location, sources), location);
  }

  /** Logs what an opt-in (`dangerouslyAllow...`) let through, once however many policies inherit it. */
  private warn(policy: CorsPolicy, location: string): CorsPolicy {
    for (const warning of policy.warnings) {
      if (this.warned.has(warning)) continue;
      this.warned.add(warning);
      new Logger(CORS_LOGGER_CONTEXT).warn(`${location}: ${warning}`);
    }
    return policy;
  }
}
