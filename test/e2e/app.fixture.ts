import {
  type CanActivate,
  Controller,
  Delete,
  Get,
  Header,
  Injectable,
  Module,
  Options,
  Post,
  Put,
  UnauthorizedException,
  UseGuards,
  type Type,
  type INestApplication,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { Cors, CorsModule, type CorsModuleOptions } from '../../src/index.js';

export const APP_ORIGIN = 'https://app.example.com';
export const PARTNER_ORIGIN = 'https://partner.example.net';
export const EVIL_ORIGIN = 'https://evil.example';

/** The global policy of DESIGN.md's example. */
export const GLOBAL_POLICY: CorsModuleOptions = {
  origin: [APP_ORIGIN],
  credentials: true,
  methods: ['GET', 'POST'],
  allowedHeaders: ['Authorization'],
  exposedHeaders: ['X-Request-Id'],
};

/** Handlers that ran, so a test can prove one did not. */
export const handled: string[] = [];

@Injectable()
class AlwaysUnauthorized implements CanActivate {
  canActivate(): boolean {
    throw new UnauthorizedException('log in first');
  }
}

@Controller('users')
export class UsersController {
  @Get() list() {
    handled.push('users.list');
    return [];
  }
  @Post() create() {
    handled.push('users.create');
    return { created: true };
  }
  @Get('boom') boom() {
    throw new Error('boom');
  }
  @Get('vary') @Header('Vary', 'Accept') vary() {
    return 'varied';
  }
  @UseGuards(AlwaysUnauthorized) @Get('me') me() {
    handled.push('users.me');
    return 'me';
  }
  @Options('plain') plainOptions() {
    handled.push('users.plainOptions');
    return 'options handler';
  }
}

@Cors({ origin: '*', credentials: false })
@Controller('public')
export class PublicController {
  @Get() list() {
    return ['public'];
  }
  @Cors({ exposedHeaders: ['X-Total-Count'] }) @Get('count') @Header('X-Total-Count', '3') count() {
    return 3;
  }
  @Cors(false) @Post('admin') admin() {
    handled.push('public.admin');
    return 'admin';
  }
}

@Cors({ origin: [PARTNER_ORIGIN], methods: ['GET', 'PUT', 'DELETE'], allowedHeaders: ['X-Partner-Key'] })
@Controller('partner/items')
export class PartnerController {
  @Get(':id') get() {
    return 'item';
  }
  @Put(':id') update() {
    handled.push('partner.update');
    return 'updated';
  }
  @Cors({ methods: ['GET', 'PUT'] }) @Delete(':id') remove() {
    handled.push('partner.remove');
    return 'removed';
  }
}

export const CONTROLLERS = [UsersController, PublicController, PartnerController];

export function appModule(options: CorsModuleOptions = GLOBAL_POLICY, controllers: Type[] = CONTROLLERS): Type {
  @Module({ imports: [CorsModule.forRoot(options)], controllers })
  class AppModule {}
  return AppModule;
}

export const ADAPTERS = [
  { name: 'express', create: () => new ExpressAdapter() },
  { name: 'fastify', create: () => new FastifyAdapter() },
] as const;
export type AdapterCase = (typeof ADAPTERS)[number];

/** Builds, configures and initialises a Nest app on the adapter, ready for supertest. */
export async function startApp(
  adapter: AdapterCase,
  imports: Type[],
  {
    configure,
    override,
  }: { configure?: (app: INestApplication) => void; override?: (builder: TestingModuleBuilder) => TestingModuleBuilder } = {},
): Promise<INestApplication> {
  const builder = Test.createTestingModule({ imports });
  const moduleRef = await (override ? override(builder) : builder).compile();
  const app = moduleRef.createNestApplication(adapter.create(), { logger: false });
  configure?.(app);
  await app.init();
  if (adapter.name === 'fastify') await app.getHttpAdapter().getInstance().ready();
  return app;
}
