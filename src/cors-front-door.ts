import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Injectable, Logger } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import type { AdapterBinding, FrontDoorHandler, Next } from './adapters/adapter-binding.js';
import { putFirst } from './adapters/node-server.js';
import { CORS_LOGGER_CONTEXT } from './cors.constants.js';
import { type DecidingApp, forgetDecision, leaveDecision } from './cors-decision.js';
import { CorsRejections } from './cors-rejections.service.js';
import { CorsRoutes } from './cors-routes.service.js';
import type { CorsSnapshot } from './cors-snapshot.js';
import { HeaderOverrides } from './header-overrides.js';
import { globalExceptionHandler } from './nest-internals.js';
import { pathOf } from './node-request.js';
import { OriginChecks } from './origin-checks.service.js';
import { NO_HEADERS, type VaryHeader } from './policy/candidate-policies.js';
import type { ActualRejection, CorsHeaders } from './policy/cors-policy.js';
import { decidedMethod, isCrossOrigin, isPreflight, requestOrigin } from './policy/request-facts.js';
import { type CorsHead, writeAnswer, writeOnHead } from './response-head.js';
import type { RouteTarget } from './routing/route-index.interface.js';

const DECIDED_AT_SERVER = Symbol('nestjs-cors:decided-at-server');

/** A Node request the front door at the server has decided: the front door inside the adapter passes it on. */
type ServerDecidedRequest = IncomingMessage & { [DECIDED_AT_SERVER]?: true };

/** One cross-origin request on its way through the front door. */
interface Exchange {
  request: IncomingMessage;
  response: ServerResponse;
  next: Next;
  /** The configuration the request is decided with, to the end. */
  snapshot: CorsSnapshot;
  target: RouteTarget;
  origin: string;
  preflight: boolean;
}

/**
 * Decides every request before anything else in the app runs, whatever serves its path: answers preflights with the
 * policy of the route the announced request will reach, puts the CORS headers and `Vary` of actual requests on
 * whatever response they end up with, and refuses the cross-origin requests the policy does not allow (CSRF
 * protection) with a 403 shaped by the app's exception filters. It sits first among the `request` listeners of the
 * app's HTTP server, where every adapter, instance and bootstrap meets, and again at the adapter's earliest point for
 * requests that reach the adapter some other way (`bindInside`). Adapter-neutral: it reads Node's request and writes
 * to Node's response; `src/adapters/` tell how the adapter routes and sees a request.
 */
@Injectable()
export class CorsFrontDoor {
  private handleException: ((exception: unknown, args: unknown[]) => void) | undefined;
  private binding!: AdapterBinding;
  /** What the guard of a versioned handler asks of this app (see `CorsDecision`). */
  private readonly app: DecidingApp;

  constructor(
    private readonly routes: CorsRoutes,
    private readonly origins: OriginChecks,
    private readonly rejections: CorsRejections,
    private readonly overrides: HeaderOverrides,
    private readonly modules: ModulesContainer,
    private readonly config: ApplicationConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.app = {
      isOriginAllowed: (matcher, origin, request) => origins.isAllowed(matcher, origin, request),
      report: (rejection) => rejections.report(rejection),
      refusal: (reason) => rejections.refusal(reason),
    };
  }

  /** Puts the front door inside the adapter, at its earliest point (see `AdapterBinding.bindInside`). */
  bindInside(binding: AdapterBinding): void {
    this.binding = binding;
    binding.bindInside((request, response, next) => {
      if ((request as ServerDecidedRequest)[DECIDED_AT_SERVER]) return next();
      this.handle(request, response, next);
    });
  }

  /** Puts the front door ahead of every `request` listener of the app's HTTP server. */
  bindServer(server: Server): void {
    const logger = new Logger(CORS_LOGGER_CONTEXT);
    putFirst(
      server,
      (request, response, next) => {
        (request as ServerDecidedRequest)[DECIDED_AT_SERVER] = true;
        this.handle(request, response, next);
      },
      // Only a failure of the front door itself gets here, before the app has the request: it is not let in.
      (response, error) => {
        logger.error('CORS decision failed; answered 500', error instanceof Error ? error.stack : String(error));
        if (!response.headersSent)
          writeAnswer(response, 500, { vary: undefined, headers: NO_HEADERS }, 'Internal Server Error');
      },
    );
  }

  handle: FrontDoorHandler = (request, response, next) => {
    const { headers } = request;
    const method = request.method ?? 'GET';
    const preflight = isPreflight(method, headers);
    const snapshot = this.routes.current;
    // A preflight is decided for the request it announces: its route, and who may send that method.
    const decided = decidedMethod(method, headers, preflight);
    const target = snapshot.forRequest(decided, request);
    const { candidates } = target;
    const vary = preflight ? candidates.preflightVary : candidates.varyFor(method);
    const origin = requestOrigin(headers);
    if (origin === undefined || (!preflight && !isCrossOrigin(origin, request, this.routes.hostOf))) {
      const sameForAll = candidates.headersWithoutOrigin(method);
      if (vary !== undefined || sameForAll.length > 0) writeOnHead(response, { vary, headers: sameForAll });
      return next();
    }

    const exchange: Exchange = { request, response, next, snapshot, target, origin, preflight };
    const originAllowed = this.origins.allowedBy(candidates, origin, decided, request);
    if (Array.isArray(originAllowed)) this.decide(exchange, originAllowed);
    else originAllowed.then((allowed) => this.decide(exchange, allowed)).catch(next);
  };

  private decide(exchange: Exchange, originAllowed: boolean[]): void {
    if (exchange.preflight) this.answerPreflight(exchange, originAllowed);
    else this.admit(exchange, originAllowed);
  }

  private answerPreflight(
    { request, response, next, snapshot, target, origin }: Exchange,
    originAllowed: boolean[],
  ): void {
    const { candidates } = target;
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
      const handler = snapshot.handlerOf(target, requestMethod, request);
      this.rejections.report({
        kind: 'preflight',
        reason: answer.reason,
        outcome: 'rejected',
        origin,
        method: requestMethod,
        path: pathOf(request.url),
        handler,
      });
      writeAnswer(
        response,
        403,
        this.crossOriginHead(vary, NO_HEADERS),
        this.rejections.preflightAnswer(answer.reason),
      );
      return;
    }
    if (!answer.continue) return writeAnswer(response, answer.status, this.crossOriginHead(vary, answer.headers));
    writeOnHead(response, this.crossOriginHead(vary, answer.headers));
    next();
  }

  /** An actual cross-origin request: its headers, and its refusal where the policy enforces. */
  private admit(exchange: Exchange, originAllowed: boolean[]): void {
    const { request, response, next } = exchange;
    const refusal = this.settleActual(exchange, originAllowed, request.method ?? 'GET');
    if (refusal !== undefined) return this.refuse(refusal, request, response, next);
    if (this.binding.routesAfterMiddleware) this.watchMethod(exchange);
    next();
  }

  /**
   * Puts the headers of an actual request with `method` on the response and leaves the guard its decision where
   * several handlers may run; returns the refusal where the policy refuses the request.
   */
  private settleActual(
    { request, response, snapshot, target, origin }: Exchange,
    originAllowed: readonly boolean[],
    method: string,
  ): Error | undefined {
    const { candidates } = target;
    const chosen = candidates.allowingActual(originAllowed, method);
    const headers = chosen >= 0 ? candidates.policies[chosen].headersForActual(origin, method) : NO_HEADERS;
    writeOnHead(response, this.crossOriginHead(candidates.varyFor(method), headers));
    // Several candidates (a version the request carries picks one), or a route that passes on the versions it does not
    // take: the guard of the handler that runs decides, unless every candidate would refuse the request, which is then
    // refused here, before the app runs.
    if ((candidates.policies.length > 1 || target.passesOn) && (chosen >= 0 || !candidates.allRefuse(method))) {
      leaveDecision(request, { app: this.app, policyOf: snapshot.policyOf, candidates, origin, originAllowed });
      return undefined;
    }
    if (chosen >= 0) return undefined;
    const [policy] = candidates.policies;
    const reason = policy.rejectActual(originAllowed[0], method) as ActualRejection;
    const outcome = policy.disallowedOutcome(method);
    const handler = snapshot.handlerOf(target, method, request);
    this.rejections.report({ kind: 'request', reason, outcome, origin, method, path: pathOf(request.url), handler });
    return outcome === 'refused' ? this.rejections.refusal(reason) : undefined;
  }

  /**
   * Where the adapter routes after the app's middleware (Express), a middleware may change the method the request is
   * routed with (`method-override`: `POST /admin?_method=DELETE`). The request is then decided again, for the method
   * and route it now has, and a refusal is thrown from the assignment, which the app's error handling turns into the
   * 403 (on Fastify, routing is done before any middleware runs, so the method it was decided with is the one routed).
   * It is decided again under the configuration it was decided with.
   */
  private watchMethod(exchange: Exchange): void {
    const { request } = exchange;
    let decided = request.method;
    const assign = (method: string) => {
      if (method !== decided) this.decideAgain(exchange, method);
      decided = method;
    };
    Object.defineProperty(request, 'method', { configurable: true, enumerable: true, get: () => decided, set: assign });
  }

  private decideAgain(exchange: Exchange, method: string): void {
    const { request, snapshot, origin } = exchange;
    // What was left for the guard was found for the method the request arrived with: this one may leave another, or none.
    forgetDecision(request);
    const target = snapshot.forRequest(method, request);
    const originAllowed = this.origins.allowedBy(target.candidates, origin, method, request);
    // An origin function that answers asynchronously cannot decide an assignment: the new method is refused.
    const refusal = Array.isArray(originAllowed)
      ? this.settleActual({ ...exchange, target }, originAllowed, method)
      : this.rejections.refusal('method not allowed');
    if (refusal !== undefined) throw refusal;
  }

  /** The head of a response to a cross-origin request: its CORS headers are ours alone (see `CorsHead.owner`). */
  private crossOriginHead(vary: VaryHeader | undefined, headers: CorsHeaders): CorsHead {
    return { vary, headers, owner: this.overrides };
  }

  /**
   * Hands the refusal to the app's global exception filters, as Nest does for an exception thrown in middleware, so
   * the 403 has the shape of every other error of the app. Built on the first refusal, when every global filter
   * (`useGlobalFilters()` in main.ts, `APP_FILTER`) is known.
   */
  private refuse(exception: Error, request: IncomingMessage, response: ServerResponse, next: Next): void {
    this.handleException ??= globalExceptionHandler(this.modules, this.config, this.adapterHost.httpAdapter);
    this.handleException(exception, [...this.binding.forFilters(request, response), next]);
  }
}
