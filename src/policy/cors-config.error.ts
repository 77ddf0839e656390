/** Thrown at bootstrap for a CORS configuration that is wrong; the message says where (`forRoot`, `Controller.method`). */
export class CorsConfigError extends Error {
  constructor(
    readonly location: string,
    readonly problem: string,
  ) {
    super(`Invalid CORS configuration in ${location}: ${problem}`);
    this.name = 'CorsConfigError';
  }
}
