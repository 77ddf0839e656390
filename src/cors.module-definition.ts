import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { CorsModuleOptions } from './cors-options.interface.js';

export const {
  ConfigurableModuleClass: ConfigurableCorsModule,
  /** The options as the app configured them (`forRoot`'s, or `forRootAsync`'s factory's): internal, never overridden. */
  MODULE_OPTIONS_TOKEN: CORS_MODULE_OPTIONS,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<CorsModuleOptions>({ moduleName: 'Cors' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createCorsOptions')
  .build();

/**
 * The injection token of the resolved module options: what `forRoot` was given, or what `forRootAsync`'s factory
 * returned. A test that replaces it (`.overrideProvider(CORS_OPTIONS).useValue({ origin: [...] })`) states what differs:
 * its fields apply over the app's global policy field by field, its `policies` over the named policies of the same name,
 * and its `paths` and `onRejection`, when given, replace the app's.
 */
export const CORS_OPTIONS = 'CORS_OPTIONS';

/**
 * The injection token of what a test overrides (`CorsOverrides`): the global policy, a named policy, or one controller's
 * or route's policy, each field by field over what the app configured. Empty unless a test overrides it.
 */
export const CORS_OVERRIDES = 'CORS_OVERRIDES';
