import { Injectable } from '@nestjs/common';
import type { CorsEnforce, CorsOptions } from './cors-options.interface.js';
import { CorsPolicies } from './cors-policies.service.js';
import type { CorsPolicy } from './policy/cors-policy.js';

/** The fields an audit shows, in this order. */
const FIELDS = ['origin', 'credentials', 'methods', 'allowedHeaders', 'exposedHeaders', 'maxAge', 'enforce', 'reportOnly'] as const;
type AuditedField = (typeof FIELDS)[number];

/** The effective CORS policy of one route, or of the paths no controller serves. */
export interface CorsRouteAudit {
  /** `GET`, `POST`, ...; `ALL` for a `paths` entry and for the other paths. */
  method: string;
  /** The full path as the adapter serves it (global prefix, versions, RouterModule paths); `*` for the other paths. */
  path: string;
  hosts?: string[];
  /** `Controller.method`, `forRoot paths[0]`, or `(no route)` for the paths nothing else covers. */
  handler: string;
  /** Each allowed origin as configured: exact origins and patterns as written, RegExps as `/.../`, a function as `function name`. */
  origin: string[];
  credentials: boolean;
  methods: string[] | '*';
  allowedHeaders: string[] | '*';
  exposedHeaders: string[];
  maxAge: number;
  enforce: CorsEnforce;
  reportOnly: boolean;
  /** Where each field came from: `forRoot`, `policy 'partner'`, `UsersController`, `UsersController.create`, or `default`. */
  from: Record<AuditedField, string>;
}

/**
 * Every route's effective CORS policy, for a security review or a test ("no route allows credentials from a pattern
 * origin"): `app.get(CorsAudit).routes()` after `app.init()`, or `.table()` to print it.
 */
@Injectable()
export class CorsAudit {
  constructor(private readonly policies: CorsPolicies) {}

  routes(): CorsRouteAudit[] {
    return this.policies.endpointsForAudit().map(({ method, path, hosts, handler, policy }) => ({
      method,
      path,
      ...(hosts === undefined ? {} : { hosts: hosts.map(String) }),
      handler,
      ...describe(policy),
    }));
  }

  /** The same as a plain-text table, one line per route. */
  table(): string {
    const rows = this.routes().map((route) => [
      route.method,
      route.path + (route.hosts ? ` @${route.hosts.join('|')}` : ''),
      route.handler,
      ...FIELDS.map((field) => `${format(route[field])}${route.from[field] === 'default' ? '' : ` ← ${route.from[field]}`}`),
    ]);
    const header = ['method', 'path', 'handler', ...FIELDS];
    const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
    return [header, ...rows].map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
  }
}

function describe(policy: CorsPolicy): Omit<CorsRouteAudit, 'method' | 'path' | 'hosts' | 'handler'> {
  const { options, sources } = policy;
  const from = Object.fromEntries(FIELDS.map((field) => [field, sources[field] ?? 'default'])) as Record<AuditedField, string>;
  return {
    origin: origins(options.origin),
    credentials: options.credentials,
    methods: options.methods,
    allowedHeaders: options.allowedHeaders,
    exposedHeaders: options.exposedHeaders,
    maxAge: options.maxAge,
    enforce: options.enforce,
    reportOnly: options.reportOnly,
    from,
  };
}

function origins(origin: CorsOptions['origin']): string[] {
  return [origin ?? []].flat().map((entry) =>
    typeof entry === 'function' ? `function ${entry.name || '(anonymous)'}` : String(entry),
  );
}

function format(value: unknown): string {
  return Array.isArray(value) ? (value.length === 0 ? '-' : value.join(', ')) : String(value);
}
