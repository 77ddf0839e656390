import type { AbstractHttpAdapter } from '@nestjs/core';
import type { AdapterBinding } from './adapter-binding.js';
import { expressBinding } from './express.js';
import { fastifyBinding } from './fastify.js';

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
