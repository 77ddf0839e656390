import { Inject, Injectable, Logger, Optional, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CORS_LOGGER_CONTEXT, CORS_METADATA, CORS_OPTIONS_SOURCE } from './cors.constants.js';
import type { CorsMetadata } from './cors.decorator.js';
import { CORS_MODULE_OPTIONS, CORS_OPTIONS, CORS_OVERRIDES } from './cors.module-definition.js';
import type { CorsModuleOptions, CorsOptions, CorsOverrides } from './cors-options.interface.js';
import type { DiscoveredRoute } from './nest-internals.js';
import { ConfigErrors, CorsConfigError } from './policy/cors-config.error.js';
import { CorsPolicy } from './policy/cors-policy.js';
import { mergePolicyLevels, type PolicyLevel } from './policy/policy-levels.js';
import { OriginFunctions } from './policy/origin-function.js';
import type { Endpoint, PathEntry } from './routing/route-index.interface.js';

const REPLACED = 'overrideProvider(CORS_OPTIONS)';
const OVERRIDDEN = 'overrideProvider(CORS_OVERRIDES)';
const RECONFIGURED = 'reconfigure()';

/**
 * Every CORS policy of the app under one configuration, compiled and validated: the global one from `forRoot`, the
 * named and path ones, and one per distinct `@Cors()` combination. A policy resolves field by field: route `@Cors` >
 * controller `@Cors` > named policy > `forRoot` > defaults, each level followed by what a test overrides of it. Every
 * mistake of a bootstrap is reported together. Nest makes the one of the bootstrap; `reconfigured` another.
 */
@Injectable()
export class CorsPolicies {
  readonly global: CorsPolicy;
  readonly pathEntries: readonly PathEntry[];
  /** `forRoot`'s global fields, then what a test overrides of them. */
  private readonly globalLevels: PolicyLevel[];
  private readonly named = new Map<string, PolicyLevel[]>();
  /** What a test overrides of one controller or route, by `Controller` or `Controller.method`; the keys used so far. */
  private readonly routeOverrides: ReadonlyMap<string, CorsOptions | false>;
  private readonly usedRouteOverrides = new Set<string>();
  /** Compiled policies by controller metadata, then route metadata: one compilation per distinct combination. */
  private readonly compiled = new Map<CorsMetadata | undefined, Map<CorsMetadata | undefined, CorsPolicy>>();
  /** The last answer of `forHandler` for each handler, so a request does not read metadata again. */
  private readonly byHandler = new WeakMap<Function, { controller: Type; policy: CorsPolicy }>();
  /** What opt-ins let through, each once however many policies inherit it: logged once all are valid (`logWarnings`). */
  private readonly warned = new Set<string>();
  private readonly warnings: string[] = [];
  /** What a test gave in place of `CORS_OPTIONS`, which applies over whatever the app is configured with. */
  private readonly replaced: CorsModuleOptions | undefined;
  /** The origin functions of these policies, with what they remember. */
  readonly originFunctions = new OriginFunctions();

  /**
   * @param configured the options `forRoot` was given, or `forRootAsync`'s factory returned, or `reconfigure()`
   * @param options the same, unless a test replaced them: then what it gave is one more level over `configured`
   * @param overrides what a test overrides of the global policy, named policies and routes
   */
  constructor(
    @Inject(CORS_MODULE_OPTIONS) configured: CorsModuleOptions | undefined,
    @Inject(CORS_OPTIONS) options: CorsModuleOptions | undefined,
    @Optional() @Inject(CORS_OVERRIDES) private readonly overrides: CorsOverrides | undefined,
    @Optional() @Inject(CORS_OPTIONS_SOURCE) private readonly source: string = 'forRoot',
    private readonly reflector: Reflector,
  ) {
    this.replaced = options === configured ? undefined : options;
    const { policies = {}, paths = [], onRejection: _onRejection, ...global } = configured ?? {};
    const {
      policies: replacedPolicies = {},
      paths: replacedPaths,
      onRejection: _hook,
      ...replacedGlobal
    } = this.replaced ?? {};
    this.globalLevels = [
      { source, options: global },
      { source: REPLACED, options: replacedGlobal },
      { source: `${OVERRIDDEN}.global`, options: overrides?.global },
    ];
    this.routeOverrides = new Map(Object.entries(overrides?.routes ?? {}));
    const overriddenPolicies: Partial<Record<string, CorsOptions>> = overrides?.policies ?? {};
    for (const [name, named] of Object.entries(policies)) {
      this.named.set(name, [
        { source: `policy '${name}'`, options: named },
        { source: `${REPLACED} policy '${name}'`, options: replacedPolicies[name] },
        { source: `${OVERRIDDEN}.policies['${name}']`, options: overriddenPolicies[name] },
      ]);
    }
    const errors = new ConfigErrors();
    const overriddenNames = [
      ...Object.keys(replacedPolicies).map((name) => [REPLACED, name]),
      ...Object.keys(overriddenPolicies).map((name) => [`${OVERRIDDEN}.policies`, name]),
    ];
    for (const [where, name] of overriddenNames) errors.check(() => this.namedLevels(name, where));
    this.global = errors.check(() => this.compileLevels(this.globalLevels, source)) ?? CorsPolicy.compile({}, source);
    const inherited = errors.problems();
    for (const [name, levels] of this.named) {
      errors.check(
        () => this.compileLevels([...this.globalLevels, ...levels], `${source} policy '${name}'`),
        inherited,
      );
    }
    const pathEntries: PathEntry[] = [];
    (replacedPaths ?? paths).forEach(({ path, policy }, i) => {
      const entry = `${replacedPaths === undefined ? source : REPLACED} paths[${i}]`;
      const location = `${entry} (${String(path)})`;
      errors.check(() => {
        if (typeof path !== 'string') throw new CorsConfigError(location, `'path' must be a string`);
        // A named policy's own mistakes are reported once, against the policy.
        const [levels, where] =
          typeof policy === 'string'
            ? [this.namedLevels(policy, location), `${source} policy '${policy}'`]
            : [[{ source: location, options: policy }], location];
        pathEntries.push({
          path,
          policy: this.compileLevels([...this.globalLevels, ...levels], where),
          location: entry,
        });
      }, inherited);
    });
    errors.throwIfAny();
    this.pathEntries = pathEntries;
  }

  /**
   * The policies of the same app configured with `options` instead (`reconfigure()`), named so in their errors: what
   * a test replaced or overrides still applies over them, and their origin functions remember nothing yet.
   */
  reconfigured(options: CorsModuleOptions): CorsPolicies {
    return new CorsPolicies(options, this.replaced ?? options, this.overrides, RECONFIGURED, this.reflector);
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
    for (const key of this.routeOverrides.keys()) {
      if (this.usedRouteOverrides.has(key)) continue;
      const known = [
        ...new Set(
          routes.flatMap(({ controller, handlerName }) => [controller.name, `${controller.name}.${handlerName}`]),
        ),
      ];
      errors.check(() => {
        throw new CorsConfigError(
          `${OVERRIDDEN}.routes`,
          `'${key}' is no controller or route of the app (write 'Controller' or 'Controller.method'; known: ${known.join(', ')})`,
        );
      });
    }
    errors.throwIfAny();
    return endpoints;
  }

  /** Logs what opt-ins let through, once the whole configuration is valid and the app's own logger is in place. */
  logWarnings(): void {
    for (const warning of this.warnings.splice(0)) new Logger(CORS_LOGGER_CONTEXT).warn(warning);
  }

  /**
   * The policy `@Cors()` on a WebSocket gateway class gives its handshakes (and socket.io's polling requests): over
   * the named policy and `forRoot`, field by field; `undefined` without one. A mistake names the gateway class.
   */
  forGateway(gateway: Type): CorsPolicy | undefined {
    const onClass = this.reflector.get<CorsMetadata | undefined>(CORS_METADATA, gateway);
    return onClass === undefined ? undefined : this.compileLevels(this.levels(gateway.name, onClass), gateway.name);
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
    const location = `${controller.name}.${handlerName}`;
    const overridden = [controller.name, location].filter((key) => this.routeOverrides.has(key));
    overridden.forEach((key) => this.usedRouteOverrides.add(key));
    if (onController === undefined && onRoute === undefined && overridden.length === 0) return this.global;
    // What a test overrides of one route is that route's own: it shares no compiled policy with routes of equal metadata.
    if (overridden.length > 0)
      return this.compileLevels(this.levels(controller.name, onController, location, onRoute), location);
    let byRoute = this.compiled.get(onController);
    if (byRoute === undefined) {
      // A mistake of the controller's own `@Cors` is reported against the controller, not its first route.
      if (onController !== undefined) this.compileLevels(this.levels(controller.name, onController), controller.name);
      this.compiled.set(onController, (byRoute = new Map()));
    }
    let policy = byRoute.get(onRoute);
    if (policy === undefined) {
      policy = this.compileLevels(this.levels(controller.name, onController, location, onRoute), location);
      byRoute.set(onRoute, policy);
    }
    return policy;
  }

  /** The levels of an endpoint's policy, most general first, each followed by what a test overrides of it. */
  private levels(
    controllerName: string,
    onController: CorsMetadata | undefined,
    routeName?: string,
    onRoute?: CorsMetadata,
  ): PolicyLevel[] {
    const levels = [...this.globalLevels];
    const name = onRoute?.policy ?? onController?.policy;
    if (name !== undefined)
      levels.push(...this.namedLevels(name, onRoute?.policy !== undefined ? (routeName as string) : controllerName));
    levels.push({ source: controllerName, options: onController?.options });
    levels.push({
      source: `${OVERRIDDEN}.routes['${controllerName}']`,
      options: this.routeOverrides.get(controllerName),
    });
    if (routeName !== undefined) {
      levels.push({ source: routeName, options: onRoute?.options });
      levels.push({ source: `${OVERRIDDEN}.routes['${routeName}']`, options: this.routeOverrides.get(routeName) });
    }
    return levels;
  }

  private namedLevels(name: string, usedIn: string): PolicyLevel[] {
    const levels = this.named.get(name);
    if (levels === undefined) {
      const known =
        this.named.size === 0 ? `${this.source} defines no policies` : `known: ${[...this.named.keys()].join(', ')}`;
      throw new CorsConfigError(usedIn, `unknown policy '${name}' (${known})`);
    }
    return levels;
  }

  /**
   * Compiles merged levels under the name of the place they resolve for (`location`); an error says where a conflicting
   * value came from, and that a test override was applied when one was.
   */
  private compileLevels(levels: PolicyLevel[], location: string): CorsPolicy {
    const { options, sources } = mergePolicyLevels(levels);
    const overrides = levels.filter(
      (level) => level.source.startsWith('overrideProvider(') && hasFields(level.options),
    );
    const named =
      overrides.length === 0 ? location : `${location} (with ${overrides.map((level) => level.source).join(', ')})`;
    const policy = CorsPolicy.compile(options, named, sources, this.originFunctions);
    for (const warning of policy.warnings) {
      if (this.warned.has(warning)) continue;
      this.warned.add(warning);
      this.warnings.push(`${named}: ${warning}`);
    }
    return policy;
  }
}

function hasFields(options: CorsOptions | false | undefined): boolean {
  return options === false || (options !== undefined && Object.keys(options).length > 0);
}
