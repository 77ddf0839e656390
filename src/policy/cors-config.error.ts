/** Thrown at bootstrap for a CORS configuration that is wrong; the message says where (`forRoot`, `Controller.method`). */
export class CorsConfigError extends Error {
  /** Every mistake this error reports: itself, or those of `CorsConfigError.all()`. */
  readonly errors: readonly CorsConfigError[] = [this];

  constructor(
    readonly location: string,
    readonly problem: string,
  ) {
    super(`Invalid CORS configuration in ${location}: ${problem}`);
    this.name = 'CorsConfigError';
  }

  /** One error for all the mistakes of a bootstrap, so that they are fixed in one go rather than one restart each. */
  static all(errors: readonly CorsConfigError[]): CorsConfigError {
    if (errors.length === 1) return errors[0];
    const error = new CorsConfigError(errors.map((e) => e.location).join(', '), errors.map((e) => e.problem).join('; '));
    error.message = `Invalid CORS configuration in ${errors.length} places:\n${errors.map((e) => `  - ${e.message}`).join('\n')}`;
    return Object.assign(error, { errors });
  }
}

/** Collects the `CorsConfigError`s of a bootstrap, to report them all at once. */
export class ConfigErrors {
  private readonly errors: CorsConfigError[] = [];

  /** Runs `compile`; a `CorsConfigError` is kept (once) and gives `undefined`. */
  check<T>(compile: () => T): T | undefined {
    try {
      return compile();
    } catch (error) {
      if (!(error instanceof CorsConfigError)) throw error;
      for (const each of error.errors) if (!this.errors.some((known) => known.message === each.message)) this.errors.push(each);
      return undefined;
    }
  }

  throwIfAny(): void {
    if (this.errors.length > 0) throw CorsConfigError.all(this.errors);
  }
}
