import type { IncomingMessage } from 'node:http';
import { Injectable, Logger } from '@nestjs/common';
import { CORS_LOGGER_CONTEXT } from './cors.constants.js';
import type { CandidatePolicies } from './policy/candidate-policies.js';
import { OriginTimeoutError } from './policy/origin-function.js';
import type { OriginMatcher } from './policy/origin-matcher.js';

/**
 * Asks a policy whether it allows an origin, and keeps a failing origin function from hurting the request: one that
 * throws, rejects or times out denies, and is logged (a timeout once per function).
 */
@Injectable()
export class OriginChecks {
  private readonly logger = new Logger(CORS_LOGGER_CONTEXT);
  /** Origin functions whose timeout was logged: a stalled backend is worth one warning, not one per request. */
  private readonly slowOriginFunctions = new WeakSet<Function>();

  /**
   * Whether each candidate allows `origin` a request with `method` (for a preflight, the method it announces): a
   * promise only where an origin function answers asynchronously.
   */
  allowedBy(
    candidates: CandidatePolicies,
    origin: string,
    method: string,
    request: IncomingMessage,
  ): boolean[] | Promise<boolean[]> {
    const allowed: Array<boolean | Promise<boolean>> = [];
    let pending = false;
    for (const policy of candidates.policies) {
      const answer = this.isAllowed(policy.originsFor(method), origin, request);
      pending ||= typeof answer !== 'boolean';
      allowed.push(answer);
    }
    return pending ? Promise.all(allowed) : (allowed as boolean[]);
  }

  /** Whether `origins` (a policy's, for the method: `originsFor`) match `origin`; it never throws or rejects. */
  isAllowed(origins: OriginMatcher, origin: string, request: IncomingMessage): boolean | Promise<boolean> {
    try {
      const allowed = origins.matches(origin, request);
      if (typeof allowed === 'boolean') return allowed;
      return Promise.resolve(allowed).then(
        (value) => value === true,
        (error: unknown) => this.denied(origin, error),
      );
    } catch (error) {
      return this.denied(origin, error);
    }
  }

  private denied(origin: string, error: unknown): false {
    if (error instanceof OriginTimeoutError) {
      if (!this.slowOriginFunctions.has(error.originFunction)) {
        this.slowOriginFunctions.add(error.originFunction);
        this.logger.error(`${error.message}; denied (later timeouts of this function are logged at debug level)`);
      } else this.logger.debug(`${error.message}; denied`);
      return false;
    }
    this.logger.error(
      `origin function failed for ${JSON.stringify(origin)}; denied`,
      error instanceof Error ? error.stack : String(error),
    );
    return false;
  }
}
