import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable, Logger } from '@nestjs/common';
import { CORS_LOGGER_CONTEXT } from './cors.constants.js';
import { CorsPolicies } from './cors-policies.service.js';
import { type AdapterRequest, hostOf, rawRequest } from './cors-request.js';
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
    const adapterRequest = context.switchToHttp().getRequest<AdapterRequest>();
    const request = rawRequest(adapterRequest);
    const { headers, method = 'GET' } = request;
    const origin = requestOrigin(headers);
    if (origin === undefined || isPreflight(method, headers) || !isCrossOrigin(origin, headers, hostOf(adapterRequest))) {
      return true;
    }
    const policy = this.policies.forHandler(context.getClass(), context.getHandler());
    if (!policy.enforces(method)) return true;
    const reason = policy.rejectActual(await this.policies.isOriginAllowed(policy, origin, request), method);
    if (reason === undefined) return true;
    this.logger.debug(`CORS request rejected: ${reason} (${JSON.stringify(origin)} ${method} ${context.getClass().name}.${context.getHandler().name})`);
    throw new ForbiddenException(`CORS request rejected: ${reason}`);
  }
}
