import type { IncomingMessage } from 'node:http';
import type { Type } from '@nestjs/common';
import type { CorsPolicies } from './cors-policies.service.js';
import type { CorsPolicy } from './policy/cors-policy.js';
import type { RouteIndex } from './routing/route-index.js';
import type { IndexEntry, RouteTarget } from './routing/route-index.interface.js';

/**
 * One configuration of the app's CORS, compiled: its policies and the route index built on them. A request is decided
 * with the snapshot current when it arrives (`CorsRoutes.current`), read once, and keeps it to the end: the guard of a
 * versioned handler asks it too (`CorsDecision.policyOf`). So when `reconfigure()` puts another in its place, no
 * request gets the headers of one configuration and the enforcement of another, and one that awaits an origin function
 * meanwhile finishes under the configuration it started with.
 */
export class CorsSnapshot {
  constructor(
    readonly policies: CorsPolicies,
    readonly index: RouteIndex,
    /** The host a request addressed, as the adapter believes it: what host-bound routes are matched with. */
    private readonly hostOf: (request: IncomingMessage) => string | undefined,
  ) {}

  /** The policy of a controller method under this configuration. */
  readonly policyOf = (controller: Type, handler: Function): CorsPolicy =>
    this.policies.forHandler(controller, handler);

  /** What a request for `method` (a preflight's announced one) reaches. */
  forRequest(method: string, request: IncomingMessage): RouteTarget {
    return this.index.forRequest(method, request, this.hostOf);
  }

  /** What an upgrade (a WebSocket handshake) reaches: its gateway, else its `paths` entry, else the rest. */
  forUpgrade(request: IncomingMessage): RouteTarget {
    return this.index.forUpgrade(request.url ?? '/');
  }

  /** The `Controller.method` of a rejected request's target (`UPGRADE` for an upgrade), where a route or gateway serves it. */
  handlerOf(target: RouteTarget, method: string, request: IncomingMessage): string | undefined {
    return this.index.handlerOf(target, method, request, this.hostOf);
  }

  /** What a request for `method` at `target` on `host` reaches (see `CorsAudit.routeFor`). */
  lookup(method: string, target: string, host?: string): RouteTarget {
    return this.index.lookup(method, target, host);
  }

  /** Every controller route, `paths` entry and the rest, with its policy, in the order the index tries them. */
  entries(): readonly IndexEntry[] {
    return this.index.entries;
  }
}
