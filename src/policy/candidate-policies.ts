import type { CorsHeaders, CorsPolicy, PreflightAnswer, PreflightRequest } from './cors-policy.js';
import { SAFE_METHODS } from './request-facts.js';

/** The headers of a response that gets no CORS headers; one shared empty list. */
export const NO_HEADERS: CorsHeaders = [];

/** `Vary` tokens, and the same tokens as a header value for a response that has no `Vary` yet. */
export interface VaryHeader {
  tokens: readonly string[];
  value: string;
}

/**
 * The policies a request may end up under. Usually one; several where routing depends on what a preflight does not
 * carry (header, media-type or custom versioning: the version travels in the actual request only). A preflight is
 * then accepted if any candidate accepts it, an actual request gets the headers of the first candidate that allows
 * it, and the guard makes the response exact for the handler that really ran.
 */
export class CandidatePolicies {
  /** `undefined` where no candidate's answer depends on the request: for safe methods, the others, and preflights. */
  private readonly vary: VaryHeader | undefined;
  private readonly writeVary: VaryHeader | undefined;
  readonly preflightVary: VaryHeader | undefined;

  constructor(readonly policies: readonly CorsPolicy[]) {
    this.vary = varyHeader(policies.map((policy) => policy.vary));
    this.writeVary = varyHeader(policies.map((policy) => policy.writeVary));
    this.preflightVary = varyHeader(policies.map((policy) => policy.preflightVary));
  }

  /** The `Vary` of a response to an actual request with `method`. */
  varyFor(method: string): VaryHeader | undefined {
    return SAFE_METHODS.has(method) ? this.vary : this.writeVary;
  }

  /**
   * The headers of a request that is not cross-origin (no `Origin`, or the server's own): none, except under an
   * `origin: '*'` policy, whose headers Fetch asks to send on every response, so that a response cached from a
   * same-origin load can serve a later cross-origin request ("CORS protocol and HTTP caches"); for a write, where
   * `writeOrigin` is `'*'`.
   */
  headersWithoutOrigin(method: string): CorsHeaders {
    for (let i = 0; i < this.policies.length; i++) {
      const policy = this.policies[i];
      const headers = policy.headersForAnyOrigin(method);
      if (headers !== undefined && policy.allowsMethod(method)) return headers;
    }
    return NO_HEADERS;
  }

  /** The first accepting candidate's answer, else the first candidate's rejection. */
  resolvePreflight(request: PreflightRequest, originAllowed: readonly boolean[]): PreflightAnswer {
    let rejection: PreflightAnswer | undefined;
    for (let i = 0; i < this.policies.length; i++) {
      const answer = this.policies[i].resolvePreflight(request, originAllowed[i]);
      if (answer.accepted) return answer;
      rejection ??= answer;
    }
    return rejection as PreflightAnswer;
  }

  /** Whether every candidate refuses a disallowed request with `method`: then no handler the request reaches would run it. */
  allRefuse(method: string): boolean {
    return this.policies.every((policy) => policy.disallowedOutcome(method) === 'refused');
  }

  /** The index of the first candidate that allows an actual request, or -1. */
  allowingActual(originAllowed: readonly boolean[], method: string): number {
    return this.policies.findIndex((policy, i) => policy.rejectActual(originAllowed[i], method) === undefined);
  }
}

function varyHeader(lists: ReadonlyArray<readonly string[]>): VaryHeader | undefined {
  const tokens = [...new Set(lists.flat())];
  return tokens.length === 0 ? undefined : { tokens, value: tokens.join(', ') };
}
