import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { CORS_DECISION, CORS_LOGGER_CONTEXT } from './cors.constants.js';
import { CorsPolicies, type CorsDecision } from './cors-policies.service.js';
import { type AdapterRequest, hostOf, rawRequest, removeHeaders } from './cors-request.js';
import type { CorsPolicy } from './policy/cors-policy.js';
import { isCrossOrigin } from './policy/request-facts.js';

/** Set by the middleware for the first candidate policy; replaced here when the handler's own policy differs. */
const ACTUAL_RESPONSE_HEADERS = ['Access-Control-Allow-Origin', 'Access-Control-Allow-Credentials', 'Access-Control-Expose-Headers'];

type CorsRequest = ReturnType<typeof rawRequest> & { [CORS_DECISION]?: CorsDecision };

/**
 * The first point where the handler is known. Where the route table could only guess the policy before routing
 * (header, media-type or custom versioning), it makes the CORS headers those of the handler's own policy; then it
 * enforces that policy: a cross-origin request it does not allow is refused with 403 before the handler runs, for
 * unsafe methods (`enforce: 'unsafe'`, the default) or for all (`'all'`). Requests without `Origin`, same-origin
 * requests and preflights carry no decision from the middleware and always pass. Synchronous unless an origin
 * function has to be asked.
 */
@Injectable()
export class CorsGuard implements CanActivate {
  private readonly logger = new Logger(CORS_LOGGER_CONTEXT);

  constructor(
    private readonly policies: CorsPolicies,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const http = context.switchToHttp();
    const adapterRequest = http.getRequest<AdapterRequest>();
    const request = rawRequest(adapterRequest) as CorsRequest;
    const decision = request[CORS_DECISION];
    if (decision === undefined) return true;
    const origin = decision.origin;
    // Where middleware gets the bare Node request (Fastify), it could not see the host the adapter trusts: check again.
    if (adapterRequest !== request && !isCrossOrigin(origin, request.headers, () => hostOf(adapterRequest))) return true;
    const policy = this.policies.forHandler(context.getClass(), context.getHandler());
    if (policy === decision.policy) return this.enforce(policy, decision.originAllowed, request.method ?? 'GET', context);

    const settle = (originAllowed: boolean) => {
      request[CORS_DECISION] = { policy, origin, originAllowed };
      const response = http.getResponse();
      removeHeaders(response, ACTUAL_RESPONSE_HEADERS);
      if (policy.rejectActual(originAllowed, request.method ?? 'GET') === undefined) {
        for (const [name, value] of policy.headersForActual(origin)) this.adapterHost.httpAdapter.setHeader(response, name, value);
      }
      return this.enforce(policy, originAllowed, request.method ?? 'GET', context);
    };
    const originAllowed = this.policies.isOriginAllowed(policy, origin, request);
    return typeof originAllowed === 'boolean' ? settle(originAllowed) : originAllowed.then(settle);
  }

  private enforce(policy: CorsPolicy, originAllowed: boolean, method: string, context: ExecutionContext): boolean {
    if (!policy.enforces(method)) return true;
    const reason = policy.rejectActual(originAllowed, method);
    if (reason === undefined) return true;
    this.logger.debug(`CORS request rejected: ${reason} (${method} ${context.getClass().name}.${context.getHandler().name})`);
    throw new ForbiddenException(`CORS request rejected: ${reason}`);
  }
}
