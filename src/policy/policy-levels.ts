import type { CorsOptions } from '../cors-options.interface.js';
import type { OptionSources } from './validate-options.js';

/** One level of a policy (`forRoot`, a named policy, a controller, a route) and where it was written. */
export interface PolicyLevel {
  source: string;
  options: CorsOptions | false | undefined;
}

/**
 * Combines policy levels field by field, the last one winning: `forRoot, named policy, controller, route`. Arrays
 * replace, they never merge. `false` (from `@Cors(false)`) closes the endpoint to every origin, for reads and writes:
 * `origin` becomes empty and an inherited `writeOrigin` is dropped, so that writes follow `origin` again. A more
 * specific level that reopens `origin` so reopens writes too, as it did before `writeOrigin` existed, unless it gives
 * a `writeOrigin` of its own.
 */
export function mergePolicyLevels(levels: readonly PolicyLevel[]): { options: CorsOptions; sources: OptionSources } {
  const options: CorsOptions = {};
  const sources: OptionSources = {};
  for (const { source, options: level } of levels) {
    if (level === false) {
      delete options.writeOrigin;
      delete sources.writeOrigin;
    }
    const fields: CorsOptions = level === false ? { origin: [] } : (level ?? {});
    Object.assign(options, fields);
    for (const key of Object.keys(fields) as Array<keyof CorsOptions>) sources[key] = source;
  }
  return { options, sources };
}
