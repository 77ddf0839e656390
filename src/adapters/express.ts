import type { CorsFrontDoor, Next } from '../cors-front-door.js';
import type { AdapterRequest } from '../cors-request.js';
import type { ServerResponse } from 'node:http';

interface ExpressApp {
  use(middleware: (request: AdapterRequest, response: ServerResponse, next: Next) => void): unknown;
}

/**
 * Express: a middleware of the app itself, bound as soon as the adapter exists, so it comes before the body parsers
 * Nest adds at `init()` and before anything `main.ts` adds with `app.use()`; only the adapter's own request hook
 * runs earlier.
 */
export function bindExpress(app: ExpressApp, frontDoor: CorsFrontDoor): void {
  app.use((request, response, next) => frontDoor.handle(request, response, next));
}
