import type { ServerResponse } from 'node:http';
import { Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import { CORS_DECISION, CORS_INTERCEPTOR, CORS_LOGGER_CONTEXT } from './cors.constants.js';
import { CorsInterceptor } from './cors.interceptor.js';
import { CorsPolicies, type CorsDecision } from './cors-policies.service.js';
import { type AdapterRequest, hostOf, pathOf } from './cors-request.js';
import type { CandidatePolicies } from './policy/candidate-policies.js';
import type { CorsHeaders } from './policy/cors-policy.js';
import { mergeVary } from './policy/http-tokens.js';
import { isCrossOrigin, isPreflight, requestOrigin } from './policy/request-facts.js';

type CorsRequest = AdapterRequest & { [CORS_DECISION]?: CorsDecision; [CORS_INTERCEPTOR]?: CorsInterceptor };
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

  constructor(
    private readonly policies: CorsPolicies,
    private readonly interceptor: CorsInterceptor,
  ) {}

  use(request: CorsRequest, response: ServerResponse, next: Next): void | Promise<void> {
    const { headers } = request;
    request[CORS_INTERCEPTOR] = this.interceptor;
    const method = request.method ?? 'GET';
    const origin = requestOrigin(headers);
    const preflight = isPreflight(method, headers);
    const announcedMethod = preflight ? String(headers['access-control-request-method']) : method;
    const candidates = this.policies.forRequest(announcedMethod, request);
    if (preflight) addVary(response, candidates.preflightVary, candidates.preflightVaryValue);
    else addVary(response, candidates.vary, candidates.varyValue);
    if (origin === undefined || (!preflight && !isCrossOrigin(origin, headers, () => hostOf(request)))) return next();

    const originAllowed = candidates.policies.map((policy) => this.policies.isOriginAllowed(policy, origin, request));
    const decide = (allowed: boolean[]) => {
      if (preflight) return this.answerPreflight(request, response, next, candidates, origin, allowed);
      const chosen = candidates.allowingActual(allowed, method);
      // The decision of the candidate that allowed the request, or of the first: the guard reuses it.
      const decided = Math.max(chosen, 0);
      request[CORS_DECISION] = { policy: candidates.policies[decided], origin, originAllowed: allowed[decided] };
      if (chosen >= 0) setHeaders(response, candidates.policies[chosen].headersForActual(origin));
      else {
        const reason = candidates.policies[0].rejectActual(allowed[0], method);
        this.logger.debug(`CORS headers withheld: ${reason} (${JSON.stringify(origin)} ${method} ${pathOf(request)})`);
      }
      next();
    };
    return originAllowed.every((allowed) => typeof allowed === 'boolean')
      ? decide(originAllowed as boolean[])
      : Promise.all(originAllowed).then(decide);
  }

  private answerPreflight(
    request: CorsRequest,
    response: ServerResponse,
    next: Next,
    candidates: CandidatePolicies,
    origin: string,
    originAllowed: boolean[],
  ): void {
    const { headers } = request;
    const answer = candidates.resolvePreflight(
      {
        origin,
        requestMethod: String(headers['access-control-request-method']),
        requestHeaders: headers['access-control-request-headers'],
        privateNetwork: headers['access-control-request-private-network'] === 'true',
      },
      originAllowed,
    );
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
    if (answer.continue) return next();
    response.statusCode = answer.status;
    if (answer.status !== 204) response.setHeader('Content-Length', '0');
    response.end();
  }
}

function setHeaders(response: ServerResponse, headers: CorsHeaders): void {
  for (const [name, value] of headers) response.setHeader(name, value);
}

/** Appends to whatever `Vary` the app or earlier middleware set, never replacing it; `value` is `tokens` joined. */
function addVary(response: ServerResponse, tokens: readonly string[], value: string): void {
  if (tokens.length === 0) return;
  const existing = response.getHeader('Vary');
  const merged = existing === undefined ? value : mergeVary(existing, tokens);
  if (merged !== undefined) response.setHeader('Vary', merged);
}
