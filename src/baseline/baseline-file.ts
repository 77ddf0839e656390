import {
  BASELINE_FIELD_NAMES,
  BASELINE_FIELDS,
  type BaselineRoute,
  byCodeUnit,
  type FieldRule,
} from './baseline-fields.js';

/** A baseline file that cannot be read as one: the message names the line and what is wrong with it. */
export class CorsBaselineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorsBaselineError';
  }
}

/** The other paths' entry, which holds the global policy: a new route is compared with it. */
export const OTHER_PATHS = { method: 'ALL', path: '*' } as const;

/** What tells two entries apart where they are (method, path, hosts), without the handler that serves them. */
export function placeOf(route: BaselineRoute): string {
  return `${route.method} ${route.path}${route.hosts ? ` @${route.hosts.join('|')}` : ''}`;
}

/** `POST /api/orders (OrdersController.create)`; `ALL * (no route)`. */
export function nameOf(route: BaselineRoute): string {
  return `${placeOf(route)} ${route.handler.startsWith('(') ? route.handler : `(${route.handler})`}`;
}

/** Sorted by path, method, hosts and handler: the file does not depend on the order modules are registered in. */
export function sortRoutes(routes: readonly BaselineRoute[]): BaselineRoute[] {
  const key = (route: BaselineRoute) => [route.path, route.method, route.hosts?.join('|') ?? '', route.handler];
  return [...routes].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return x.map((part, i) => byCodeUnit(part, y[i])).find((order) => order !== 0) ?? 0;
  });
}

/**
 * The baseline file's text: JSON Lines, one entry a line, sorted, with the fields in one order, lists sorted, and
 * nothing that changes on its own (no date, no version, not where a value came from). One line per route makes a pull
 * request show each route that changed as one removed and one added line, the route named on both; Prettier leaves
 * `.jsonl` files alone, so a formatter does not rewrite what `--write` wrote.
 */
export function formatBaseline(routes: readonly BaselineRoute[]): string {
  return sortRoutes(routes)
    .map(({ method, path, hosts, handler, ...policy }) => {
      const fields = BASELINE_FIELD_NAMES.map((field) => [
        field,
        (BASELINE_FIELDS[field] as FieldRule<unknown>).stable(policy[field]),
      ]);
      return JSON.stringify({ method, path, ...(hosts ? { hosts } : {}), handler, ...Object.fromEntries(fields) });
    })
    .map((line) => `${line}\n`)
    .join('');
}

/** Reads a baseline file's text; `source` names it in errors. */
export function parseBaseline(text: string, source: string): BaselineRoute[] {
  return text.split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    const where = `${source}:${i + 1}`;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch (error) {
      throw new CorsBaselineError(`${where}: not JSON (${(error as Error).message})`);
    }
    return [checkEntry(entry, where)];
  });
}

function checkEntry(entry: unknown, where: string): BaselineRoute {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new CorsBaselineError(`${where}: not an object`);
  }
  const route = entry as Record<string, unknown>;
  const wrong = [
    ...['method', 'path', 'handler'].filter((key) => typeof route[key] !== 'string'),
    ...(route.hosts === undefined || (Array.isArray(route.hosts) && route.hosts.every((h) => typeof h === 'string'))
      ? []
      : ['hosts']),
    ...BASELINE_FIELD_NAMES.filter((field) => !BASELINE_FIELDS[field].valid(route[field])),
  ];
  if (wrong.length > 0) {
    throw new CorsBaselineError(
      `${where}: ${wrong.map((key) => (route[key] === undefined ? `no ${key}` : `a wrong ${key}`)).join(', ')} (write the file again to see the format)`,
    );
  }
  return route as unknown as BaselineRoute;
}
