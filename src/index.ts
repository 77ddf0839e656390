export { CorsBaselineError } from './baseline/baseline-file.js';
export { CorsAudit, type CorsRouteAudit } from './cors-audit.service.js';
export { Cors } from './cors.decorator.js';
export { CorsModule } from './cors.module.js';
export { CORS_OPTIONS, CORS_OVERRIDES } from './cors.module-definition.js';
export { CorsReconfigurer } from './cors-reconfigurer.service.js';
export type {
  CorsEnforce,
  CorsModuleOptions,
  CorsOptions,
  CorsOrigin,
  CorsOriginEntry,
  CorsOriginFunction,
  CorsOptionsFactory,
  CorsOverrides,
  CorsPathPolicy,
  CorsPolicyName,
  CorsPolicyNames,
  CorsRejection,
  CorsRejectionReason,
} from './cors-options.interface.js';
export { CorsConfigError } from './policy/cors-config.error.js';
export { type CorsBaselineOptions, expectCorsBaseline } from './expect-cors-baseline.js';
