import type { IncomingMessage } from 'node:http';
import type { CandidatePolicies } from '../policy/candidate-policies.js';
import type { CorsPolicy } from '../policy/cors-policy.js';
import type { GatewayTransport } from './gateway-table.js';
import type { PathMatching } from './route-table.js';

/** A controller route as the adapter serves it, with its resolved policy. */
export interface Endpoint {
  method: string;
  path: string;
  hosts?: ReadonlyArray<string | RegExp>;
  /** `Controller.method`. */
  handler: string;
  policy: CorsPolicy;
  /** The handler function, which gets the guard where a preflight cannot tell it from others. */
  handlerFunction: Function;
  /** Behind a version filter the path does not show (header, media-type or custom versioning). */
  versionFiltered: boolean;
}

/** A WebSocket gateway served on the app's HTTP server (see `GatewayTable`). */
export interface GatewayEndpoint {
  transport: GatewayTransport;
  /** The path its server takes handshakes at (`handshakePath`). */
  path: string;
  /** The gateway class's name. */
  handler: string;
  /** Its `@Cors()`'s; without one, the `paths` entry for its path, else the global policy. */
  policy: CorsPolicy | undefined;
}

/** A `paths` entry of `forRoot`: a policy for requests to paths no controller serves. */
export interface PathEntry {
  path: string;
  policy: CorsPolicy;
  /** `forRoot paths[0]`. */
  location: string;
}

/** One entry of the index, in its order: every controller route, every gateway, every `paths` entry, then the rest. */
export interface IndexEntry {
  /** `GET`, …; `WS` for a gateway; `ALL` for a `paths` entry and the rest. */
  method: string;
  path: string;
  hosts?: ReadonlyArray<string | RegExp>;
  /** `Controller.method`, a gateway class, `forRoot paths[0]`, or `(no route)`. */
  handler: string;
  policy: CorsPolicy;
}

/** What a request reaches, as far as CORS is concerned. */
export interface RouteTarget {
  /** The policies the request may end up under: one, or those of every handler a version may pick. */
  candidates: CandidatePolicies;
  /** `Controller.method` of the route that matched (several joined by ` | `), or the gateway, if one did. */
  handler?: string;
  /** The index in `entries` of the route that matched (the first of a version group), a `paths` entry, or the rest. */
  entry: number;
  /**
   * Every handler of the route is behind a version filter: a request whose version none of them takes goes on to a
   * later route, perhaps of another path (a parameter, a wildcard), whose guard must then decide.
   */
  passesOn?: boolean;
}

/** The host a request addressed, as the adapter believes it (see `CorsRoutes.hostOf`). */
export type HostOf = (request: IncomingMessage) => string | undefined;

/** How the adapter routes, as far as the index needs it. */
export interface Routing {
  /** The path of a request target as the adapter's router compares it. */
  routingPath(target: string): string;
  pathMatching(): PathMatching;
}
