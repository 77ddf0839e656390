/** Metadata key of `@Cors()`, read through `Reflector`. */
export const CORS_METADATA = 'nestjs-cors:options';
/** Where the middleware leaves its decision on the raw request, so the guard and interceptor need not redo it. */
export const CORS_DECISION = Symbol('nestjs-cors:decision');
/** Logger context of every CORS message. */
export const CORS_LOGGER_CONTEXT = 'Cors';
