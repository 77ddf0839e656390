import type { ServerResponse } from 'node:http';
import { Logger } from '@nestjs/common';
import { CORS_LOGGER_CONTEXT } from './cors.constants.js';
import type { AdapterBinding } from './adapters/adapter-binding.js';
import type { CorsPolicies } from './cors-policies.service.js';
import { hostOf, pathOf } from './cors-request.js';
import { isPreflight } from './policy/request-facts.js';
import type { HeaderOwner } from './response-head.js';

/**
 * Where no route matches, each path is its own entry: past this many, a proxy's endless paths would grow the set and
 * the log without end.
 */
const MAX_WARNED = 100;

/**
 * Warns that nestjs-cors overrode CORS headers the app or a proxied upstream set on a cross-origin response: once per
 * method and route (its path template; where no route matches, the path), as they are usually set on every response.
 * Only called where a header was overridden, so nothing here runs for a response that needed no override.
 */
export class HeaderOverrides implements HeaderOwner {
  private readonly logger = new Logger(CORS_LOGGER_CONTEXT);
  private readonly warned = new Set<string>();

  constructor(
    private readonly policies: CorsPolicies,
    private readonly binding: () => AdapterBinding,
  ) {}

  overridden(response: ServerResponse, names: readonly string[]): void {
    if (this.warned.size >= MAX_WARNED) return;
    const request = response.req;
    const { headers } = request;
    const method = request.method ?? 'GET';
    const binding = this.binding();
    const target = binding.targetOf(request);
    // A preflight belongs to the route of the request it announces.
    const routed = isPreflight(method, headers) ? String(headers['access-control-request-method']) : method;
    const route = this.policies.routePathFor(routed, target, hostOf(request, (each) => binding.hostOf(each)));
    const where = `${method} ${route ?? pathOf(target)}`;
    if (this.warned.has(where)) return;
    this.warned.add(where);
    const more = this.warned.size === MAX_WARNED ? `; this is the last such warning (${MAX_WARNED} routes)` : '';
    this.logger.warn(
      `${names.join(', ')} set by the app or a proxied upstream overridden on a cross-origin response to ${where}: ` +
        `nestjs-cors owns the CORS headers of cross-origin responses (warned once per route${more})`,
    );
  }
}
