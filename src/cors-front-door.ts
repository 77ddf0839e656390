import type { IncomingMessage, ServerResponse } from 'node:http';
import { ForbiddenException, type HttpException, Injectable } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import type { ExceptionsHandler } from '@nestjs/core/exceptions/exceptions-handler.js';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { RouterExceptionFilters } from '@nestjs/core/router/router-exception-filters.js';
import { CORS_DECISION } from './cors.constants.js';
import { CorsPolicies, type RouteTarget } from './cors-policies.service.js';
import { type AdapterRequest, type AdapterResponse, hostOf, pathOf } from './cors-request.js';
import { type CandidatePolicies, NO_HEADERS } from './policy/candidate-policies.js';
import type { ActualRejection } from './policy/cors-policy.js';
import { isCrossOrigin, isPreflight, requestOrigin } from './policy/request-facts.js';
import { writeAnswer, writeOnHead } from './response-head.js';

/** Passes the request on to the rest of the app. */
export type Next = (error?: unknown) => void;

/**
 * What the front door leaves on a request it could not finish deciding: the route matched handlers of several
 * policies (header, media-type or custom versioning), so the guard of the handler that runs decides (`CorsGuard`).
 */
export interface CorsDecision {
  policies: CorsPolicies;
  candidates: CandidatePolicies;
  origin: string;
  originAllowed: readonly boolean[];
}

export type DecidedRequest = IncomingMessage & { [CORS_DECISION]?: CorsDecision };

/** One cross-origin request on its way through the front door. */
interface Exchange {
  request: AdapterRequest;
  response: AdapterResponse;
  next: Next;
  nodeRequest: IncomingMessage;
  nodeResponse: ServerResponse;
  target: RouteTarget;
  origin: string;
  preflight: boolean;
}

/**
 * Decides every request before anything else in the app runs, whatever serves its path: answers preflights with the
 * policy of the route the announced request will reach, puts the CORS headers and `Vary` of actual requests on
 * whatever response they end up with, and refuses the cross-origin requests the policy does not allow (CSRF
 * protection) with a 403 shaped by the app's exception filters. Adapter-neutral: it reads the request's headers,
 * method, URL and host, and writes to the Node response; `src/adapters/` bind it to each adapter's first hook.
 */
@Injectable()
export class CorsFrontDoor {
  private exceptions: ExceptionsHandler | undefined;

  constructor(
    private readonly policies: CorsPolicies,
    private readonly modules: ModulesContainer,
    private readonly config: ApplicationConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /**
   * `request` and `response` are the adapter's own objects (Express's, or Fastify's request and reply), `nodeRequest`
   * and `nodeResponse` Node's behind them. The binding hands both over because it knows which is which: asking an
   * Express request for a property it lacks (`raw`) walks its dictionary-mode prototype chain, a quarter of a
   * microsecond each time.
   */
  handle(request: AdapterRequest, response: AdapterResponse, next: Next, nodeRequest: IncomingMessage, nodeResponse: ServerResponse): void {
    const { headers } = request;
    const method = request.method ?? 'GET';
    const preflight = isPreflight(method, headers);
    const target = this.policies.forRequest(preflight ? String(headers['access-control-request-method']) : method, request);
    const { candidates } = target;
    const vary = preflight ? candidates.preflightVary : candidates.vary;
    const origin = requestOrigin(headers);
    if (origin === undefined || (!preflight && !isCrossOrigin(origin, headers, () => hostOf(request)))) {
      const sameForAll = candidates.headersWithoutOrigin(method);
      if (vary !== undefined || sameForAll.length > 0) writeOnHead(nodeResponse, { vary, headers: sameForAll });
      return next();
    }

    const exchange: Exchange = { request, response, next, nodeRequest, nodeResponse, target, origin, preflight };
    const originAllowed = this.policies.originAllowedBy(candidates, origin, nodeRequest);
    if (Array.isArray(originAllowed)) this.decide(exchange, originAllowed);
    else originAllowed.then((allowed) => this.decide(exchange, allowed)).catch(next);
  }

  private decide(exchange: Exchange, originAllowed: boolean[]): void {
    if (exchange.preflight) this.answerPreflight(exchange, originAllowed);
    else this.admit(exchange, originAllowed);
  }

  private answerPreflight({ request, nodeResponse, next, target, origin }: Exchange, originAllowed: boolean[]): void {
    const { candidates, handler } = target;
    const { headers } = request;
    const requestMethod = String(headers['access-control-request-method']);
    const answer = candidates.resolvePreflight(
      {
        origin,
        requestMethod,
        requestHeaders: headers['access-control-request-headers'],
        privateNetwork: headers['access-control-request-private-network'] === 'true',
      },
      originAllowed,
    );
    const vary = candidates.preflightVary;
    if (!answer.accepted) {
      const reason = `CORS preflight rejected: ${answer.reason}`;
      this.policies.report({ kind: 'preflight', reason: answer.reason, outcome: 'rejected', origin, method: requestMethod, path: pathOf(request), handler });
      writeAnswer(nodeResponse, 403, { vary, headers: NO_HEADERS }, reason);
      return;
    }
    if (!answer.continue) return writeAnswer(nodeResponse, answer.status, { vary, headers: answer.headers });
    writeOnHead(nodeResponse, { vary, headers: answer.headers });
    next();
  }

  /** An actual cross-origin request: its headers, and its refusal where the policy enforces. */
  private admit({ request, response, next, nodeRequest, nodeResponse, target, origin }: Exchange, originAllowed: boolean[]): void {
    const { candidates, handler } = target;
    const method = request.method ?? 'GET';
    const chosen = candidates.allowingActual(originAllowed, method);
    const headers = chosen >= 0 ? candidates.policies[chosen].headersForActual(origin) : NO_HEADERS;
    writeOnHead(nodeResponse, { vary: candidates.vary, headers });
    if (candidates.policies.length > 1) {
      (nodeRequest as DecidedRequest)[CORS_DECISION] = { policies: this.policies, candidates, origin, originAllowed };
      return next();
    }
    if (chosen === 0) return next();
    const [policy] = candidates.policies;
    const reason = policy.rejectActual(originAllowed[0], method) as ActualRejection;
    const outcome = policy.disallowedOutcome(method);
    this.policies.report({ kind: 'request', reason, outcome, origin, method, path: pathOf(request), handler });
    if (outcome === 'refused') this.refuse(new ForbiddenException(`CORS request rejected: ${reason}`), request, response, next);
    else next();
  }

  /**
   * Hands the refusal to the app's global exception filters, as Nest does for an exception thrown in middleware, so
   * the 403 has the shape of every other error of the app. Built on the first refusal, when every global filter
   * (`useGlobalFilters()` in main.ts, `APP_FILTER`) is known.
   */
  private refuse(exception: HttpException, request: AdapterRequest, response: AdapterResponse, next: Next): void {
    // Only filters given as classes are looked up in the modules; global filters are instances.
    const container = { getModules: () => this.modules };
    this.exceptions ??= new RouterExceptionFilters(container as never, this.config, this.adapterHost.httpAdapter).create(
      {},
      () => undefined,
      undefined as never,
    );
    this.exceptions.next(exception, new ExecutionContextHost([request, response, next]));
  }
}
