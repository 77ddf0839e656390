/** Metadata key of `@Cors()`, read through `Reflector`. */
export const CORS_METADATA = 'nestjs-cors:options';
/** Logger context of every CORS message. */
export const CORS_LOGGER_CONTEXT = 'Cors';
/** Whether the options came from `forRoot` or `forRootAsync`, for the messages of `CorsConfigError`. */
export const CORS_OPTIONS_SOURCE = Symbol('nestjs-cors:options-source');
