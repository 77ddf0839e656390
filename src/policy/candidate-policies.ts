import type { CorsPolicy, PreflightAnswer, PreflightRequest } from './cors-policy.js';

/**
 * The policies a request may end up under. Usually one; several where routing depends on what a preflight does not
 * carry (header, media-type or custom versioning: the version travels in the actual request only). A preflight is
 * then accepted if any candidate accepts it, an actual request gets the headers of the first candidate that allows
 * it, and the guard makes the response exact for the handler that really ran.
 */
export class CandidatePolicies {
  readonly vary: readonly string[];
  readonly preflightVary: readonly string[];
  /** The same tokens as header values, for a response that has no `Vary` yet. */
  readonly varyValue: string;
  readonly preflightVaryValue: string;

  constructor(readonly policies: readonly CorsPolicy[]) {
    this.vary = union(policies.map((policy) => policy.vary));
    this.preflightVary = union(policies.map((policy) => policy.preflightVary));
    this.varyValue = this.vary.join(', ');
    this.preflightVaryValue = this.preflightVary.join(', ');
  }

  /** The first accepting candidate's answer, else the first candidate's rejection. */
  resolvePreflight(request: Omit<PreflightRequest, 'originAllowed'>, originAllowed: readonly boolean[]): PreflightAnswer {
    let rejection: PreflightAnswer | undefined;
    for (let i = 0; i < this.policies.length; i++) {
      const answer = this.policies[i].resolvePreflight({ ...request, originAllowed: originAllowed[i] });
      if (answer.accepted) return answer;
      rejection ??= answer;
    }
    return rejection as PreflightAnswer;
  }

  /** The index of the first candidate that allows an actual request, or -1. */
  allowingActual(originAllowed: readonly boolean[], method: string): number {
    return this.policies.findIndex((policy, i) => policy.rejectActual(originAllowed[i], method) === undefined);
  }
}

function union(lists: ReadonlyArray<readonly string[]>): string[] {
  return [...new Set(lists.flat())];
}
