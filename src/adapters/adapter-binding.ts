import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PathMatching } from '../routing/route-table.js';

/** Passes the request on to the rest of the app; with an error, to the adapter's error handling. */
export type Next = (error?: unknown) => void;

/** The front door as a binding calls it: Node's request and response, and what passes the request on. */
export type FrontDoorHandler = (request: IncomingMessage, response: ServerResponse, next: Next) => void;

/** All nestjs-cors knows of an HTTP adapter: where its front door goes, how it routes, and how it sees a request. */
export interface AdapterBinding {
  /**
   * Puts `handle` at the adapter's own earliest point, for requests that reach the adapter without its HTTP server's
   * `request` event: Fastify's `inject()`, an Express app served by a server of the user's (serverless handlers,
   * `supertest(app.getHttpAdapter().getInstance())`).
   */
  bindInside(handle: FrontDoorHandler): void;
  /**
   * Whether the adapter routes a request after the app's middleware has run (Express), so that a middleware can change
   * the method it is routed with; Fastify routes before any hook.
   */
  routesAfterMiddleware: boolean;
  /** The request target the client sent, as it was before the adapter's mounts rewrote `request.url`, if they do. */
  targetOf(request: IncomingMessage): string;
  /** The path of a request target (`/a/b?c`) as the adapter's router compares it with route paths. */
  routingPath(target: string): string;
  pathMatching(): PathMatching;
  /** The host the client addressed, as the adapter's trust-proxy setting has it (`X-Forwarded-Host` from a trusted proxy). */
  hostOf(request: IncomingMessage): string | undefined;
  /** The request and response as the app's exception filters get them for an error thrown by middleware. */
  forFilters(request: IncomingMessage, response: ServerResponse): [request: unknown, response: unknown];
}
