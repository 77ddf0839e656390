import type { ServerResponse } from 'node:http';
import { Injectable, Logger } from '@nestjs/common';
import { CORS_LOGGER_CONTEXT } from './cors.constants.js';
import { CorsRoutes } from './cors-routes.service.js';
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
@Injectable()
export class HeaderOverrides implements HeaderOwner {
  private readonly logger = new Logger(CORS_LOGGER_CONTEXT);
  private readonly warned = new Set<string>();

  constructor(private readonly routes: CorsRoutes) {}

  overridden(response: ServerResponse, names: readonly string[]): void {
    if (this.warned.size >= MAX_WARNED) return;
    const request = response.req;
    const where = `${request.method ?? 'GET'} ${this.routes.routePathOf(request)}`;
    if (this.warned.has(where)) return;
    this.warned.add(where);
    const more = this.warned.size === MAX_WARNED ? `; this is the last such warning (${MAX_WARNED} routes)` : '';
    this.logger.warn(
      `${names.join(', ')} set by the app or a proxied upstream overridden on a cross-origin response to ${where}: ` +
        `nestjs-cors owns the CORS headers of cross-origin responses (warned once per route${more})`,
    );
  }
}
