import 'reflect-metadata';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { CorsFrontDoor } from '../src/cors-front-door.js';
import { ALLOWED_ORIGIN, type AdapterName, createBenchApp, lastRoute, type Shape } from './app.js';

/**
 * What nestjs-cors itself adds to a request, measured inside one process: the front door's decision and the headers
 * it puts on the response, with nothing else of the server around it (no socket, no framework routing, no handler).
 * A whole-server figure cannot show this at scale: the front door adds about a microsecond to requests that cost
 * fifteen (Fastify) to hundreds (Express) and vary by more than that from run to run.
 *
 * Each round times N requests through `CorsFrontDoor.handle` and N through the same steps without it (a Node request
 * and response made, the head written as the adapter would), in turn; the cost is the median of the differences.
 */
export type FrontDoorScenario = 'allowed actual GET' | 'accepted preflight';

const REQUESTS_PER_ROUND = 30_000;
const ROUNDS = 15;

const socket = new Socket();

/** Express's prototypes of this app's requests and responses, which Express gives each of them as it arrives. */
interface ExpressPrototypes {
  request: object;
  response: object;
}

function exchange(scenario: FrontDoorScenario, path: string) {
  const preflight = scenario === 'accepted preflight';
  const request = new IncomingMessage(socket);
  request.method = preflight ? 'OPTIONS' : 'GET';
  request.url = path;
  request.headers = preflight
    ? {
        host: '127.0.0.1:3000',
        origin: ALLOWED_ORIGIN,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type, authorization',
      }
    : { host: '127.0.0.1:3000', origin: ALLOWED_ORIGIN };
  const response = new ServerResponse(request);
  // Nothing reaches a socket: what is left is the work of building the head.
  Object.assign(response, { _send: () => true, _writeRaw: () => true });
  return { request, response, preflight };
}

/** What Express does with every request as it arrives, after the front door at the server has seen it. */
function enterExpress(express: ExpressPrototypes, request: IncomingMessage, response: ServerResponse): void {
  Object.setPrototypeOf(request, express.request);
  Object.setPrototypeOf(response, express.response);
  Object.assign(request, { res: response, originalUrl: request.url });
  Object.assign(response, { req: request, locals: Object.create(null) });
}

/** What the adapter writes once the handler has answered: Fastify passes its headers as an object, Express sets them. */
function writeHandlerHead(adapter: AdapterName, response: ServerResponse): void {
  if (adapter === 'fastify')
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '2' });
  else {
    response.setHeader('Content-Type', 'text/plain; charset=utf-8');
    response.writeHead(200);
  }
}

function timeNanos(requests: number, one: () => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) one();
  return Number(process.hrtime.bigint() - start) / requests;
}

export async function frontDoorCost(
  adapter: AdapterName,
  routes: number,
  shape: Shape,
  scenario: FrontDoorScenario,
): Promise<number> {
  const app: INestApplication = await createBenchApp(adapter, 'nestjs-cors', routes, shape);
  await app.init();
  try {
    const frontDoor = app.get(CorsFrontDoor);
    const path = `${lastRoute(routes, shape)}/42`;
    const express = adapter === 'express' ? (app.getHttpAdapter().getInstance() as ExpressPrototypes) : undefined;
    const withFrontDoor = () => {
      const { request, response, preflight } = exchange(scenario, path);
      let passedOn = false;
      frontDoor.handle(request, response, () => (passedOn = true));
      if (passedOn === preflight)
        throw new Error(`the front door did not ${preflight ? 'answer' : 'pass on'} the ${scenario}`);
      if (preflight) return;
      if (express !== undefined) enterExpress(express, request, response);
      writeHandlerHead(adapter, response);
    };
    const without = () => {
      const { request, response, preflight } = exchange(scenario, path);
      if (express !== undefined) enterExpress(express, request, response);
      if (preflight) response.writeHead(204, {}).end();
      else writeHandlerHead(adapter, response);
    };
    timeNanos(REQUESTS_PER_ROUND, withFrontDoor); // warm-up, and the optimiser's first pass
    timeNanos(REQUESTS_PER_ROUND, without);
    const added: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Each timing starts from a collected heap, and the two go first in turn: a collection the previous timing left
      // due would otherwise fall into the next one's time.
      const [first, second] = round % 2 === 0 ? [withFrontDoor, without] : [without, withFrontDoor];
      globalThis.gc?.();
      const firstNanos = timeNanos(REQUESTS_PER_ROUND, first);
      globalThis.gc?.();
      const secondNanos = timeNanos(REQUESTS_PER_ROUND, second);
      added.push(first === withFrontDoor ? firstNanos - secondNanos : secondNanos - firstNanos);
    }
    return added.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
  } finally {
    await app.close();
  }
}

// As a child process (run.ts forks one per measurement, so no app's optimised code serves another): the figure goes
// back to the parent.
if (process.env.FRONT_DOOR_COST) {
  const { adapter, routes, shape, scenario } = JSON.parse(process.env.FRONT_DOOR_COST);
  process.send?.({ nanos: await frontDoorCost(adapter, routes, shape, scenario) });
}
