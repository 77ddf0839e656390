import { type DynamicModule, Module } from '@nestjs/common';
import { CorsModule } from '../src/index.js';
import { GuestbookController, PartnerController, PublicController, UsersController } from './app.controllers.js';
import { ChatGateway } from './app.gateway.js';

/** The global policy's origins when `CORS_ORIGINS` is not set: the app's own front ends. */
const FRONT_ENDS = ['http://localhost:5173', 'https://app.example.com'];

/**
 * The origins `CORS_ORIGINS` lists (comma-separated: `CORS_ORIGINS=https://a.com,https://b.com`; empty: none), else
 * the app's own front ends. A malformed entry fails the bootstrap with a CorsConfigError rather than never matching.
 */
export function configuredOrigins(value = process.env.CORS_ORIGINS): string[] {
  if (value === undefined) return FRONT_ENDS;
  return value === '' ? [] : value.split(',');
}

@Module({})
export class AppModule {
  /**
   * The example API. Its global policy is read when the app boots: the origins of `configuredOrigins()` plus
   * `alsoAllow`. `npm start` passes the playground's own origin there, so that `CORS_ORIGINS` adds origins to the
   * ones the playground can call from rather than replacing them: the page's global-policy presets keep working with
   * `CORS_ORIGINS` set, and the origins it lists are allowed as well.
   */
  static register({ alsoAllow = [] }: { alsoAllow?: string[] } = {}): DynamicModule {
    const ownSites = () => [...new Set([...alsoAllow, ...configuredOrigins()])];
    return {
      module: AppModule,
      imports: [
        CorsModule.forRootAsync({
          useFactory: () => ({
            origin: ownSites(),
            credentials: true,
            methods: ['GET', 'POST'],
            allowedHeaders: ['Authorization'],
            exposedHeaders: ['X-Request-Id'],
            // Named policies can come from configuration too; PartnerController uses @Cors('partner').
            policies: {
              partner: {
                origin: ['https://partner.example.net'],
                methods: ['GET', 'PUT', 'DELETE'],
                allowedHeaders: ['X-Partner-Key'],
              },
              // Any site reads; only the app's own sites write (GET and POST, from the global policy).
              guestbook: { origin: '*', credentials: false, writeOrigin: ownSites() },
            },
            // A path no controller serves (a plain handler added with app.use(), see playground/server.ts): its own policy.
            paths: [{ path: '/health', policy: { origin: '*', credentials: false, methods: ['GET'] } }],
          }),
        }),
      ],
      controllers: [UsersController, PublicController, PartnerController, GuestbookController],
      providers: [ChatGateway],
    };
  }
}
