import { Module } from '@nestjs/common';
import { CorsModule } from '../src/index.js';
import { PartnerController, PublicController, UsersController } from './app.controllers.js';

/** Origins come from the environment in a real deployment: `CORS_ORIGINS=https://a.com,https://b.com`. */
const origins = (process.env.CORS_ORIGINS ?? 'http://localhost:5173,https://app.example.com').split(',');

@Module({
  imports: [
    CorsModule.forRoot({
      origin: origins,
      credentials: true,
      methods: ['GET', 'POST'],
      allowedHeaders: ['Authorization'],
      exposedHeaders: ['X-Request-Id'],
    }),
  ],
  controllers: [UsersController, PublicController, PartnerController],
})
export class AppModule {}
