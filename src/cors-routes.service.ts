import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import type { AdapterBinding } from './adapters/adapter-binding.js';
import { CorsGuard } from './cors.guard.js';
import { appGateways, warnOnRefusedPolling } from './cors-gateways.js';
import { CorsPolicies } from './cors-policies.service.js';
import { discoverRoutes, guardFirst, pathToRegexpSyntax } from './nest-internals.js';
import { hostOf, pathOf } from './node-request.js';
import { ConfigErrors } from './policy/cors-config.error.js';
import { isPreflight } from './policy/request-facts.js';
import {
  type Endpoint,
  type GatewayEndpoint,
  type IndexEntry,
  RouteIndex,
  type RouteTarget,
} from './routing/route-index.js';

/** The one guard every handler a preflight cannot tell apart shares (see `CorsGuard`). */
const VERSIONED_HANDLER_GUARD = new CorsGuard();

/**
 * The app's routes and their policies, once Nest has them: built at bootstrap (`build`), then asked by the front door
 * for each request and by the audit. Before it is built, or on an adapter nestjs-cors does not support, every request
 * gets the global policy.
 */
@Injectable()
export class CorsRoutes {
  private index: RouteIndex;
  private binding: AdapterBinding | undefined;
  private readonly adapterHostOf = (request: IncomingMessage) => this.binding?.hostOf(request) ?? request.headers.host;

  constructor(
    private readonly policies: CorsPolicies,
    private readonly modules: ModulesContainer,
    private readonly config: ApplicationConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.index = this.indexOf([], [], undefined);
  }

  /**
   * Lists every controller route and WebSocket gateway with its policy (stopping the bootstrap on any mistake) and
   * gives the guard to the handlers a preflight cannot tell apart. Called once `main.ts` has set the global prefix and
   * versioning, and before Nest registers the routes (it reads a handler's guards then); the gateways are connected
   * to their servers by then.
   */
  build(binding: AdapterBinding | undefined): void {
    this.binding = binding;
    const errors = new ConfigErrors();
    const adapter = this.adapterHost.httpAdapter;
    const endpoints =
      errors.check(() => this.policies.forRoutes(discoverRoutes(this.modules, this.config, adapter))) ?? [];
    const gateways = appGateways(this.modules, this.config, adapter?.getHttpServer(), this.policies, errors);
    errors.throwIfAny();
    this.index = this.indexOf(endpoints, gateways, binding);
    warnOnRefusedPolling(
      gateways,
      this.index.entries.slice(endpoints.length, endpoints.length + gateways.length).map(({ policy }) => policy),
    );
    for (const handler of this.index.guardedHandlers) guardFirst(handler, VERSIONED_HANDLER_GUARD);
  }

  /** What a request for `method` (a preflight's announced one) reaches. */
  forRequest(method: string, request: IncomingMessage): RouteTarget {
    return this.index.forRequest(method, request, () => this.hostOf(request));
  }

  /** What an upgrade (a WebSocket handshake) reaches: its gateway, else its `paths` entry, else the rest. */
  forUpgrade(request: IncomingMessage): RouteTarget {
    return this.index.forUpgrade(request.url ?? '/');
  }

  /** The `Controller.method` of a rejected request's target (`UPGRADE` for an upgrade), where a route or gateway serves it. */
  handlerOf(target: RouteTarget, method: string, request: IncomingMessage): string | undefined {
    return this.index.handlerOf(target, method, request, () => this.hostOf(request));
  }

  /** What a request for `method` at `target` on `host` reaches (see `CorsAudit.routeFor`). */
  lookup(method: string, target: string, host?: string): RouteTarget {
    return this.index.lookup(method, target, host);
  }

  /**
   * The path template of the controller route or `paths` entry a request reaches (a preflight, the route of the
   * request it announces), else its own path: where a warning about the request is best filed.
   */
  routePathOf(request: IncomingMessage): string {
    const method = request.method ?? 'GET';
    const routed = isPreflight(method, request.headers)
      ? String(request.headers['access-control-request-method'])
      : method;
    const target = this.binding?.targetOf(request) ?? request.url ?? '/';
    const { entry } = this.index.lookup(routed, target, this.hostOf(request));
    return entry < this.index.entries.length - 1 ? this.index.entries[entry].path : pathOf(target);
  }

  /** Every controller route, `paths` entry and the rest, with its policy, in the order the index tries them. */
  entries(): readonly IndexEntry[] {
    return this.index.entries;
  }

  /** The host the request addressed, as the adapter believes it (behind a proxy it trusts, `X-Forwarded-Host`). */
  hostOf(request: IncomingMessage): string | undefined {
    return hostOf(request, this.adapterHostOf);
  }

  private indexOf(
    endpoints: readonly Endpoint[],
    gateways: readonly GatewayEndpoint[],
    binding: AdapterBinding | undefined,
  ): RouteIndex {
    // Without a binding no request reaches the front door; the audit still lists the routes, matched plainly.
    const routing = binding ?? {
      routingPath: (target: string) => target,
      pathMatching: () => ({ caseSensitive: true, ignoreTrailingSlash: false }),
      hostOf: () => undefined,
    };
    return new RouteIndex(
      endpoints,
      gateways,
      this.policies.pathEntries,
      this.policies.global,
      routing,
      pathToRegexpSyntax,
    );
  }
}
