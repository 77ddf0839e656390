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
  type LoggerService,
  type NestApplicationOptions,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { NestFactory } from '@nestjs/core';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import type { Response } from 'supertest';
import { Cors, CorsModule, type CorsModuleOptions } from '../../src/index.js';

export const APP_ORIGIN = 'https://app.example.com';
export const PARTNER_ORIGIN = 'https://partner.example.net';
export const EVIL_ORIGIN = 'https://evil.example';

/** The global policy of the README's Quickstart, without its pattern origin (`https://*.example.org`). */
export const GLOBAL_POLICY: CorsModuleOptions = {
  origin: [APP_ORIGIN],
  credentials: true,
  methods: ['GET', 'POST'],
  allowedHeaders: ['Authorization'],
  exposedHeaders: ['X-Request-Id'],
};

/** Handlers that ran, so a test can prove one did not. */
export const handled: string[] = [];

/** A handler's `answer`, once `name` is recorded in `handled`. */
export function recordHandled<T>(name: string, answer: T): T {
  handled.push(name);
  return answer;
}

@Injectable()
class AlwaysUnauthorized implements CanActivate {
  canActivate(): boolean {
    throw new UnauthorizedException('log in first');
  }
}

@Controller('users')
export class UsersController {
  @Get() list() {
    return recordHandled('users.list', []);
  }
  @Post() create() {
    return recordHandled('users.create', { created: true });
  }
  @Get('boom') boom() {
    throw new Error('boom');
  }
  @Get('vary') @Header('Vary', 'Accept') vary() {
    return 'varied';
  }
  @UseGuards(AlwaysUnauthorized) @Get('me') me() {
    return recordHandled('users.me', 'me');
  }
  @Options('plain') plainOptions() {
    return recordHandled('users.plainOptions', 'options handler');
  }
}

@Cors({ origin: '*', credentials: false, writeOrigin: [APP_ORIGIN] })
@Controller('public')
export class PublicController {
  @Get() list() {
    return ['public'];
  }
  @Cors({ exposedHeaders: ['X-Total-Count'] }) @Get('count') @Header('X-Total-Count', '3') count() {
    return 3;
  }
  @Cors(false) @Post('admin') admin() {
    return recordHandled('public.admin', 'admin');
  }
}

@Cors({ origin: [PARTNER_ORIGIN], methods: ['GET', 'PUT', 'DELETE'], allowedHeaders: ['X-Partner-Key'] })
@Controller('partner/items')
export class PartnerController {
  @Get(':id') get() {
    return 'item';
  }
  @Put(':id') update() {
    return recordHandled('partner.update', 'updated');
  }
  @Cors({ methods: ['GET', 'PUT'] }) @Delete(':id') remove() {
    return recordHandled('partner.remove', 'removed');
  }
}

/**
 * The plain routes of /items, GET and POST, recording that they ran: a spec's own `@Controller('items')` extends this
 * with the routes it tests (Nest maps inherited handlers too).
 */
export class ItemsRoutes {
  @Get() list() {
    return recordHandled('items.list', []);
  }
  @Post() create() {
    return recordHandled('items.create', 'created');
  }
}

export const CONTROLLERS = [UsersController, PublicController, PartnerController];

export function appModule(options: CorsModuleOptions = GLOBAL_POLICY, controllers: Type[] = CONTROLLERS): Type {
  @Module({ imports: [CorsModule.forRoot(options)], controllers })
  class AppModule {}
  return AppModule;
}

const PLATFORMS = [
  { name: 'express', create: () => new ExpressAdapter() },
  { name: 'fastify', create: (options?: FastifyAdapterOptions) => new FastifyAdapter(options) },
] as const;
type FastifyAdapterOptions = ConstructorParameters<typeof FastifyAdapter>[0];

/**
 * How an app is built: `Test.createTestingModule().createNestApplication()`, as e2e tests do, or `NestFactory.create()`,
 * as a `main.ts` does. They initialise the adapter in a different order (`NestFactory.create()` first, so that Fastify
 * registers middie before any module exists), so every e2e suite runs over both, on both adapters.
 */
export type Bootstrap = 'testing module' | 'NestFactory';

/** Each adapter under each bootstrap; the first two are the testing module's, Express then Fastify. */
export const ADAPTERS = (['testing module', 'NestFactory'] as const).flatMap((bootstrap) =>
  PLATFORMS.map((platform) => ({ ...platform, bootstrap: bootstrap as Bootstrap })),
);
export type AdapterCase = (typeof ADAPTERS)[number];

/** Builds, configures and initialises a Nest app on the adapter, the adapter's way, ready for supertest. */
export async function startApp(
  adapter: AdapterCase,
  imports: Type[],
  {
    configure,
    override,
    adapterOptions,
    appOptions,
    httpAdapter,
  }: {
    configure?: (app: INestApplication) => void;
    override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
    /** Options of the Fastify adapter (Express is configured through `configure`). */
    adapterOptions?: FastifyAdapterOptions;
    appOptions?: NestApplicationOptions;
    /** An adapter the test made itself (around an instance of its own), instead of a plain one. */
    httpAdapter?: ExpressAdapter | FastifyAdapter;
  } = {},
): Promise<INestApplication> {
  const options = { logger: false as const, ...appOptions };
  let app: INestApplication;
  if (adapter.bootstrap === 'NestFactory') {
    if (override !== undefined) throw new Error('overrideProvider() needs the testing module');
    @Module({ imports })
    class MainModule {}
    app = await NestFactory.create(MainModule, httpAdapter ?? adapter.create(adapterOptions), {
      abortOnError: false,
      ...options,
    });
  } else {
    const builder = Test.createTestingModule({ imports });
    const moduleRef = await (override ? override(builder) : builder).compile();
    app = moduleRef.createNestApplication(httpAdapter ?? adapter.create(adapterOptions), options);
  }
  configure?.(app);
  await app.init();
  if (adapter.name === 'fastify') await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** Runs `test` against a started app and closes the app whatever happens. */
export async function withApp(app: INestApplication, test: (app: INestApplication) => Promise<void>): Promise<void> {
  try {
    await test(app);
  } finally {
    await app.close();
  }
}

/** The names of the `Access-Control-*` headers of a response. */
export function corsHeaderNames(response: Response): string[] {
  return Object.keys(response.headers).filter((name) => name.startsWith('access-control-'));
}

/** Sends raw bytes to the app (for what HTTP clients refuse to send) and returns the status line and headers. */
export async function sendRaw(app: INestApplication, head: Buffer): Promise<{ status: number; headers: string }> {
  const { createConnection } = await import('node:net');
  const server = app.getHttpServer();
  if (!server.listening) await app.listen(0, '127.0.0.1');
  const { port } = server.address() as { port: number };
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.end(head));
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const headers = text.split('\r\n\r\n')[0];
      resolve({ status: Number(headers.split(' ')[1]), headers: headers.toLowerCase() });
    });
  });
}

/** Keeps what the app logs, for tests that read Nest's own route mapping or our debug lines. */
export class CapturingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string; context?: string }> = [];
  log(message: string, context?: string) {
    this.lines.push({ level: 'log', message, context });
  }
  error(message: string, _trace?: string, context?: string) {
    this.lines.push({ level: 'error', message, context });
  }
  warn(message: string, context?: string) {
    this.lines.push({ level: 'warn', message, context });
  }
  debug(message: string, context?: string) {
    this.lines.push({ level: 'debug', message, context });
  }
}

/**
 * Sets a header on the response an exception filter got. On Fastify a filter gets Node's response for an error that
 * no route handler threw (Nest middleware's, or nestjs-cors's refusal), and NestJS 11's Fastify adapter cannot set a
 * header on one (`setHeader()` calls the reply's `header()`): a filter that must work there sets it on Node's.
 */
export function setFilterHeader(
  adapter: { setHeader(response: unknown, name: string, value: string): unknown },
  response: unknown,
  name: string,
  value: string,
): void {
  const node = response as { setHeader?: (name: string, value: string) => unknown; status?: unknown };
  if (typeof node.setHeader === 'function' && node.status === undefined) node.setHeader(name, value);
  else adapter.setHeader(response, name, value);
}
