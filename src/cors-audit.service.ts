import { Injectable } from '@nestjs/common';
import { formatBaseline } from './baseline/baseline-file.js';
import type { CorsEnforce, CorsOptions } from './cors-options.interface.js';
import { CorsRoutes } from './cors-routes.service.js';
import type { CorsPolicy, OptionSources } from './policy/cors-policy.js';
import type { IndexEntry } from './routing/route-index.interface.js';

/** The fields an audit shows, in this order. */
const FIELDS = [
  'origin',
  'writeOrigin',
  'credentials',
  'methods',
  'allowedHeaders',
  'exposedHeaders',
  'maxAge',
  'enforce',
  'reportOnly',
  'allowPrivateNetwork',
] as const;
type AuditedField = (typeof FIELDS)[number];

/** The effective CORS policy of one route or WebSocket gateway, or of the paths no controller serves. */
export interface CorsRouteAudit {
  /** `GET`, `POST`, ...; `WS` for a WebSocket gateway; `ALL` for a `paths` entry and for the other paths. */
  method: string;
  /**
   * The full path as the adapter serves it (global prefix, versions, RouterModule paths); for a gateway, the path its
   * server takes handshakes at (`ws`: that path; socket.io: every target that starts with it, its polling requests
   * included); `*` for the other paths.
   */
  path: string;
  hosts?: string[];
  /** `Controller.method`, a gateway class, `forRoot paths[0]`, or `(no route)` for the paths nothing else covers. */
  handler: string;
  /** Each allowed origin as configured: exact origins and patterns as written, RegExps as `/.../`, a function as `function name`. */
  origin: string[];
  /** Who may send writes (methods other than GET/HEAD/OPTIONS), in the same form: `origin`'s where it is not given. */
  writeOrigin: string[];
  credentials: boolean;
  methods: string[] | '*';
  allowedHeaders: string[] | '*';
  exposedHeaders: string[];
  maxAge: number;
  enforce: CorsEnforce;
  reportOnly: boolean;
  /** Whether accepted preflights answer `Access-Control-Request-Private-Network` (legacy Private Network Access). */
  allowPrivateNetwork: boolean;
  /**
   * Where each field came from: `forRoot` (or `forRootAsync`, or `reconfigure()` once it replaced them),
   * `policy 'partner'`, `UsersController`, `UsersController.create`, a `paths` entry (`forRoot paths[0] (/graphql)`),
   * or `default`. A `writeOrigin` that follows `origin` comes from where `origin` does.
   */
  from: Record<AuditedField, string>;
}

/**
 * Every route's effective CORS policy, for a security review or a test ("no route allows credentials from a pattern
 * origin"): `app.get(CorsAudit).routes()` after `app.init()`, or `.table()` to print it; `.routeFor()` for the route
 * one request reaches.
 */
@Injectable()
export class CorsAudit {
  constructor(private readonly appRoutes: CorsRoutes) {}

  /** Under the configuration requests are decided with now: after `reconfigure()`, the new one. */
  routes(): CorsRouteAudit[] {
    return this.appRoutes.current.entries().map(entry);
  }

  /**
   * The entry of `routes()` whose policy nestjs-cors applies to a request for `method` at `path` on `host`, found
   * with the same route table as the front door that decides every request, after `app.init()`: the socket.io
   * gateway whose server answers it (its polling requests), else the controller route the adapter would run (global
   * prefix, versions, RouterModule paths, host; the adapter's case and trailing-slash rules; HEAD reaches GET routes),
   * else the first matching `paths` entry, else the entry for the other paths (`ALL *`, `(no route)`). Handlers that only a header, media-type or custom version tells apart are one route to
   * the front door; this gives the first of them in the adapter's order.
   *
   * @param method the request's method; for a preflight, the method it announces (`Access-Control-Request-Method`),
   *   as a preflight is answered with the policy of the request it announces; `WS` for an upgrade (a WebSocket
   *   handshake), which reaches a gateway, else its `paths` entry, else the other paths' entry
   * @param path the request target as sent, e.g. `/api/users/7?page=2` (the query string is ignored)
   * @param host the `Host` the request addressed (a port is ignored), as the adapter reads it (behind a proxy the
   *   adapter trusts, `X-Forwarded-Host`); only host-bound controllers (`@Controller({ host })`) look at it
   */
  routeFor(method: string, path: string, host?: string): CorsRouteAudit {
    const snapshot = this.appRoutes.current;
    return entry(snapshot.entries()[snapshot.lookup(method, path, host).entry]);
  }

  /**
   * The text of a policy baseline file (JSON Lines, one route a line, sorted, without timestamps or sources), to commit
   * and check in CI with `expectCorsBaseline()` or `nestjs-cors audit --check`.
   */
  baseline(): string {
    return formatBaseline(this.routes());
  }

  /** The same as a plain-text table, one line per route. */
  table(): string {
    const rows = this.routes().map((route) => [
      route.method,
      route.path + (route.hosts ? ` @${route.hosts.join('|')}` : ''),
      route.handler,
      ...FIELDS.map(
        (field) => `${format(route[field])}${route.from[field] === 'default' ? '' : ` ← ${route.from[field]}`}`,
      ),
    ]);
    const header = ['method', 'path', 'handler', ...FIELDS];
    const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
    return [header, ...rows]
      .map((row) =>
        row
          .map((cell, i) => cell.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n');
  }
}

function entry({ method, path, hosts, handler, policy }: IndexEntry): CorsRouteAudit {
  return {
    method,
    path,
    ...(hosts === undefined ? {} : { hosts: hosts.map(String) }),
    handler,
    ...describe(policy, policy.sources),
  };
}

function describe(
  policy: CorsPolicy,
  sources: OptionSources,
): Omit<CorsRouteAudit, 'method' | 'path' | 'hosts' | 'handler'> {
  const { options } = policy;
  const from = Object.fromEntries(FIELDS.map((field) => [field, sources[field] ?? 'default'])) as Record<
    AuditedField,
    string
  >;
  if (options.writeOrigin === undefined) from.writeOrigin = from.origin;
  return {
    origin: origins(options.origin),
    writeOrigin: origins(options.writeOrigin ?? options.origin),
    credentials: options.credentials,
    methods: options.methods,
    allowedHeaders: options.allowedHeaders,
    exposedHeaders: options.exposedHeaders,
    maxAge: options.maxAge,
    enforce: options.enforce,
    reportOnly: options.reportOnly,
    allowPrivateNetwork: options.allowPrivateNetwork,
    from,
  };
}

function origins(origin: CorsOptions['origin']): string[] {
  return [origin ?? []]
    .flat()
    .map((entry) => (typeof entry === 'function' ? `function ${entry.name || '(anonymous)'}` : String(entry)));
}

function format(value: unknown): string {
  return Array.isArray(value) ? (value.length === 0 ? '-' : value.join(', ')) : String(value);
}
