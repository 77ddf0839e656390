import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { decisionOf } from './cors-decision.js';
import { type AdapterRequest, type AdapterResponse, nodeRequestOf, nodeResponseOf, pathOf } from './node-request.js';
import { NO_HEADERS } from './policy/candidate-policies.js';
import { type CorsHead, headOf, writeOnHead } from './response-head.js';

/**
 * The CORS decision for handlers the front door cannot tell apart before routing (header, media-type or custom
 * versioning put several handlers behind one method and path). Only those handlers carry it (see `RouteIndex`);
 * everything else is decided by the front door alone. It makes the CORS headers those of the handler's own policy and
 * enforces that policy. Stateless, because controller classes, and so this guard, are shared by every app built from
 * them: the front door of the app that received the request leaves its decision on the request (`CorsDecision`).
 */
export class CorsGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const http = context.switchToHttp();
    const request = nodeRequestOf(http.getRequest<AdapterRequest>());
    const decision = decisionOf(request);
    if (decision === undefined) return true;
    const { app, candidates, origin, originAllowed } = decision;
    const policy = decision.policyOf(context.getClass(), context.getHandler());
    const method = request.method ?? 'GET';

    const settle = (allowed: boolean) => {
      const response = nodeResponseOf(http.getResponse<AdapterResponse>());
      const reason = policy.rejectActual(allowed, method);
      // The front door's head, put on before it left the decision: only the headers change, ownership stays.
      writeOnHead(response, {
        ...(headOf(response) as CorsHead),
        headers: reason === undefined ? policy.headersForActual(origin, method) : NO_HEADERS,
      });
      if (reason === undefined) return true;
      const outcome = policy.disallowedOutcome(method);
      const handler = `${context.getClass().name}.${context.getHandler().name}`;
      app.report({ kind: 'request', reason, outcome, origin, method, path: pathOf(request.url), handler });
      if (outcome === 'refused') throw app.refusal(reason);
      return true;
    };
    // A handler reached from another route than the one the front door matched has no answer there yet.
    const candidate = candidates.policies.indexOf(policy);
    const allowed =
      candidate >= 0 ? originAllowed[candidate] : app.isOriginAllowed(policy.originsFor(method), origin, request);
    return typeof allowed === 'boolean' ? settle(allowed) : allowed.then(settle);
  }
}
