import type { PathMatching } from '../routing/route-table.js';
import type { AdapterBinding, FrontDoorHandler } from './adapter-binding.js';

interface ExpressApp {
  use(middleware: FrontDoorHandler): unknown;
  /** The prototypes Express gives every request and response it handles (`app.handle`), which carry `app`. */
  request: object;
  response: object;
}

interface ExpressAdapter {
  getInstance(): ExpressApp;
  /** Nest 12 reports the router's `case sensitive routing` and `strict routing`; Nest 11 does not. */
  getRouteMatchingOptions?(): PathMatching;
}

/**
 * Express. Inside the app, the front door is a middleware added as soon as the adapter exists: ahead of the body
 * parsers Nest adds at `init()` and of `main.ts`'s `app.use()`, though behind routes an instance handed to the adapter
 * already had. Express matches routes against the raw path, without decoding it.
 */
export function expressBinding(adapter: ExpressAdapter): AdapterBinding {
  const app = adapter.getInstance();
  return {
    bindInside: (handle) => app.use(handle),
    routesAfterMiddleware: true,
    // A mount (`app.use('/upstream', …)`) takes its path off `url` while its middleware runs: `app.handle` keeps it.
    targetOf: (request) => (request as { originalUrl?: string }).originalUrl ?? request.url ?? '/',
    routingPath: expressPath,
    pathMatching: () => adapter.getRouteMatchingOptions?.() ?? { caseSensitive: false, ignoreTrailingSlash: true },
    // Express's own `req.host`, read through its prototype: it applies the app's `trust proxy` setting.
    hostOf: (request) =>
      (
        Object.create(app.request, { headers: { value: request.headers }, socket: { value: request.socket } }) as {
          host?: string;
        }
      ).host,
    forFilters: (request, response) => {
      // What Express's `app.handle` does first with every request, so that the filters get Express's request and
      // response (`response.status()`, `request.originalUrl`), as they do for an error of middleware.
      if (Object.getPrototypeOf(request) !== app.request) {
        Object.assign(request, { res: response, originalUrl: request.url });
        Object.assign(response, { req: request, locals: Object.create(null) });
        Object.setPrototypeOf(request, app.request);
        Object.setPrototypeOf(response, app.response);
      }
      return [request, response];
    },
  };
}

/**
 * The path Express routes: the raw one, except for an absolute-form target (`GET http://host/path`, as clients send a
 * proxy), which Express's `parseurl` reduces to its path.
 */
function expressPath(target: string): string {
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  if (path.startsWith('/')) return path;
  const scheme = path.indexOf('://');
  if (scheme === -1) return path;
  const slash = path.indexOf('/', scheme + 3);
  return slash === -1 ? '/' : path.slice(slash);
}
