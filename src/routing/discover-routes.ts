import { RequestMethod, type Type, type VersioningOptions, VersioningType } from '@nestjs/common';
import { HOST_METADATA, MODULE_PATH, PATH_METADATA, VERSION_METADATA } from '@nestjs/common/constants.js';
import { ApplicationConfig, MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { PathsExplorer } from '@nestjs/core/router/paths-explorer.js';
import { RoutePathFactory } from '@nestjs/core/router/route-path-factory.js';
import { mostSpecificFirst } from './route-order.js';

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
