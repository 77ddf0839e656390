import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Observable } from 'rxjs';
import { CORS_DECISION } from './cors.constants.js';
import { CorsPolicies, type CorsDecision } from './cors-policies.service.js';
import { rawRequest } from './cors-request.js';
import { mergeVary } from './policy/http-tokens.js';

const ACTUAL_RESPONSE_HEADERS = [
  'Access-Control-Allow-Origin',
  'Access-Control-Allow-Credentials',
  'Access-Control-Expose-Headers',
];

/**
 * Makes the CORS headers of a response exactly those of the handler that runs, where the route table could only
 * guess before routing (e.g. header versioning), and puts `Origin` back into a `Vary` that the handler's
 * `@Header('Vary', ...)` replaced.
 */
@Injectable()
export class CorsInterceptor implements NestInterceptor {
  constructor(
    private readonly policies: CorsPolicies,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const response = http.getResponse();
    const request = rawRequest(http.getRequest()) as ReturnType<typeof rawRequest> & { [CORS_DECISION]?: CorsDecision };
    const adapter = this.adapterHost.httpAdapter;
    const policy = this.policies.forHandler(context.getClass(), context.getHandler());
    const decision = request[CORS_DECISION];
    if (decision !== undefined && decision.policy !== policy) {
      for (const name of ACTUAL_RESPONSE_HEADERS) response.removeHeader(name);
      const origin = String(request.headers.origin);
      const allowed = await this.policies.isOriginAllowed(policy, origin, request);
      request[CORS_DECISION] = { policy, originAllowed: allowed };
      if (policy.rejectActual(allowed, request.method ?? 'GET') === undefined) {
        for (const [name, value] of policy.headersForActual(origin)) adapter.setHeader(response, name, value);
      }
    }
    const vary = mergeVary(adapter.getHeader(response, 'Vary'), policy.vary);
    if (vary !== undefined) adapter.setHeader(response, 'Vary', vary);
    return next.handle();
  }
}
