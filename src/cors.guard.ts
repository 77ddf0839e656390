import { type CanActivate, type ExecutionContext, ForbiddenException } from '@nestjs/common';
import { CORS_DECISION } from './cors.constants.js';
import { NO_HEADERS } from './policy/candidate-policies.js';
import type { CorsDecision } from './cors-front-door.js';
import { type AdapterRequest, type AdapterResponse, nodeRequestOf, nodeResponseOf, pathOf } from './cors-request.js';
import { type CorsHead, headOf, writeOnHead } from './response-head.js';

/**
 * The CORS decision for handlers the front door cannot tell apart before routing (header, media-type or custom
 * versioning put several handlers behind one method and path). Only those handlers carry it (see
 * `CorsPolicies.compileRoutes`); everything else is decided by the front door alone. It makes the CORS headers those
 * of the handler's own policy and enforces that policy. Stateless, because controller classes, and so this guard, are
 * shared by every app built from them: the front door of the app that received the request leaves its decision on
 * the request.
 */
export class CorsGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const http = context.switchToHttp();
    const request = nodeRequestOf(http.getRequest<AdapterRequest>());
    const decision = (request as { [CORS_DECISION]?: CorsDecision })[CORS_DECISION];
    if (decision === undefined) return true;
    const { policies, candidates, origin, originAllowed } = decision;
    const policy = policies.forHandler(context.getClass(), context.getHandler());
    const method = request.method ?? 'GET';

    const settle = (allowed: boolean) => {
      const response = nodeResponseOf(http.getResponse<AdapterResponse>());
      const headers = policy.rejectActual(allowed, method) === undefined ? policy.headersForActual(origin) : NO_HEADERS;
      // The front door's head, put on before it left the decision: only the headers change, ownership stays.
      writeOnHead(response, { ...(headOf(response) as CorsHead), headers });
      const reason = policy.rejectActual(allowed, method);
      if (reason === undefined) return true;
      const outcome = policy.disallowedOutcome(method);
      const handler = `${context.getClass().name}.${context.getHandler().name}`;
      policies.report({ kind: 'request', reason, outcome, origin, method, path: pathOf(request.url), handler });
      if (outcome === 'refused') throw new ForbiddenException(`CORS request rejected: ${reason}`);
      return true;
    };
    const candidate = candidates.policies.indexOf(policy);
    const allowed = candidate >= 0 ? originAllowed[candidate] : policies.isOriginAllowed(policy, origin, request);
    return typeof allowed === 'boolean' ? settle(allowed) : allowed.then(settle);
  }
}
