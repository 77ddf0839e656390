/**
 * Every reach into NestJS beyond its public API, in one place: what a newer Nest changes breaks here, and only here.
 * Nest's own `RoutePathFactory` and `PathsExplorer` list the routes exactly as its router registers them; its
 * `RouterExceptionFilters` give a refusal the app's global filters; its `LegacyRouteConverter` reads route paths in
 * an older syntax; `GUARDS_METADATA` and `MODULE_METADATA` are the keys its decorators write; the gateway keys are
 * those `@WebSocketGateway()` writes, and the WebSocket adapter is the one `ApplicationConfig` holds.
 */
import {
  type CanActivate,
  type DynamicModule,
  RequestMethod,
  type Type,
  type VersioningOptions,
  VersioningType,
} from '@nestjs/common';
import {
  GUARDS_METADATA,
  HOST_METADATA,
  MODULE_METADATA,
  MODULE_PATH,
  PATH_METADATA,
  VERSION_METADATA,
} from '@nestjs/common/constants.js';
import { type AbstractHttpAdapter, ApplicationConfig, MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { ExceptionsHandler } from '@nestjs/core/exceptions/exceptions-handler.js';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { LegacyRouteConverter } from '@nestjs/core/router/legacy-route-converter.js';
import { PathsExplorer } from '@nestjs/core/router/paths-explorer.js';
import { RoutePathFactory } from '@nestjs/core/router/route-path-factory.js';
import { RouterExceptionFilters } from '@nestjs/core/router/router-exception-filters.js';
import type { GatewayTransport } from './routing/gateway-table.js';
import { mostSpecificFirst } from './routing/route-order.js';

/**
 * The metadata keys `@WebSocketGateway()` writes (`@nestjs/websockets`'s `GATEWAY_METADATA`, `PORT_METADATA`,
 * `GATEWAY_OPTIONS`), spelled out so that the package, an optional peer, is never loaded.
 */
const GATEWAY_METADATA = 'websockets:is_gateway';
const PORT_METADATA = 'port';
const GATEWAY_OPTIONS = 'websockets:gateway_options';

/** A class decorated with `@WebSocketGateway()`, with the port and options it was given. */
export interface DiscoveredGateway {
  gateway: Type;
  /** `0`: served on the app's HTTP server; any other: on a server of its own, listening on that port. */
  port: number;
  options: { path?: unknown; namespace?: unknown; cors?: unknown; transports?: unknown; addTrailingSlash?: unknown };
}

/** The app's WebSocket adapter, as far as nestjs-cors needs it. */
export interface WebSocketAdapterFacts {
  /** The transport of Nest's `WsAdapter` or `IoAdapter` (or a subclass); `undefined` for any other adapter. */
  transport: GatewayTransport | undefined;
  /** Its class name, for messages. */
  name: string;
  /** The HTTP server it serves gateways without a port on (the app's, unless it was built without the app). */
  httpServer: unknown;
}

/** A route as the adapter serves it, with the controller method that handles it. */
export interface DiscoveredRoute {
  method: string;
  path: string;
  hosts: Array<string | RegExp> | undefined;
  controller: Type;
  handler: Function;
  /** The property key Nest knows the handler by (a wrapping decorator may have renamed the function). */
  handlerName: string;
  /**
   * Behind a version filter the path does not show (header, media-type or custom versioning): the adapter may pass
   * the request on to the next route with the same path, so a preflight cannot know which handler will run.
   */
  versionFiltered: boolean;
}

/**
 * Lists every controller route with the path the adapter registers, built by Nest's own `RoutePathFactory` from the
 * same metadata Nest's `RoutesResolver` reads (module path from `RouterModule`, controller and method paths, global
 * prefix and its exclusions, URI versions), in the order the adapter tries them.
 */
export function discoverRoutes(
  modules: ModulesContainer,
  config: ApplicationConfig,
  adapter: (AbstractHttpAdapter & { isRouteOrderSensitive?(): boolean }) | undefined,
): DiscoveredRoute[] {
  const pathFactory = new RoutePathFactory(config);
  const pathsExplorer = new PathsExplorer(new MetadataScanner());
  const globalPrefix = config.getGlobalPrefix();
  const versioningOptions: VersioningOptions | undefined = config.getVersioning();
  const routes: DiscoveredRoute[] = [];
  for (const module of modules.values()) {
    const modulePath: string | undefined =
      Reflect.getMetadata(MODULE_PATH + modules.applicationId, module.metatype) ??
      Reflect.getMetadata(MODULE_PATH, module.metatype);
    for (const { metatype } of module.controllers.values()) {
      if (typeof metatype !== 'function') continue;
      const controller = metatype as Type;
      const host: string | RegExp | Array<string | RegExp> | undefined = Reflect.getMetadata(HOST_METADATA, controller);
      const controllerVersion = versioningOptions
        ? (Reflect.getMetadata(VERSION_METADATA, controller) ?? versioningOptions.defaultVersion)
        : undefined;
      const controllerPaths: string | string[] = Reflect.getMetadata(PATH_METADATA, controller) ?? '/';
      const filtersVersions = versioningOptions !== undefined && versioningOptions.type !== VersioningType.URI;
      for (const ctrlPath of [controllerPaths].flat()) {
        for (const definition of pathsExplorer.scanForPaths(controller.prototype, controller.prototype)) {
          for (const methodPath of definition.path) {
            const paths = pathFactory.create(
              {
                ctrlPath,
                modulePath,
                globalPrefix,
                controllerVersion,
                methodVersion: definition.version,
                versioningOptions,
                methodPath,
              },
              definition.requestMethod,
            );
            for (const path of paths) {
              routes.push({
                method: RequestMethod[definition.requestMethod],
                path: adapter?.normalizePath ? adapter.normalizePath(path) : path,
                hosts: host === undefined ? undefined : [host].flat(),
                controller,
                handler: definition.targetCallback,
                handlerName: definition.methodName,
                versionFiltered: filtersVersions && (definition.version ?? controllerVersion) !== undefined,
              });
            }
          }
        }
      }
    }
  }
  // Where the adapter picks the most specific route (Fastify), or Nest sorts routes that way before registering
  // them, do the same; otherwise the adapter tries them in declaration order.
  const orderSensitive = adapter?.isRouteOrderSensitive?.() ?? adapter?.getType() !== 'fastify';
  const sorted = !orderSensitive || config.getRouteResolutionStrategy?.() === 'specificity';
  return sorted ? mostSpecificFirst(routes) : routes;
}

/** Every gateway class among the app's providers (a class provided by several modules, once). */
export function discoverGateways(modules: ModulesContainer): DiscoveredGateway[] {
  const gateways = new Map<Type, DiscoveredGateway>();
  for (const module of modules.values()) {
    for (const { metatype } of module.providers.values()) {
      if (
        typeof metatype !== 'function' ||
        gateways.has(metatype as Type) ||
        Reflect.getMetadata(GATEWAY_METADATA, metatype) !== true
      )
        continue;
      const gateway = metatype as Type;
      gateways.set(gateway, {
        gateway,
        port: Reflect.getMetadata(PORT_METADATA, gateway) || 0,
        options: Reflect.getMetadata(GATEWAY_OPTIONS, gateway) ?? {},
      });
    }
  }
  return [...gateways.values()];
}

/**
 * The WebSocket adapter of the app: the one `app.useWebSocketAdapter()` set, or the `IoAdapter` Nest makes when the
 * first gateway connects (before any module's `configure()`); `undefined` where the app has neither.
 */
export function webSocketAdapterOf(config: ApplicationConfig): WebSocketAdapterFacts | undefined {
  const adapter = config.getIoAdapter() as (object & { httpServer?: unknown }) | undefined;
  if (adapter === undefined || adapter === null) return undefined;
  const classes: string[] = [];
  for (
    let prototype = Object.getPrototypeOf(adapter);
    prototype !== null;
    prototype = Object.getPrototypeOf(prototype)
  ) {
    classes.push((prototype.constructor as Function).name);
  }
  const transport = classes.includes('IoAdapter') ? 'socket.io' : classes.includes('WsAdapter') ? 'ws' : undefined;
  return { transport, name: adapter.constructor.name, httpServer: adapter.httpServer };
}

/**
 * What handles an exception as Nest does for one thrown in middleware: the app's global exception filters (given to
 * `useGlobalFilters()`, or as `APP_FILTER`, which are looked up in the modules), then Nest's own.
 */
export function globalExceptionHandler(
  modules: ModulesContainer,
  config: ApplicationConfig,
  adapter: AbstractHttpAdapter,
): (exception: unknown, args: unknown[]) => void {
  const handler: ExceptionsHandler = new RouterExceptionFilters(
    { getModules: () => modules } as never,
    config,
    adapter,
  ).create({}, () => undefined, undefined as never);
  return (exception, args) => handler.next(exception as Error, new ExecutionContextHost(args));
}

/** Puts `guard` first among the guards of `handler` (after the global and controller ones), once. */
export function guardFirst(handler: Function, guard: CanActivate): void {
  const guards: unknown[] = Reflect.getMetadata(GUARDS_METADATA, handler) ?? [];
  if (!guards.includes(guard)) Reflect.defineMetadata(GUARDS_METADATA, [guard, ...guards], handler);
}

/** Whether `metatype`'s `@Module({ imports })` names `module`, plainly or as a dynamic module. */
export function importsModule(metatype: Type, module: Type): boolean {
  const imports: unknown[] = Reflect.getMetadata(MODULE_METADATA.IMPORTS, metatype) ?? [];
  return imports.some(
    (each) =>
      each === module || (typeof each === 'object' && each !== null && (each as DynamicModule).module === module),
  );
}

/** A route path in path-to-regexp 8's syntax: Fastify routes may use find-my-way's `*` and a trailing `:param?`. */
export function pathToRegexpSyntax(path: string): string {
  return LegacyRouteConverter.tryConvert(path, { logs: false }).replace(/\/:(\w+)\?$/, '{/:$1}');
}
