import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CorsFrontDoor, Next } from '../cors-front-door.js';
import { type AdapterRequest, pathOf } from '../cors-request.js';
import { writeHeadsAside } from '../response-head.js';
import type { PathMatching } from '../routing/route-table.js';
import type { AdapterBinding } from './adapter-binding.js';

interface ExpressAdapter {
  getInstance(): { use(middleware: (request: AdapterRequest, response: ServerResponse, next: Next) => void): unknown };
  /** Nest 12 reports the router's `case sensitive routing` and `strict routing`; Nest 11 does not. */
  getRouteMatchingOptions?(): PathMatching;
}

/**
 * Express: the front door is a middleware of the app itself, added as soon as the adapter exists, so it comes before
 * the body parsers Nest adds at `init()` and before anything `main.ts` adds with `app.use()`; only the adapter's own
 * request hook runs earlier. Express matches routes against the raw path, without decoding it.
 */
export function expressBinding(adapter: ExpressAdapter): AdapterBinding {
  return {
    bind: (frontDoor: CorsFrontDoor) => {
      writeHeadsAside();
      adapter.getInstance().use((request, response, next) => frontDoor.handle(request, response, next, request as IncomingMessage, response));
    },
    routingPath: expressPath,
    pathMatching: () => adapter.getRouteMatchingOptions?.() ?? { caseSensitive: false, ignoreTrailingSlash: true },
  };
}

/**
 * The path Express routes: the raw one, except for an absolute-form target (`GET http://host/path`, as clients send a
 * proxy), which Express's `parseurl` reduces to its path.
 */
function expressPath(request: AdapterRequest): string {
  const path = pathOf(request);
  if (path.startsWith('/')) return path;
  const scheme = path.indexOf('://');
  if (scheme === -1) return path;
  const slash = path.indexOf('/', scheme + 3);
  return slash === -1 ? '/' : path.slice(slash);
}
