import type { IncomingMessage } from 'node:http';
import { Injectable, type Type } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import type { AdapterBinding } from './adapters/adapter-binding.js';
import { CorsGuard } from './cors.guard.js';
import { type AppGateway, appGateways, warnOnRefusedPolling } from './cors-gateways.js';
import type { CorsModuleOptions } from './cors-options.interface.js';
import { CorsPolicies } from './cors-policies.service.js';
import { CorsSnapshot } from './cors-snapshot.js';
import { type DiscoveredRoute, discoverRoutes, guardFirst, pathToRegexpSyntax } from './nest-internals.js';
import { hostOf, pathOf } from './node-request.js';
import { ConfigErrors } from './policy/cors-config.error.js';
import { decidedMethod } from './policy/request-facts.js';
import { RouteIndex } from './routing/route-index.js';
import type { Endpoint, GatewayEndpoint } from './routing/route-index.interface.js';

/** The one guard every handler a preflight cannot tell apart shares (see `CorsGuard`). */
const VERSIONED_HANDLER_GUARD = new CorsGuard();

/** What the app serves, discovered once at bootstrap: only the policies of it change with `reconfigure`. */
interface Discovered {
  routes: readonly DiscoveredRoute[];
  /** Every gateway class, and those whose handshakes the front door decides. */
  gateways: { classes: readonly Type[]; decided: readonly AppGateway[] };
}

/**
 * The app's routes and their policies, once Nest has them: built at bootstrap (`build`), rebuilt on the same routes
 * for each new configuration (`reconfigure`), and read by the front door for each request and by the audit through
 * the current snapshot. Before it is built, or on an adapter nestjs-cors does not support, every request gets the
 * global policy.
 */
@Injectable()
export class CorsRoutes {
  /** What requests are decided with from now on: each request reads it once (see `CorsSnapshot`). */
  current: CorsSnapshot;
  private binding: AdapterBinding | undefined;
  private discovered: Discovered | undefined;
  private readonly adapterHostOf = (request: IncomingMessage) => this.binding?.hostOf(request) ?? request.headers.host;
  /** The host the request addressed, as the adapter believes it (behind a proxy it trusts, `X-Forwarded-Host`). */
  readonly hostOf = (request: IncomingMessage): string | undefined => hostOf(request, this.adapterHostOf);

  constructor(
    policies: CorsPolicies,
    private readonly modules: ModulesContainer,
    private readonly config: ApplicationConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.current = this.snapshotOf(policies);
  }

  /**
   * Lists every controller route and WebSocket gateway with its policy (stopping the bootstrap on any mistake) and
   * gives the guard to the handlers a preflight cannot tell apart. Called once `main.ts` has set the global prefix and
   * versioning, and before Nest registers the routes (it reads a handler's guards then); the gateways are connected
   * to their servers by then.
   */
  build(binding: AdapterBinding | undefined): void {
    this.binding = binding;
    const adapter = this.adapterHost.httpAdapter;
    this.discovered = {
      routes: discoverRoutes(this.modules, this.config, adapter),
      gateways: appGateways(this.modules, this.config, adapter?.getHttpServer()),
    };
    this.current = this.snapshotOf(this.current.policies);
    for (const handler of this.current.index.guardedHandlers) guardFirst(handler, VERSIONED_HANDLER_GUARD);
  }

  /**
   * Compiles `options` over the routes and gateways of the bootstrap, validated as `forRoot`'s are, and makes them what
   * requests are decided with; on any mistake it throws the `CorsConfigError` and nothing changes. The guards stay as
   * `build` gave them: which handlers need one depends on which `@Cors()` and test overrides they have, never on the
   * options (handlers of one version group share a compiled policy exactly when they share those), and so does not change.
   */
  reconfigure(options: CorsModuleOptions): void {
    this.current = this.snapshotOf(this.current.policies.reconfigured(options));
  }

  /**
   * The path template of the controller route or `paths` entry a request reaches (a preflight, the route of the
   * request it announces), else its own path: where a warning about the request is best filed.
   */
  routePathOf(request: IncomingMessage): string {
    const routed = decidedMethod(request.method ?? 'GET', request.headers);
    const target = this.binding?.targetOf(request) ?? request.url ?? '/';
    const snapshot = this.current;
    const { entry } = snapshot.lookup(routed, target, this.hostOf(request));
    const entries = snapshot.entries();
    return entry < entries.length - 1 ? entries[entry].path : pathOf(target);
  }

  /** `policies` over what the app serves; before the bootstrap has discovered it, over nothing yet. */
  private snapshotOf(policies: CorsPolicies): CorsSnapshot {
    if (this.discovered === undefined) return new CorsSnapshot(policies, this.indexOf(policies, [], []), this.hostOf);
    const { routes, gateways } = this.discovered;
    const errors = new ConfigErrors();
    const endpoints = errors.check(() => policies.forRoutes(routes)) ?? [];
    const gatewayPolicies = new Map(
      gateways.classes.map((type) => [type, errors.check(() => policies.forGateway(type))]),
    );
    errors.throwIfAny();
    const decided = gateways.decided.map((gateway) => ({ ...gateway, policy: gatewayPolicies.get(gateway.type) }));
    const index = this.indexOf(policies, endpoints, decided);
    const gatewaysAt = endpoints.length;
    warnOnRefusedPolling(
      gateways.decided,
      index.entries.slice(gatewaysAt, gatewaysAt + decided.length).map(({ policy }) => policy),
    );
    policies.logWarnings();
    return new CorsSnapshot(policies, index, this.hostOf);
  }

  private indexOf(
    policies: CorsPolicies,
    endpoints: readonly Endpoint[],
    gateways: readonly GatewayEndpoint[],
  ): RouteIndex {
    // Without a binding no request reaches the front door; the audit still lists the routes, matched plainly.
    const routing = this.binding ?? {
      routingPath: (target: string) => target,
      pathMatching: () => ({ caseSensitive: true, ignoreTrailingSlash: false }),
    };
    return new RouteIndex(endpoints, gateways, policies.pathEntries, policies.global, routing, pathToRegexpSyntax);
  }
}
