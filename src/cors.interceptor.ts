import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { HEADERS_METADATA, INTERCEPTORS_METADATA } from '@nestjs/common/constants.js';
import { HttpAdapterHost, MetadataScanner, type ModulesContainer } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { CORS_INTERCEPTOR } from './cors.constants.js';
import { CorsPolicies } from './cors-policies.service.js';
import { type AdapterRequest, rawRequest } from './cors-request.js';
import { mergeVary } from './policy/http-tokens.js';

/**
 * Puts the policy's `Vary` tokens back into a `Vary` that the handler's `@Header('Vary', ...)` replaced (Nest sets
 * `@Header()` headers after middleware and guards, just before interceptors run). Only such handlers get it: see
 * `interceptHandlersSettingVary`.
 */
@Injectable()
export class CorsInterceptor implements NestInterceptor {
  constructor(
    private readonly policies: CorsPolicies,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const response = context.switchToHttp().getResponse();
    const adapter = this.adapterHost.httpAdapter;
    const vary = mergeVary(adapter.getHeader(response, 'Vary'), this.policies.forHandler(context.getClass(), context.getHandler()).vary);
    if (vary !== undefined) adapter.setHeader(response, 'Vary', vary);
    return next.handle();
  }
}

/**
 * What handlers carry. Controller classes, and so their metadata, are shared by every app built from them (an e2e
 * suite builds many), so they get this one stateless interceptor, which hands over to the `CorsInterceptor` of the
 * app that received the request: its middleware leaves it on the request.
 */
const handOver: NestInterceptor = {
  intercept(context, next) {
    if (context.getType() !== 'http') return next.handle();
    const request = rawRequest(context.switchToHttp().getRequest<AdapterRequest>()) as { [CORS_INTERCEPTOR]?: CorsInterceptor };
    return request[CORS_INTERCEPTOR]?.intercept(context, next) ?? next.handle();
  },
};

/**
 * Attaches the interceptor to exactly the handlers that have `@Header('Vary', ...)`, known from their metadata.
 * Any interceptor makes Nest run a handler through an RxJS pipeline, which measurably slows every request
 * (`npm run bench`), so it is not global. Called while modules are instantiated, before Nest reads handler metadata
 * to register routes.
 */
export function interceptHandlersSettingVary(modules: ModulesContainer): void {
  const scanner = new MetadataScanner();
  for (const module of modules.values()) {
    for (const { metatype } of module.controllers.values()) {
      if (typeof metatype !== 'function') continue;
      const prototype = metatype.prototype;
      for (const name of scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        const headers: Array<{ name: string }> = Reflect.getMetadata(HEADERS_METADATA, handler) ?? [];
        if (!headers.some((header) => header.name.toLowerCase() === 'vary')) continue;
        const interceptors: unknown[] = Reflect.getMetadata(INTERCEPTORS_METADATA, handler) ?? [];
        if (!interceptors.includes(handOver)) Reflect.defineMetadata(INTERCEPTORS_METADATA, [...interceptors, handOver], handler);
      }
    }
  }
}
