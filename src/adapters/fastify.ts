import type { ServerResponse } from 'node:http';
import type { CorsFrontDoor, Next } from '../cors-front-door.js';
import type { AdapterRequest } from '../cors-request.js';

interface FastifyInstance {
  addHook(name: 'onRequest', hook: (request: AdapterRequest, reply: { raw: ServerResponse }, done: Next) => void): unknown;
}

/**
 * Fastify: an `onRequest` hook on the root instance, bound as soon as the adapter exists, so it runs for every route
 * and plugin, and before middie (Nest middleware, `app.use()`) and body parsing. A preflight or refusal it answers
 * never calls `done`, so nothing else runs.
 */
export function bindFastify(instance: FastifyInstance, frontDoor: CorsFrontDoor): void {
  instance.addHook('onRequest', (request, reply, done) => frontDoor.handle(request, reply, done));
}
