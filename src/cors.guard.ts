import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { CORS_LOGGER_CONTEXT } from './cors.constants.js';
import { CorsPolicies } from './cors-policies.service.js';
import { isCrossOrigin, isPreflight, requestOrigin } from './policy/request-facts.js';

/**
 * CSRF protection: a cross-origin request that the handler's own policy does not allow is refused with 403 before
 * the handler runs, for unsafe methods (`enforce: 'unsafe'`, the default) or for all (`'all'`). Requests without
 * `Origin`, same-origin requests and preflights always pass.
 */
@Injectable()
export class CorsGuard implements CanActivate {
  private readonly logger = new Logger(CORS_LOGGER_CONTEXT);

  constructor(private readonly policies: CorsPolicies) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = rawRequest(context.switchToHttp().getRequest());
    const { headers, method = 'GET' } = request;
    const origin = requestOrigin(headers);
    if (origin === undefined || isPreflight(method, headers) || !isCrossOrigin(origin, headers)) return true;
    const policy = this.policies.forHandler(context.getClass(), context.getHandler());
    if (!policy.enforces(method)) return true;
    const reason = !(await this.policies.isOriginAllowed(policy, origin, request))
      ? 'origin not allowed'
      : policy.allowsMethod(method)
        ? undefined
        : 'method not allowed';
    if (reason === undefined) return true;
    this.logger.debug(`CORS request rejected: ${reason} (${JSON.stringify(origin)} ${method} ${context.getClass().name}.${context.getHandler().name})`);
    throw new ForbiddenException(`CORS request rejected: ${reason}`);
  }
}

/** The Node request behind the adapter's request object (Fastify wraps it as `raw`; Express extends it). */
export function rawRequest(request: IncomingMessage & { raw?: IncomingMessage }): IncomingMessage {
  return request.raw ?? request;
}
