import { Module } from '@nestjs/common';
import { CorsModule } from '../src/index.js';
import { PartnerController, PublicController, UsersController } from './app.controllers.js';

/**
 * The global policy, read from the environment when the app boots (`CORS_ORIGINS=https://a.com,https://b.com`).
 * A malformed entry fails the bootstrap with a CorsConfigError rather than never matching.
 */
@Module({
  imports: [
    CorsModule.forRootAsync({
      useFactory: () => ({
        origin: (process.env.CORS_ORIGINS ?? 'http://localhost:5173,https://app.example.com').split(','),
        credentials: true,
        methods: ['GET', 'POST'],
        allowedHeaders: ['Authorization'],
        exposedHeaders: ['X-Request-Id'],
      }),
    }),
  ],
  controllers: [UsersController, PublicController, PartnerController],
})
export class AppModule {}
