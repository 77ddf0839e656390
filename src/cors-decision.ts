import type { IncomingMessage } from 'node:http';
import type { Type } from '@nestjs/common';
import type { CorsRejection } from './cors-options.interface.js';
import type { CandidatePolicies } from './policy/candidate-policies.js';
import type { CorsPolicy, PreflightRejection } from './policy/cors-policy.js';
import type { OriginMatcher } from './policy/origin-matcher.js';

/**
 * What the front door leaves on a request it could not finish deciding, for the guard of the handler that runs
 * (`CorsGuard`): the route matched handlers of several policies (header, media-type or custom versioning). This is
 * all the front door and the guard share.
 */
export interface CorsDecision {
  candidates: CandidatePolicies;
  origin: string;
  /** Whether each candidate allows the origin for the request's method, as the front door found. */
  originAllowed: readonly boolean[];
  /**
   * The policy of a handler under the configuration the front door decided with, which `reconfigure()` may since have
   * replaced: the request is finished under the one it started with.
   */
  policyOf(controller: Type, handler: Function): CorsPolicy;
  /** The app's own answers, as the guard is shared by every app built from the same controllers. */
  app: DecidingApp;
}

/** What the guard asks of the app whose front door left the decision. */
export interface DecidingApp {
  isOriginAllowed(origins: OriginMatcher, origin: string, request: IncomingMessage): boolean | Promise<boolean>;
  report(rejection: CorsRejection): void;
  refusal(reason: PreflightRejection): Error;
}

const CORS_DECISION = Symbol('nestjs-cors:decision');

type DecidedRequest = IncomingMessage & { [CORS_DECISION]?: CorsDecision };

export function leaveDecision(request: IncomingMessage, decision: CorsDecision): void {
  (request as DecidedRequest)[CORS_DECISION] = decision;
}

export function decisionOf(request: IncomingMessage): CorsDecision | undefined {
  return (request as DecidedRequest)[CORS_DECISION];
}

/** Takes back a decision left for a method the request no longer has (see `CorsFrontDoor.decideAgain`). */
export function forgetDecision(request: IncomingMessage): void {
  delete (request as DecidedRequest)[CORS_DECISION];
}
