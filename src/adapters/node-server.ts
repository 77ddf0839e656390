import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Next } from './adapter-binding.js';

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Puts `first` ahead of every `request` listener `server` has (the adapter's app or router, engine.io's listener, …),
 * the way engine.io puts itself ahead: they run when `first` passes the request on, and nothing of the app, of an
 * instance handed to the adapter or of its plugins sees a request before it. `failed` answers a request `first`
 * passed on with an error: it never reaches the app.
 */
export function putFirst(
  server: Server,
  first: (request: IncomingMessage, response: ServerResponse, next: Next) => void,
  failed: (response: ServerResponse, error: unknown) => void,
): void {
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    first(request, response, (error) => {
      if (error !== undefined) return failed(response, error);
      for (const listener of listeners) listener.call(server, request, response);
    });
  });
}
