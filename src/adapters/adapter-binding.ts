import type { AbstractHttpAdapter } from '@nestjs/core';
import type { CorsFrontDoor } from '../cors-front-door.js';
import type { AdapterRequest } from '../cors-request.js';
import type { PathMatching } from '../routing/route-table.js';
import { expressBinding } from './express.js';
import { fastifyBinding } from './fastify.js';

/** All nestjs-cors knows of an HTTP adapter: where its front door goes, and how the adapter routes a request. */
export interface AdapterBinding {
  /** Puts the front door at the adapter's earliest point. */
  bind(frontDoor: CorsFrontDoor): void;
  /** The request's path as the adapter's router compares it with route paths. */
  routingPath(request: AdapterRequest): string;
  pathMatching(): PathMatching;
}

/** The binding of a Nest HTTP adapter, or `undefined` for an adapter nestjs-cors does not support. */
export function adapterBinding(adapter: AbstractHttpAdapter): AdapterBinding | undefined {
  switch (adapter.getType()) {
    case 'express':
      return expressBinding(adapter as never);
    case 'fastify':
      return fastifyBinding(adapter as never);
    default:
      return undefined;
  }
}
