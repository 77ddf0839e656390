import type { ServerResponse } from 'node:http';
import { Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import { CORS_DECISION, CORS_LOGGER_CONTEXT } from './cors.constants.js';
import { CorsPolicies, type CorsDecision } from './cors-policies.service.js';
import { type AdapterRequest, hostnameOf, hostOf, pathOf } from './cors-request.js';
import type { CorsHeaders, CorsPolicy } from './policy/cors-policy.js';
import { mergeVary } from './policy/http-tokens.js';
import { isCrossOrigin, isPreflight, requestOrigin } from './policy/request-facts.js';

type CorsRequest = AdapterRequest & { [CORS_DECISION]?: CorsDecision };
type Next = (error?: unknown) => void;

/**
 * Runs before routing, guards and the 404 handler, for every path and method: answers preflights with the policy of
 * the route the announced request will reach, and puts the CORS headers of actual requests on the response before
 * anything else can answer, so errors keep them. It speaks Node's `IncomingMessage`/`ServerResponse`, which every
 * Nest HTTP adapter hands to middleware.
 */
@Injectable()
export class CorsMiddleware implements NestMiddleware<CorsRequest, ServerResponse> {
  private readonly logger = new Logger(CORS_LOGGER_CONTEXT);

  constructor(private readonly policies: CorsPolicies) {}

  use(request: CorsRequest, response: ServerResponse, next: Next): void | Promise<void> {
    const { headers } = request;
    const method = request.method ?? 'GET';
    const origin = requestOrigin(headers);
    const preflight = isPreflight(method, headers);
    const announcedMethod = preflight ? String(headers['access-control-request-method']) : method;
    const policy = this.policies.forRequest(announcedMethod, pathOf(request), hostnameOf(request));
    addVary(response, preflight ? policy.preflightVary : policy.vary);
    if (origin === undefined || (!preflight && !isCrossOrigin(origin, headers, hostOf(request)))) return next();

    const originAllowed = this.policies.isOriginAllowed(policy, origin, request);
    const decide = (allowed: boolean) => {
      request[CORS_DECISION] = { policy, originAllowed: allowed };
      if (preflight) this.answerPreflight(request, response, next, policy, origin, allowed);
      else {
        const reason = policy.rejectActual(allowed, method);
        if (reason === undefined) setHeaders(response, policy.headersForActual(origin));
        else this.logger.debug(`CORS headers withheld: ${reason} (${JSON.stringify(origin)} ${method} ${pathOf(request)})`);
        next();
      }
    };
    return typeof originAllowed === 'boolean' ? decide(originAllowed) : originAllowed.then(decide);
  }

  private answerPreflight(
    request: CorsRequest,
    response: ServerResponse,
    next: Next,
    policy: CorsPolicy,
    origin: string,
    originAllowed: boolean,
  ): void {
    const { headers } = request;
    const answer = policy.resolvePreflight({
      origin,
      originAllowed,
      requestMethod: String(headers['access-control-request-method']),
      requestHeaders: headers['access-control-request-headers'],
      privateNetwork: headers['access-control-request-private-network'] === 'true',
    });
    if (!answer.accepted) {
      const reason = `CORS preflight rejected: ${answer.reason}`;
      this.logger.debug(`${reason} (${JSON.stringify(origin)} ${request.method} ${pathOf(request)})`);
      response.statusCode = 403;
      response.setHeader('Content-Type', 'text/plain; charset=utf-8');
      response.setHeader('Content-Length', Buffer.byteLength(reason));
      response.end(reason);
      return;
    }
    setHeaders(response, answer.headers);
    if (policy.preflightContinue) return next();
    response.statusCode = answer.status;
    if (answer.status !== 204) response.setHeader('Content-Length', '0');
    response.end();
  }

}

function setHeaders(response: ServerResponse, headers: CorsHeaders): void {
  for (const [name, value] of headers) response.setHeader(name, value);
}

/** Appends to whatever `Vary` the app or earlier middleware set, never replacing it. */
function addVary(response: ServerResponse, tokens: readonly string[]): void {
  if (tokens.length === 0) return;
  const merged = mergeVary(response.getHeader('Vary'), tokens);
  if (merged !== undefined) response.setHeader('Vary', merged);
}
