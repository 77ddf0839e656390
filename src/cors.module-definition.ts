import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { CorsModuleOptions } from './cors-options.interface.js';

export const {
  ConfigurableModuleClass: ConfigurableCorsModule,
  MODULE_OPTIONS_TOKEN: CORS_OPTIONS,
  OPTIONS_TYPE: CORS_MODULE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CORS_MODULE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<CorsModuleOptions>({ moduleName: 'Cors' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createCorsOptions')
  .build();
