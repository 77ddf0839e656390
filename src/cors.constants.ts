/** Metadata key of `@Cors()`, read through `Reflector`. */
export const CORS_METADATA = 'nestjs-cors:options';
/** Where the middleware leaves its decision on the raw request, so the guard and interceptor need not redo it. */
export const CORS_DECISION = Symbol('nestjs-cors:decision');
/** Where the middleware leaves its app's `CorsInterceptor`, for handlers shared by several apps. */
export const CORS_INTERCEPTOR = Symbol('nestjs-cors:interceptor');
/** Logger context of every CORS message. */
export const CORS_LOGGER_CONTEXT = 'Cors';
