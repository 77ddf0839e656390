import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, Logger, type LoggerService, type LogLevel, Optional, type Type } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import { ApplicationConfig, HttpAdapterHost, ModulesContainer, Reflector } from '@nestjs/core';
import type { AdapterBinding } from './adapters/adapter-binding.js';
import { CORS_LOGGER_CONTEXT, CORS_METADATA, CORS_OPTIONS_SOURCE } from './cors.constants.js';
import type { CorsMetadata } from './cors.decorator.js';
import { CorsGuard } from './cors.guard.js';
import { CORS_OPTIONS } from './cors.module-definition.js';
import type { CorsModuleOptions, CorsOptions, CorsRejection } from './cors-options.interface.js';
import { CorsConfigError } from './policy/cors-config.error.js';
import { hostnameOf, hostOf } from './cors-request.js';
import { CandidatePolicies } from './policy/candidate-policies.js';
import { CorsPolicy, mergePolicyLevels, type OptionSources, type PolicyLevel } from './policy/cors-policy.js';
import { type DiscoveredRoute, discoverRoutes } from './routing/discover-routes.js';
import { OriginTimeoutError } from './policy/origin-function.js';
import { type RouteDefinition, RouteTable } from './routing/route-table.js';

/** The one guard every handler behind a version filter shares (see `CorsGuard`). */
const VERSIONED_HANDLER_GUARD = new CorsGuard();

/**
 * Every CORS policy of the app, compiled at bootstrap: the global one from `forRoot`, the named and path ones, one per
 * distinct `@Cors()` combination, and the route tables that tell which applies to a request before Nest has routed it.
 */
@Injectable()
export class CorsPolicies {
  private readonly global: CorsPolicy;
  private readonly globalLevel: PolicyLevel;
  private readonly named: ReadonlyMap<string, CorsOptions>;
  private readonly pathPolicies: Array<{ path: string; policy: CorsPolicy; location: string }> = [];
  private readonly logger = new Logger(CORS_LOGGER_CONTEXT);
  /** Compiled policies by controller metadata, then route metadata: one compilation per distinct combination. */
  private readonly compiled = new Map<CorsMetadata | undefined, Map<CorsMetadata | undefined, CorsPolicy>>();
  /** The last answer of `forHandler` for each handler, so a request does not read metadata again. */
  private readonly byHandler = new WeakMap<Function, { controller: Type; policy: CorsPolicy }>();
  private readonly candidatesByPolicy = new Map<CorsPolicy, CandidatePolicies>();
  private routes: RouteTable<RouteTarget> | undefined;
  private paths: RouteTable<RouteTarget> | undefined;
  private readonly globalTarget: RouteTarget;
  /** Every controller route with its policy, for the audit. */
  private endpoints: Array<DiscoveredRoute & { policy: CorsPolicy }> = [];
  private readonly onRejection: CorsModuleOptions['onRejection'];
  private adapter: AdapterBinding | undefined;
  /** `auditIndexFor`'s route tables: built on first use, for the endpoints they were built from. */
  private auditTables: { endpoints: unknown[]; routes: RouteTable<number>; paths: RouteTable<number> } | undefined;
  /** Origin functions whose timeout was logged: a stalled backend is worth one warning, not one per request. */
  private readonly slowOriginFunctions = new WeakSet<Function>();

  constructor(
    @Inject(CORS_OPTIONS) options: CorsModuleOptions | undefined,
    @Optional() @Inject(CORS_OPTIONS_SOURCE) source: string | undefined,
    private readonly reflector: Reflector,
    private readonly modules: ModulesContainer,
    private readonly config: ApplicationConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    source ??= 'forRoot';
    const { policies = {}, paths = [], onRejection, ...global } = options ?? {};
    this.onRejection = onRejection;
    this.globalLevel = { source, options: global };
    this.named = new Map(Object.entries(policies));
    const errors = new ConfigErrors();
    this.global = errors.check(() => CorsPolicy.compile(global, source)) ?? CorsPolicy.compile({}, source);
    for (const [name, named] of this.named) {
      errors.check(() => this.compileLevels([this.globalLevel, { source: `${source} policy '${name}'`, options: named }]));
    }
    paths.forEach(({ path, policy }, i) => {
      const location = `${source} paths[${i}] (${String(path)})`;
      errors.check(() => {
        if (typeof path !== 'string') throw new CorsConfigError(location, `'path' must be a string`);
        const level = typeof policy === 'string' ? this.namedLevel(policy, location) : { source: location, options: policy };
        this.pathPolicies.push({ path, policy: this.compileLevels([this.globalLevel, level]), location: `${source} paths[${i}]` });
      });
    });
    errors.throwIfAny();
    this.globalTarget = { candidates: this.candidatesOf([this.global]) };
  }

  /**
   * Validates every endpoint's policy (all mistakes are reported together in one `CorsConfigError`, which stops the
   * bootstrap), builds the route tables and gives the guard to the handlers the table cannot tell apart. Called before
   * Nest registers routes (it reads a handler's guards then), once `main.ts` has set the global prefix and versioning.
   */
  compileRoutes(): void {
    const routes = discoverRoutes(this.modules, this.config, this.adapterHost.httpAdapter);
    const errors = new ConfigErrors();
    const policies = routes.map(
      (route) => errors.check(() => this.forHandler(route.controller, route.handler, route.handlerName)) ?? this.global,
    );
    errors.throwIfAny();
    this.endpoints = routes.map((route, i) => ({ ...route, handlerName: `${route.controller.name}.${route.handlerName}`, policy: policies[i] }));
    if (this.adapter === undefined) return;
    const matching = this.adapter.pathMatching();
    if (this.pathPolicies.length > 0) {
      this.paths = new RouteTable(
        this.pathPolicies.map(({ path, policy }) => ({ method: 'ALL', path, value: { candidates: this.candidatesOf([policy]) } })),
        matching,
      );
    }
    // With one policy for every route, and none for other paths, there is nothing to look up per request.
    if (this.paths === undefined && policies.every((policy) => policy === this.global)) return;

    // Handlers behind a version filter on the same method, path and host are one route to a preflight; so is a handler
    // without a version there, which gets the requests whose version none of them takes (Express passes them on,
    // find-my-way falls back to the route without a constraint).
    const groupOf = (route: DiscoveredRoute) => `${route.method} ${route.path} ${String(route.hosts)}`;
    const versioned = new Set(routes.filter((route) => route.versionFiltered).map(groupOf));
    const definitions: Array<RouteDefinition<{ policies: CorsPolicy[]; handlers: string[] }>> = [];
    const groups = new Map<string, { policies: CorsPolicy[]; handlers: string[] }>();
    this.endpoints.forEach((route) => {
      const key = versioned.has(groupOf(route)) ? groupOf(route) : undefined;
      const group = key === undefined ? undefined : groups.get(key);
      if (group !== undefined) {
        if (!group.policies.includes(route.policy)) group.policies.push(route.policy);
        group.handlers.push(route.handlerName);
        return;
      }
      const value = { policies: [route.policy], handlers: [route.handlerName] };
      if (key !== undefined) groups.set(key, value);
      definitions.push({ ...route, value });
    });
    for (const route of routes) {
      if ((groups.get(groupOf(route))?.policies.length ?? 0) > 1) guardHandler(route.handler);
    }
    this.routes = new RouteTable(
      definitions.map(({ value, ...definition }) => ({
        ...definition,
        value: { candidates: this.candidatesOf(value.policies), handler: value.handlers.join(' | ') },
      })),
      matching,
    );
    // A request for such a path could reach another route in the table, or the global policy, of another policy than
    // the handler the adapter runs: better no start than a guess.
    const unsupported = [
      ...this.routes.unsupported.map(({ method, path, value }) => new CorsConfigError(value.handler ?? `${method} ${path}`, unsupportedPath(path))),
      ...(this.paths?.unsupported ?? []).map(({ path }) => new CorsConfigError(this.pathPolicies.find((entry) => entry.path === path)!.location, unsupportedPath(path))),
    ];
    if (unsupported.length > 0) throw CorsConfigError.all(unsupported);
  }


  /** Every controller route, `paths` entry and the rest, with its policy (see `CorsAudit`). */
  endpointsForAudit(): Array<{ method: string; path: string; hosts?: ReadonlyArray<string | RegExp>; handler: string; policy: CorsPolicy }> {
    return [
      ...this.endpoints.map(({ method, path, hosts, handlerName, policy }) => ({ method, path, hosts, handler: handlerName, policy })),
      ...this.pathPolicies.map(({ path, policy, location }) => ({ method: 'ALL', path, handler: location, policy })),
      { method: 'ALL', path: '*', handler: '(no route)', policy: this.global },
    ];
  }

  /**
   * The index in `endpointsForAudit()` of the entry whose policy the front door applies to a request for `method` at
   * `target` (a path, with or without a query string) on `host` (as the adapter reads it, port allowed), for
   * `CorsAudit.routeFor`. Found as `forRequest` finds it: the adapter's routing path, then the first controller route
   * in the adapter's order that matches method, path and host, else the first matching `paths` entry, else the global
   * policy. Its tables are built on first use, from the same routes, order and path matching as the front door's.
   */
  auditIndexFor(method: string, target: string, host?: string): number {
    const rest = this.endpoints.length + this.pathPolicies.length;
    const adapter = this.adapter;
    if (adapter === undefined) return rest;
    if (this.auditTables?.endpoints !== this.endpoints) {
      const matching = adapter.pathMatching();
      const offset = this.endpoints.length;
      this.auditTables = {
        endpoints: this.endpoints,
        routes: new RouteTable(this.endpoints.map(({ method, path, hosts }, i) => ({ method, path, hosts, value: i })), matching),
        paths: new RouteTable(this.pathPolicies.map(({ path }, i) => ({ method: 'ALL', path, value: offset + i })), matching),
      };
    }
    const { routes, paths } = this.auditTables;
    const path = adapter.routingPath(target);
    return routes.match(method, path, routes.hostBound ? hostnameOf(host) : undefined) ?? paths.match(method, path, undefined) ?? rest;
  }

  /** The path of the controller route or `paths` entry `auditIndexFor` finds, `undefined` where none matches. */
  routePathFor(method: string, target: string, host?: string): string | undefined {
    const index = this.auditIndexFor(method, target, host);
    return (this.endpoints[index] ?? this.pathPolicies[index - this.endpoints.length])?.path;
  }

  /**
   * Where each field of `policy` came from, for the audit. The global policy is compiled without sources (its errors
   * name `forRoot` anyway): each field it sets comes from `forRoot` (or `forRootAsync`).
   */
  sourcesForAudit(policy: CorsPolicy): OptionSources {
    return policy === this.global ? mergePolicyLevels([this.globalLevel]).sources : policy.sources;
  }

  /** The adapter the front door is bound to: how it routes a request's path. */
  useAdapter(adapter: AdapterBinding): void {
    this.adapter = adapter;
  }

  /** Whether the front door is bound to a supported adapter. */
  hasAdapter(): boolean {
    return this.adapter !== undefined;
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
    return CorsPolicy.compile(options, levels[levels.length - 1].source, sources);
  }

  /**
   * The policies of the route a request for `method` at the request's path reaches; where no controller route
   * matches, those of a matching `paths` entry, else the global one. The path is read only when the app has more than one policy, the host only when a route is host-bound.
   */
  forRequest(method: string, request: IncomingMessage): RouteTarget {
    const routes = this.routes;
    if (routes === undefined) return this.globalTarget;
    const adapter = this.adapter as AdapterBinding;
    const path = adapter.routingPath(request.url ?? '/');
    return (
      routes.match(method, path, routes.hostBound ? hostnameOf(hostOf(request, adapter.hostOf)) : undefined) ??
      this.paths?.match(method, path, undefined) ??
      this.globalTarget
    );
  }

  /**
   * The `Controller.method` a rejected request was for. Where every route has the global policy the front door looks
   * no route up, so a rejection, which is rare, looks it up then.
   */
  handlerOf(target: RouteTarget, method: string, request: IncomingMessage): string | undefined {
    const adapter = this.adapter;
    if (target.handler !== undefined || this.routes !== undefined || adapter === undefined) return target.handler;
    return this.endpoints[this.auditIndexFor(method, request.url ?? '/', hostOf(request, adapter.hostOf))]?.handlerName;
  }

  private candidatesOf(policies: CorsPolicy[]): CandidatePolicies {
    if (policies.length > 1) return new CandidatePolicies(policies);
    let candidates = this.candidatesByPolicy.get(policies[0]);
    if (candidates === undefined) this.candidatesByPolicy.set(policies[0], (candidates = new CandidatePolicies(policies)));
    return candidates;
  }

  /**
   * Logs a rejection with its reason (at `warn` for a report-only one: it is what the team is watching for, else at
   * `debug`) and hands it to `onRejection` once the response is on its way.
   */
  report(rejection: CorsRejection): void {
    const level = rejection.outcome === 'reported' ? 'warn' : 'debug';
    if (this.prints(level)) {
      const where = `${JSON.stringify(rejection.origin)} ${rejection.method} ${rejection.path}${rejection.handler ? `, ${rejection.handler}` : ''}`;
      this.logger[level](`${REJECTION_MESSAGES[rejection.outcome]}: ${rejection.reason} (${where})`);
    }
    const hook = this.onRejection;
    if (hook === undefined) return;
    const fail = (error: unknown) =>
      this.logger.error('onRejection failed; the response was not affected', error instanceof Error ? error.stack : String(error));
    setImmediate(() => {
      try {
        Promise.resolve(hook(rejection)).catch(fail);
      } catch (error) {
        fail(error);
      }
    });
  }

  /**
   * Whether the app's logger prints `Cors` lines at `level`: hostile traffic is all rejections, so no line is built
   * that no logger prints. Asked of the logger itself (`logger: false` leaves none; a `ConsoleLogger` knows its
   * levels; any other logger is assumed to print), as `Logger.isLevelEnabled` says "no" on NestJS 11 for a custom
   * logger given no levels.
   */
  private prints(level: LogLevel): boolean {
    const logger = this.logger.localInstance as (LoggerService & { isLevelEnabled?(level: LogLevel): boolean }) | undefined;
    return logger !== undefined && (logger.isLevelEnabled?.(level) ?? true);
  }

  /** Whether each candidate allows `origin`: a promise only where an origin function answers asynchronously. */
  originAllowedBy(candidates: CandidatePolicies, origin: string, request: IncomingMessage): boolean[] | Promise<boolean[]> {
    const allowed: Array<boolean | Promise<boolean>> = [];
    let pending = false;
    for (const policy of candidates.policies) {
      const answer = this.isOriginAllowed(policy, origin, request);
      pending ||= typeof answer !== 'boolean';
      allowed.push(answer);
    }
    return pending ? Promise.all(allowed) : (allowed as boolean[]);
  }

  /**
   * Whether `policy` allows `origin`. A function origin that throws, rejects or times out denies, and is logged (a
   * timeout once per function): it never crashes the request.
   */
  isOriginAllowed(policy: CorsPolicy, origin: string, request: IncomingMessage): boolean | Promise<boolean> {
    try {
      const allowed = policy.origins.matches(origin, request);
      if (typeof allowed === 'boolean') return allowed;
      return Promise.resolve(allowed).then(
        (value) => value === true,
        (error: unknown) => this.denied(origin, error),
      );
    } catch (error) {
      return this.denied(origin, error);
    }
  }

  private denied(origin: string, error: unknown): false {
    if (error instanceof OriginTimeoutError) {
      if (!this.slowOriginFunctions.has(error.originFunction)) {
        this.slowOriginFunctions.add(error.originFunction);
        this.logger.error(`${error.message}; denied (later timeouts of this function are logged at debug level)`);
      } else this.logger.debug(`${error.message}; denied`);
      return false;
    }
    this.logger.error(`origin function failed for ${JSON.stringify(origin)}; denied`, error instanceof Error ? error.stack : String(error));
    return false;
  }
}

function unsupportedPath(path: string): string {
  return (
    `nestjs-cors cannot match the route path '${path}' as the adapter does, so it cannot tell which requests reach it. ` +
    `Write it without an inline regular expression (validate the parameter with a pipe, e.g. ParseIntPipe), ` +
    `in the syntax of path-to-regexp 8 (':id', '*rest', '{/:optional}')`
  );
}

/** Runs before the handler's own guards, after the global and controller ones. */
function guardHandler(handler: Function): void {
  const guards: unknown[] = Reflect.getMetadata(GUARDS_METADATA, handler) ?? [];
  if (!guards.includes(VERSIONED_HANDLER_GUARD)) Reflect.defineMetadata(GUARDS_METADATA, [VERSIONED_HANDLER_GUARD, ...guards], handler);
}

const REJECTION_MESSAGES: Record<CorsRejection['outcome'], string> = {
  rejected: 'CORS preflight rejected',
  refused: 'CORS request rejected',
  reported: 'CORS request would be rejected (reportOnly)',
  withheld: 'CORS headers withheld',
};

/** What a request reaches, as far as CORS is concerned: the candidate policies, and the handlers they belong to. */
export interface RouteTarget {
  candidates: CandidatePolicies;
  /** `Controller.method`, where a controller route matched. */
  handler?: string;
}

/** Collects the `CorsConfigError`s of a bootstrap, to report them all at once. */
class ConfigErrors {
  private readonly errors: CorsConfigError[] = [];

  /** Runs `compile`; a `CorsConfigError` is kept (once) and gives `undefined`. */
  check<T>(compile: () => T): T | undefined {
    try {
      return compile();
    } catch (error) {
      if (!(error instanceof CorsConfigError)) throw error;
      for (const each of error.errors) if (!this.errors.some((known) => known.message === each.message)) this.errors.push(each);
      return undefined;
    }
  }

  throwIfAny(): void {
    if (this.errors.length > 0) throw CorsConfigError.all(this.errors);
  }
}
