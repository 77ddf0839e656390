/** Metadata key of `@Cors()`, read through `Reflector`. */
export const CORS_METADATA = 'nestjs-cors:options';
/** Where the front door leaves a decision only the handler's guard can finish (see `CorsGuard`). */
export const CORS_DECISION = Symbol('nestjs-cors:decision');
/** Logger context of every CORS message. */
export const CORS_LOGGER_CONTEXT = 'Cors';
