import { Controller, Get, type INestApplication, Module, Param, Post, Put, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Cors, CorsModule, type CorsModuleOptions } from '../src/index.js';

export type AdapterName = 'express' | 'fastify';
export type Variant = 'none' | 'enableCors' | 'nestjs-cors';
/**
 * How every route's path begins: with a literal (`/cN`), or with a parameter (`/:tenant/cN`), which leaves a route
 * table no literal prefix to file the route under.
 */
export type Shape = 'literal' | 'param-first';

export const ALLOWED_ORIGIN = 'https://app.example.com';

/** One policy, given to app.enableCors() and to CorsModule alike, so the two do the same work. */
export const POLICY = {
  origin: [ALLOWED_ORIGIN],
  credentials: true,
  methods: ['GET', 'PUT', 'POST'],
  allowedHeaders: ['Content-Type', 'Authorization'],
  exposedHeaders: ['X-Request-Id'],
  maxAge: 600,
} satisfies CorsModuleOptions;

export const controllerCount = (routes: number) => Math.max(1, Math.floor(routes / 4));

/**
 * `routes / 4` controllers of four routes each (`GET /cN`, `POST /cN`, `GET /cN/:id`, `PUT /cN/:id`, each under
 * `/:tenant` in the param-first shape). The first controller has a `@Cors()` of its own, so nestjs-cors cannot skip
 * its route table, and the routes the benchmark asks for are the last ones registered: the worst place for a table
 * that scans. Their controller has a `@Cors()` of its own too, whose effective policy is the global one (so that
 * `app.enableCors()` does the same work): the requested route is looked up and has a policy of its own.
 */
function controllers(routes: number, shape: Shape): Type[] {
  return Array.from({ length: controllerCount(routes) }, (_, i) => {
    class BenchController {
      list() {
        return 'list';
      }
      create() {
        return 'created';
      }
      get(id: string) {
        return id;
      }
      put(id: string) {
        return id;
      }
    }
    Object.defineProperty(BenchController, 'name', { value: `Bench${i}Controller` });
    const method = (name: keyof BenchController, decorator: MethodDecorator) =>
      decorator(BenchController.prototype, name, Object.getOwnPropertyDescriptor(BenchController.prototype, name)!);
    method('list', Get());
    method('create', Post());
    method('get', Get(':id'));
    method('put', Put(':id'));
    Param('id')(BenchController.prototype, 'get', 0);
    Param('id')(BenchController.prototype, 'put', 0);
    if (i === 0) Cors({ exposedHeaders: ['X-Total-Count'] })(BenchController);
    else if (i === controllerCount(routes) - 1) Cors({ exposedHeaders: POLICY.exposedHeaders })(BenchController);
    Controller(shape === 'literal' ? `c${i}` : `:tenant/c${i}`)(BenchController);
    return BenchController;
  });
}

export async function createBenchApp(
  adapter: AdapterName,
  variant: Variant,
  routes: number,
  shape: Shape,
): Promise<INestApplication> {
  @Module({
    imports: variant === 'nestjs-cors' ? [CorsModule.forRoot(POLICY)] : [],
    controllers: controllers(routes, shape),
  })
  class BenchModule {}
  const app = await NestFactory.create(
    BenchModule,
    adapter === 'express' ? new ExpressAdapter() : new FastifyAdapter(),
    {
      logger: false,
    },
  );
  if (variant === 'enableCors') app.enableCors(POLICY);
  return app;
}

/** A request path to controller `index`'s list route. */
function controllerPath(index: number, shape: Shape): string {
  return shape === 'literal' ? `/c${index}` : `/acme/c${index}`;
}

/** The path the scenarios ask for: a route of the last controller. */
export function lastRoute(routes: number, shape: Shape): string {
  return controllerPath(controllerCount(routes) - 1, shape);
}
