import type { CorsHeaders, CorsPolicy, PreflightAnswer, PreflightRequest } from './cors-policy.js';

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
  /** `undefined` where no candidate's answer depends on the request. */
  readonly vary: VaryHeader | undefined;
  readonly preflightVary: VaryHeader | undefined;
  /** The actual-request headers of each `origin: '*'` candidate, which do not depend on the request. */
  private readonly anyOriginHeaders: ReadonlyArray<CorsHeaders | undefined>;

  constructor(readonly policies: readonly CorsPolicy[]) {
    this.vary = varyHeader(policies.map((policy) => policy.vary));
    this.preflightVary = varyHeader(policies.map((policy) => policy.preflightVary));
    this.anyOriginHeaders = policies.map((policy) => (policy.origins.any ? policy.headersForActual('*') : undefined));
  }

  /**
   * The headers of a request that is not cross-origin (no `Origin`, or the server's own): none, except under an
   * `origin: '*'` policy, whose headers Fetch asks to send on every response, so that a response cached from a
   * same-origin load can serve a later cross-origin request ("CORS protocol and HTTP caches").
   */
  headersWithoutOrigin(method: string): CorsHeaders {
    for (let i = 0; i < this.policies.length; i++) {
      const headers = this.anyOriginHeaders[i];
      if (headers !== undefined && this.policies[i].allowsMethod(method)) return headers;
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
