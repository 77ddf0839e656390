import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CorsFrontDoor, Next } from '../cors-front-door.js';
import { type AdapterRequest, pathOf } from '../cors-request.js';
import type { PathMatching } from '../routing/route-table.js';
import type { AdapterBinding } from './adapter-binding.js';

type OnRequestHook = (request: AdapterRequest & { raw: IncomingMessage }, reply: { raw: ServerResponse }, done: Next) => void;

interface RouterOptions {
  ignoreDuplicateSlashes?: boolean;
  useSemicolonDelimiter?: boolean;
}

interface FastifyAdapter {
  getInstance(): {
    addHook(name: 'onRequest', hook: OnRequestHook): unknown;
    /** Fastify 5 takes router options at the top level (deprecated) or under `routerOptions`. */
    initialConfig: RouterOptions & { routerOptions?: RouterOptions };
  };
  getRouteMatchingOptions?(): PathMatching;
  /** The path as find-my-way routes it: decoded, duplicate slashes and `;` parameters removed where configured. */
  sanitizeUrl(url: string): string;
}

/**
 * Fastify: the front door is an `onRequest` hook of the root instance, added as soon as the adapter exists, so it runs
 * for every route and plugin, and before middie (Nest middleware, `app.use()`) and body parsing. A preflight or a
 * refusal it answers never calls `done`, so nothing else runs.
 */
export function fastifyBinding(adapter: FastifyAdapter): AdapterBinding {
  const { initialConfig } = adapter.getInstance();
  const { ignoreDuplicateSlashes, useSemicolonDelimiter } = { ...initialConfig, ...initialConfig.routerOptions };
  // What makes find-my-way route another path than the raw one: percent-encoding, an absolute-form target
  // (`http://host/path`), and where configured `//` and `;`. (Case and a trailing slash are the route table's.)
  const rewrites = ['%', '^[^/]'];
  if (ignoreDuplicateSlashes) rewrites.push('//');
  if (useSemicolonDelimiter) rewrites.push(';');
  const rewritten = new RegExp(rewrites.join('|'));
  return {
    bind: (frontDoor: CorsFrontDoor) => adapter.getInstance().addHook('onRequest', (request, reply, done) => frontDoor.handle(request, reply, done, request.raw, reply.raw)),
    routingPath: (request) => {
      const path = pathOf(request);
      return rewritten.test(path) ? adapter.sanitizeUrl(request.url ?? '/') : path;
    },
    pathMatching: () => adapter.getRouteMatchingOptions?.() ?? { caseSensitive: true, ignoreTrailingSlash: false },
  };
}
