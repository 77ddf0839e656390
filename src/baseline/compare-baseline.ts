import { BASELINE_FIELD_NAMES, type BaselineRoute, compareField, type ValueChange } from './baseline-fields.js';
import { CorsBaselineError, nameOf, OTHER_PATHS, parseBaseline, placeOf, sortRoutes } from './baseline-file.js';

/** The app's policy against its baseline, one readable line per change, each naming the route and the field. */
export interface BaselineDifference {
  /** What lets more through than the baseline: a check fails on these. */
  widened: string[];
  /** What narrows the policy or changes nothing it allows: a check passes, and the file is out of date. */
  changed: string[];
}

/**
 * Compares entry by entry, whatever the order of either list. An entry is the same route when method, path, hosts and
 * handler are equal, else when method, path and hosts are (a renamed handler serves the same requests). A new entry
 * widens where it allows more than the baseline's global policy (`ALL *`), which a new route without `@Cors()` gets.
 */
export function compareBaseline(
  baseline: readonly BaselineRoute[],
  current: readonly BaselineRoute[],
): BaselineDifference {
  const difference: BaselineDifference = { widened: [], changed: [] };
  const remaining = sortRoutes(baseline);
  const take = (same: (old: BaselineRoute) => boolean) => {
    const at = remaining.findIndex(same);
    return at < 0 ? undefined : remaining.splice(at, 1)[0];
  };
  const sameHandler = (route: BaselineRoute) => (old: BaselineRoute) =>
    placeOf(old) === placeOf(route) && old.handler === route.handler;
  const routes = sortRoutes(current);
  const pairs = routes.map((route) => ({ route, old: take(sameHandler(route)) }));
  for (const pair of pairs) pair.old ??= take((old) => placeOf(old) === placeOf(pair.route));

  const global = baseline.find((old) => old.method === OTHER_PATHS.method && old.path === OTHER_PATHS.path);
  if (global === undefined)
    throw new CorsBaselineError('no line for the other paths (ALL *), whose policy new routes are held to');
  for (const { route, old } of pairs) {
    const name = nameOf(route);
    if (old === undefined) {
      const wider = widenings(global, route);
      if (wider.length === 0) difference.changed.push(`${name}  added (no wider than ALL *)`);
      for (const line of wider) difference.widened.push(`${name}  added, wider than ALL *: ${line}`);
      continue;
    }
    if (old.handler !== route.handler) difference.changed.push(`${name}  handler: - ${old.handler} + ${route.handler}`);
    for (const field of BASELINE_FIELD_NAMES) {
      const changes = compareField(field, old[field], route[field]);
      const [wider, other] = [changes.filter((c) => c.widens), changes.filter((c) => !c.widens)];
      if (wider.length > 0) difference.widened.push(`${name}  ${field}: ${show(wider)}`);
      if (other.length > 0) difference.changed.push(`${name}  ${field}: ${show(other)}`);
    }
  }
  for (const old of remaining) difference.changed.push(`${nameOf(old)}  removed`);
  return difference;
}

/** Each field in which `route` allows more than `global`, as `field: + value`. */
function widenings(global: BaselineRoute, route: BaselineRoute): string[] {
  return BASELINE_FIELD_NAMES.flatMap((field) => {
    const wider = compareField(field, global[field], route[field]).filter((change) => change.widens);
    return wider.length > 0 ? [`${field}: ${show(wider)}`] : [];
  });
}

/** `- GET, POST + *`; `+ https://a.example.com, https://b.example.com`. */
function show(changes: ValueChange[]): string {
  return (['-', '+'] as const)
    .map((sign) => changes.filter((change) => change.sign === sign).map((change) => change.value))
    .flatMap((values, i) => (values.length > 0 ? [`${i === 0 ? '-' : '+'} ${values.join(', ')}`] : []))
    .join(' ');
}

/**
 * The difference as a report: what widens first, then what does not; `file` is the baseline, `update` how to write it
 * again (the environment variable of the Jest helper, or the CLI's `--write`). Empty when nothing differs.
 */
export function printBaselineDifference(
  { widened, changed }: BaselineDifference,
  file: string,
  update: string,
): string {
  const section = (title: string, lines: string[]) =>
    lines.length === 0 ? [] : [`${title} (${lines.length}):`, ...lines.map((line) => `  ${line}`)];
  return [
    ...section(`The CORS policy is wider than its baseline ${file}`, widened),
    ...(widened.length > 0 ? [`If this is intended, have it reviewed, then update the baseline: ${update}`] : []),
    ...section(
      `Changes from ${file} that do not widen the policy${widened.length > 0 ? '' : `; update the baseline: ${update}`}`,
      changed,
    ),
  ].join('\n');
}

/** A baseline file's text against the app's routes: whether the policy widened, and the report to print. */
export function checkBaseline(
  text: string,
  file: string,
  routes: readonly BaselineRoute[],
  update: string,
): { widened: boolean; report: string } {
  const baseline = parseBaseline(text, file);
  let difference: BaselineDifference;
  try {
    difference = compareBaseline(baseline, routes);
  } catch (error) {
    throw error instanceof CorsBaselineError ? new CorsBaselineError(`${file}: ${error.message}`) : error;
  }
  return { widened: difference.widened.length > 0, report: printBaselineDifference(difference, file, update) };
}
