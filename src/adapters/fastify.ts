import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PathMatching } from '../routing/route-table.js';
import type { AdapterBinding, Next } from './adapter-binding.js';

type OnRequestHook = (request: { raw: IncomingMessage }, reply: { raw: ServerResponse }, done: Next) => void;

interface RouterOptions {
  maxParamLength?: number;
  ignoreDuplicateSlashes?: boolean;
  useSemicolonDelimiter?: boolean;
}

interface FastifyInstance {
  addHook(name: 'onRequest', hook: OnRequestHook): unknown;
  /** Fastify 5 takes router options at the top level (deprecated) or under `routerOptions`. */
  initialConfig: RouterOptions & { routerOptions?: RouterOptions };
}

interface FastifyAdapter {
  getInstance(): FastifyInstance;
  getRouteMatchingOptions?(): PathMatching;
  /** The path as find-my-way routes it: decoded, duplicate slashes and `;` parameters removed where configured. */
  sanitizeUrl(url: string): string;
}

/**
 * Fastify. Inside the app, the front door is an `onRequest` hook of the root instance, so it runs for every route and
 * plugin. The exception filters get Node's request and response, as they do for an error of Nest middleware on
 * Fastify (the adapter's `reply()` wraps a Node response in a reply of its own).
 */
export function fastifyBinding(adapter: FastifyAdapter): AdapterBinding {
  const instance = adapter.getInstance();
  const { ignoreDuplicateSlashes, useSemicolonDelimiter } = {
    ...instance.initialConfig,
    ...instance.initialConfig.routerOptions,
  };
  // What makes find-my-way route another path than the raw one: percent-encoding, an absolute-form target
  // (`http://host/path`), and where configured `//` and `;`. (Case and a trailing slash are the route table's.)
  const rewrites = ['%', '^[^/]'];
  if (ignoreDuplicateSlashes) rewrites.push('//');
  if (useSemicolonDelimiter) rewrites.push(';');
  const rewritten = new RegExp(rewrites.join('|'));
  const requestPrototype = fastifyRequestPrototype(instance);
  return {
    bindInside: (handle) =>
      instance.addHook('onRequest', (request, reply, done) => handle(request.raw, reply.raw, done)),
    routesAfterMiddleware: false,
    targetOf: (request) => request.url ?? '/',
    routingPath: (target) => {
      const query = target.indexOf('?');
      const path = query === -1 ? target : target.slice(0, query);
      return rewritten.test(path) ? adapter.sanitizeUrl(target) : path;
    },
    // Nest 11 reports no parameter bound (and no options at all before 11.1): Fastify's defaults, the bound the
    // instance was given, and find-my-way's case rule for a parameter's suffix.
    pathMatching: () => ({
      caseSensitive: true,
      ignoreTrailingSlash: false,
      caseSensitiveParamSuffix: true,
      maxParamLength:
        instance.initialConfig.routerOptions?.maxParamLength ?? instance.initialConfig.maxParamLength ?? 100,
      ...adapter.getRouteMatchingOptions?.(),
    }),
    hostOf: (request) => {
      if (requestPrototype === undefined) return request.headers.host;
      const view = Object.create(requestPrototype, {
        raw: { value: request },
        headers: { value: request.headers },
      }) as { host?: string };
      return view.host || undefined;
    },
    forFilters: (request, response) => [request, response],
  };
}

/**
 * The prototype of the instance's requests, whose `host` getter applies its `trustProxy` option (which the instance
 * does not expose otherwise). Fastify keeps the class under a symbol of its own.
 */
function fastifyRequestPrototype(instance: FastifyInstance): object | undefined {
  const key = Object.getOwnPropertySymbols(instance).find((symbol) => symbol.description === 'fastify.Request');
  const requestClass =
    key === undefined ? undefined : (instance as unknown as Record<symbol, { prototype?: object }>)[key];
  return requestClass?.prototype;
}
