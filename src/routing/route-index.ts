import type { IncomingMessage } from 'node:http';
import { hostnameOf } from '../node-request.js';
import { CandidatePolicies } from '../policy/candidate-policies.js';
import { CorsConfigError } from '../policy/cors-config.error.js';
import type { CorsPolicy } from '../policy/cors-policy.js';
import { GatewayTable } from './gateway-table.js';
import type {
  Endpoint,
  GatewayEndpoint,
  HostOf,
  IndexEntry,
  PathEntry,
  RouteTarget,
  Routing,
} from './route-index.interface.js';
import { pathsMayOverlap } from './route-paths.js';
import { type RouteDefinition, RouteTable, type UnsupportedReason } from './route-table.js';

/** The method of a gateway's entry, and the one `lookup` takes for an upgrade (a WebSocket handshake). */
export const UPGRADE = 'WS';

/**
 * Which policy applies to a request before the adapter has routed it, for the front door and the audit alike: the
 * gateways whose servers take the request ahead of the adapter, then one table of the controller routes in the
 * adapter's order, then one of the `paths` entries, then the global policy. An upgrade reaches a gateway, else its
 * `paths` entry, else the global policy: controller routes take no upgrades.
 * Handlers behind a version filter on the same method, path and host are one route to it, with the handler without a
 * version there, which gets the requests whose version none of them takes (Express passes them on; find-my-way falls
 * back to the route without a constraint); those of such a group whose policies differ need the guard, and so do the
 * handlers of the routes after a group without that handler, which a request none of the group takes goes on to.
 */
export class RouteIndex {
  readonly entries: readonly IndexEntry[];
  /**
   * The handlers a preflight cannot tell apart from others of another policy, and those a request can fall through to
   * from a route behind a version filter: they need the guard.
   */
  readonly guardedHandlers: readonly Function[];
  /** Every controller route has the global policy and there are no `paths`: the front door looks no route up. */
  private readonly trivial: boolean;
  private readonly rest: RouteTarget;
  private readonly candidatesByPolicy = new Map<CorsPolicy, CandidatePolicies>();
  private readonly gateways: GatewayTable<RouteTarget>;
  private readonly paths: RouteTable<RouteTarget>;
  private routes: RouteTable<RouteTarget> | undefined;

  /**
   * @param syntax turns a route path into path-to-regexp 8's syntax (see `RouteTable`)
   * @throws CorsConfigError where a route path cannot be matched as the adapter does: a request for it could reach
   *   another route of the table, of another policy than the handler the adapter runs (not where every route has the
   *   global policy, which then applies whatever matches); where gateways that share a handshake have different
   *   policies
   */
  constructor(
    private readonly endpoints: readonly Endpoint[],
    gateways: readonly GatewayEndpoint[],
    pathEntries: readonly PathEntry[],
    global: CorsPolicy,
    private readonly routing: Routing,
    private readonly syntax: (path: string) => string,
  ) {
    const pathsAt = endpoints.length + gateways.length;
    this.paths = new RouteTable(
      pathEntries.map(({ path, policy }, i) => ({
        method: 'ALL',
        path,
        value: { candidates: this.candidatesOf([policy]), entry: pathsAt + i },
      })),
      routing.pathMatching(),
      syntax,
    );
    const resolved = gateways.map((gateway) => ({
      ...gateway,
      policy: gateway.policy ?? this.pathPolicy(gateway.path) ?? global,
    }));
    this.entries = [
      ...endpoints.map(({ method, path, hosts, handler, policy }) => ({ method, path, hosts, handler, policy })),
      ...resolved.map(({ path, handler, policy }) => ({ method: UPGRADE, path, handler, policy })),
      ...pathEntries.map(({ path, policy, location }) => ({ method: 'ALL', path, handler: location, policy })),
      { method: 'ALL', path: '*', handler: '(no route)', policy: global },
    ];
    this.rest = { candidates: this.candidatesOf([global]), entry: this.entries.length - 1 };
    this.gateways = new GatewayTable(
      resolved.map((gateway, i) => ({
        ...gateway,
        value: {
          candidates: this.candidatesOf([gateway.policy]),
          handler: gateway.handler,
          entry: endpoints.length + i,
        },
      })),
    );
    this.trivial = pathEntries.length === 0 && endpoints.every(({ policy }) => policy === global);
    const guarded: Function[] = [];
    if (!this.trivial) this.routes = this.build(guarded, true);
    this.guardedHandlers = [...new Set(guarded)];
  }

  /** The target of a request for `method` (for a preflight, the method it announces), as the front door reads it. */
  forRequest(method: string, request: IncomingMessage, hostOf: HostOf): RouteTarget {
    const gateway = this.gateways.takesRequests ? this.gateways.forRequest(request.url ?? '/') : undefined;
    if (gateway !== undefined) return gateway;
    const routes = this.routes;
    if (this.trivial || routes === undefined) return this.rest;
    return this.find(
      routes,
      method,
      this.routing.routingPath(request.url ?? '/'),
      routes.hostBound ? hostOf(request) : undefined,
    );
  }

  /** The target of an upgrade (a WebSocket handshake): its gateway, else its `paths` entry, else the rest. */
  forUpgrade(target: string): RouteTarget {
    return (
      this.gateways.forUpgrade(target) ??
      this.paths.match('GET', this.routing.routingPath(target), undefined) ??
      this.rest
    );
  }

  /**
   * The target of a request for `method` at `target` (a path, with or without a query) on `host` (port allowed); of an
   * upgrade for `UPGRADE`.
   */
  lookup(method: string, target: string, host?: string): RouteTarget {
    if (method === UPGRADE) return this.forUpgrade(target);
    const gateway = this.gateways.forRequest(target);
    if (gateway !== undefined) return gateway;
    this.routes ??= this.build([], false);
    return this.find(this.routes, method, this.routing.routingPath(target), host);
  }

  /**
   * The handler of a target, for a rejection's report: where the front door looks nothing up (every route has the
   * global policy), a rejection, which is rare, looks it up then.
   */
  handlerOf(target: RouteTarget, method: string, request: IncomingMessage, hostOf: HostOf): string | undefined {
    if (!this.trivial) return target.handler;
    return this.lookup(method, request.url ?? '/', hostOf(request)).handler;
  }

  private find(routes: RouteTable<RouteTarget>, method: string, path: string, host: string | undefined): RouteTarget {
    return (
      routes.match(method, path, routes.hostBound ? hostnameOf(host) : undefined) ??
      this.paths.match(method, path, undefined) ??
      this.rest
    );
  }

  /** The policy of the `paths` entry a gateway's handshake path matches, as a request for it would. */
  private pathPolicy(path: string): CorsPolicy | undefined {
    return this.paths.match('GET', this.routing.routingPath(path), undefined)?.candidates.policies[0];
  }

  /** The table of the controller routes, in the adapter's order. */
  private build(guarded: Function[], strict: boolean): RouteTable<RouteTarget> {
    const groupOf = (endpoint: Endpoint) => `${endpoint.method} ${endpoint.path} ${String(endpoint.hosts)}`;
    const versioned = new Set(this.endpoints.filter((endpoint) => endpoint.versionFiltered).map(groupOf));
    const groups = new Map<string, { members: Endpoint[]; first: number }>();
    const definitions: Array<RouteDefinition<{ members: Endpoint[]; first: number }>> = [];
    this.endpoints.forEach((endpoint, i) => {
      const key = versioned.has(groupOf(endpoint)) ? groupOf(endpoint) : undefined;
      const group = key === undefined ? undefined : groups.get(key);
      if (group !== undefined) return void group.members.push(endpoint);
      const value = { members: [endpoint], first: i };
      if (key !== undefined) groups.set(key, value);
      definitions.push({ ...endpoint, value });
    });
    const matching = this.routing.pathMatching();
    // A request that no handler of a route takes (none takes its version) goes on to the routes after it that match it
    // too, in the adapter's order (Express passes it on; find-my-way backtracks). Their handlers are candidates of that
    // route, so that the front door refuses only what none of them would take, and they carry the guard, as their
    // policies are not known before routing either. A request that reaches them directly leaves the guard no decision.
    const passedTo = definitions.map((passing, i) =>
      passesOn(passing.value.members)
        ? definitions
            .slice(i + 1)
            .filter(
              (later) =>
                methodsMeet(passing.method, later.method) &&
                pathsMayOverlap(passing.path, later.path, matching, this.syntax),
            )
            .flatMap((later) => later.value.members)
        : [],
    );
    for (const member of passedTo.flat()) guarded.push(member.handlerFunction);
    const routes = new RouteTable(
      definitions.map(({ value: { members, first }, ...definition }, i) => {
        const policies = [...new Set(members.map((member) => member.policy))];
        if (policies.length > 1) guarded.push(...members.map((member) => member.handlerFunction));
        const reachable = [...new Set([...policies, ...passedTo[i].map((member) => member.policy)])];
        return {
          ...definition,
          value: {
            candidates: this.candidatesOf(reachable),
            handler: members.map((member) => member.handler).join(' | '),
            entry: first,
            passesOn: passesOn(members),
          },
        };
      }),
      matching,
      this.syntax,
    );
    const unsupported = [...routes.unsupported, ...this.paths.unsupported];
    if (strict && unsupported.length > 0) {
      throw CorsConfigError.all(
        unsupported.map(
          ({ path, value, reason }) =>
            new CorsConfigError(this.entries[value.entry].handler, unsupportedPath(path, reason)),
        ),
      );
    }
    return routes;
  }

  /** One instance per policy, so that the front door's per-policy work is shared by every route of the policy. */
  private candidatesOf(policies: CorsPolicy[]): CandidatePolicies {
    if (policies.length > 1) return new CandidatePolicies(policies);
    let candidates = this.candidatesByPolicy.get(policies[0]);
    if (candidates === undefined)
      this.candidatesByPolicy.set(policies[0], (candidates = new CandidatePolicies(policies)));
    return candidates;
  }
}

/** Whether every handler of a route sits behind a version filter: the requests none of them takes go on to other routes. */
function passesOn(members: readonly Endpoint[]): boolean {
  return members.every((member) => member.versionFiltered);
}

/** Whether a request may match routes of both methods: the same, `ALL`, or GET and HEAD (HEAD reaches GET routes). */
function methodsMeet(a: string, b: string): boolean {
  return a === b || a === 'ALL' || b === 'ALL' || (a === 'GET' && b === 'HEAD') || (a === 'HEAD' && b === 'GET');
}

function unsupportedPath(path: string, reason: UnsupportedReason): string {
  const cannot = `nestjs-cors cannot match the route path '${path}' as the adapter does, so it cannot tell which requests reach it. `;
  if (reason === 'parameter suffix')
    return (
      cannot +
      `Fastify's router ignores case in the path but not in the text after a parameter in its segment: put that text ` +
      `in a segment of its own (':name/png'), or make routing case-sensitive (Fastify's default)`
    );
  return (
    cannot +
    `Write it without an inline regular expression (validate the parameter with a pipe, e.g. ParseIntPipe), ` +
    `in the syntax of path-to-regexp 8 (':id', '*rest', '{/:optional}')`
  );
}
