/** Thrown at bootstrap for a CORS configuration that is wrong; the message says where (`forRoot`, `Controller.method`). */
export class CorsConfigError extends Error {
  /**
   * Every mistake this error reports: itself, or those of `CorsConfigError.all()`. Not enumerable, so that printing the
   * error (`util.inspect`, Nest's logger) shows the message that already lists them, not the error inside itself.
   */
  declare readonly errors: readonly CorsConfigError[];

  constructor(
    readonly location: string,
    readonly problem: string,
  ) {
    super(`Invalid CORS configuration in ${location}: ${problem}`);
    this.name = 'CorsConfigError';
    Object.defineProperty(this, 'errors', { value: [this], enumerable: false, configurable: true });
  }

  /** One error for all the mistakes of a bootstrap, so that they are fixed in one go rather than one restart each. */
  static all(errors: readonly CorsConfigError[]): CorsConfigError {
    const each = errors.flatMap((error) => error.errors);
    if (each.length === 1) return each[0];
    const locations = [...new Set(each.map((e) => e.location))];
    const error = new CorsConfigError(locations.join(', '), each.map((e) => e.problem).join('; '));
    error.message = `Invalid CORS configuration (${each.length} mistakes):\n${each.map((e) => `  - ${e.message}`).join('\n')}`;
    Object.defineProperty(error, 'errors', { value: each, enumerable: false });
    return error;
  }

  /** Every problem found in one location, as one error; `undefined` when there is none. */
  static of(location: string, problems: readonly string[]): CorsConfigError | undefined {
    return problems.length === 0
      ? undefined
      : CorsConfigError.all(problems.map((problem) => new CorsConfigError(location, problem)));
  }
}

/** Collects the `CorsConfigError`s of a bootstrap, to report them all at once. */
export class ConfigErrors {
  private readonly errors: CorsConfigError[] = [];

  /**
   * Runs `compile`; a `CorsConfigError` is kept (each of its mistakes once) and gives `undefined`. Problems in
   * `inherited` were already reported where they were written (a `forRoot` mistake, in every named policy that inherits
   * it): they are not reported again.
   */
  check<T>(compile: () => T, inherited: ReadonlySet<string> = new Set()): T | undefined {
    try {
      return compile();
    } catch (error) {
      if (!(error instanceof CorsConfigError)) throw error;
      for (const each of error.errors) {
        if (!inherited.has(each.problem) && !this.errors.some((known) => known.message === each.message))
          this.errors.push(each);
      }
      return undefined;
    }
  }

  /** The problems reported so far, to leave out of the levels that inherit them. */
  problems(): ReadonlySet<string> {
    return new Set(this.errors.map((error) => error.problem));
  }

  throwIfAny(): void {
    if (this.errors.length > 0) throw CorsConfigError.all(this.errors);
  }
}
