import type { IncomingMessage } from 'node:http';
import type { CorsEnforce } from '../cors-options.interface.js';
import { OriginMatcher } from '../policy/origin-matcher.js';

/** One value that is in the baseline and not in the app (`-`) or the other way round (`+`). */
export interface ValueChange {
  sign: '-' | '+';
  value: string;
  /** Whether this difference lets more requests through than the baseline did. */
  widens: boolean;
}

/** How one policy field is checked in a baseline file, kept stable in it, and compared. */
export interface FieldRule<T> {
  /** Whether a value read from a baseline file has this field's shape. */
  valid(value: unknown): value is T;
  /** The value as the file holds it: lists sorted, so that reordering the configuration changes nothing. */
  stable(value: T): T;
  compare(before: T, after: T): ValueChange[];
}

const ANY = '*';
/** Orders strings by UTF-16 code units, as `sort()` does, whatever the locale. */
export const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const isStrings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/** A value changed as a whole: both sides, as one widening or one narrowing. */
function replaced(before: unknown, after: unknown, widens: boolean): ValueChange[] {
  const [was, is] = [before, after].map((value) =>
    Array.isArray(value) ? value.join(', ') || '(none)' : String(value),
  );
  if (was === is) return [];
  return [
    { sign: '-', value: was, widens },
    { sign: '+', value: is, widens },
  ];
}

/** On is wider than off. */
const flag: FieldRule<boolean> = {
  valid: (value): value is boolean => typeof value === 'boolean',
  stable: (value) => value,
  compare: (before, after) => replaced(before, after, after),
};

/** Values from the strictest to the loosest. */
function ranked<T>(...order: T[]): FieldRule<T> {
  return {
    valid: (value): value is T => order.includes(value as T),
    stable: (value) => value,
    compare: (before, after) => replaced(before, after, order.indexOf(after) > order.indexOf(before)),
  };
}

/** A list of names, or `'*'` for every name: `'*'` is wider than any list, and every added name widens. */
function names({ ignoreCase }: { ignoreCase: boolean }): FieldRule<string[] | '*'> {
  const key = (name: string) => (ignoreCase ? name.toLowerCase() : name);
  return {
    valid: (value): value is string[] | '*' => value === ANY || isStrings(value),
    stable: (value) => (value === ANY ? value : [...value].sort((a, b) => byCodeUnit(key(a), key(b)))),
    compare(before, after) {
      if (before === ANY || after === ANY) return replaced(before, after, after === ANY);
      const had = new Set(before.map(key));
      const has = new Set(after.map(key));
      return [
        ...before.filter((name) => !has.has(key(name))).map((value) => ({ sign: '-' as const, value, widens: false })),
        ...after.filter((name) => !had.has(key(name))).map((value) => ({ sign: '+' as const, value, widens: true })),
      ];
    },
  };
}

/**
 * Origin entries as the audit writes them (exact origins and patterns as configured, RegExps as `/.../`, functions as
 * `function name`; `['*']` for every origin). Every added entry widens, except an exact origin that a pattern or RegExp
 * of the baseline already matched: telling whether a new pattern or RegExp is inside an old one, or what a function
 * allows, would take more than a comparison, so those always count as wider.
 */
const origins: FieldRule<string[]> = {
  valid: isStrings,
  stable: (value) => [...value].sort(byCodeUnit),
  compare(before, after) {
    if (before.includes(ANY) || after.includes(ANY)) return replaced(before, after, !before.includes(ANY));
    const covered = coveredBy(before);
    return [
      ...before
        .filter((entry) => !after.includes(entry))
        .map((value) => ({ sign: '-' as const, value, widens: false })),
      ...after
        .filter((entry) => !before.includes(entry))
        .map((value) => ({ sign: '+' as const, value, widens: !covered(value) })),
    ];
  },
};

/** Whether the patterns and RegExps among `entries` match an exact origin. */
function coveredBy(entries: string[]): (origin: string) => boolean {
  const wide = entries.flatMap((entry): (string | RegExp)[] => {
    const regexp = /^\/(.*)\/([a-z]*)$/s.exec(entry);
    if (regexp !== null) return [new RegExp(regexp[1], regexp[2])];
    return entry.includes(ANY) ? [entry] : [];
  });
  let matcher: OriginMatcher | undefined;
  try {
    matcher = wide.length > 0 ? OriginMatcher.compile(wide, 'the baseline') : undefined;
  } catch {
    matcher = undefined; // not an entry this version accepts: nothing counts as covered
  }
  const exact = (entry: string) => !entry.includes(ANY) && !entry.startsWith('/') && !entry.startsWith('function ');
  // An exact origin, a pattern or a RegExp never makes the matcher ask a function, so it never reads the request.
  return (origin) => matcher !== undefined && exact(origin) && matcher.matches(origin, {} as IncomingMessage) === true;
}

/**
 * The fields a baseline holds, in the file's order, with how each widens. A new field of `CorsRouteAudit` that bears on
 * who may do what is one line here; the file format, its checks and the comparison follow.
 */
export const BASELINE_FIELDS = {
  origin: origins,
  writeOrigin: origins,
  credentials: flag,
  methods: names({ ignoreCase: false }),
  allowedHeaders: names({ ignoreCase: true }),
  exposedHeaders: names({ ignoreCase: true }),
  enforce: ranked<CorsEnforce>('all', 'unsafe', false),
  reportOnly: flag,
  allowPrivateNetwork: flag,
};

export type BaselineField = keyof typeof BASELINE_FIELDS;
export type BaselinePolicy = {
  [F in BaselineField]: (typeof BASELINE_FIELDS)[F] extends FieldRule<infer T> ? T : never;
};

/** One line of a baseline: a route, a gateway, a `paths` entry or the other paths (`ALL *`), as `CorsAudit` lists it. */
export interface BaselineRoute extends BaselinePolicy {
  method: string;
  path: string;
  hosts?: string[];
  handler: string;
}

export const BASELINE_FIELD_NAMES = Object.keys(BASELINE_FIELDS) as BaselineField[];

/** What differs in one field, as the rule compares it. */
export function compareField<F extends BaselineField>(
  field: F,
  before: BaselinePolicy[F],
  after: BaselinePolicy[F],
): ValueChange[] {
  return (BASELINE_FIELDS[field] as FieldRule<BaselinePolicy[F]>).compare(before, after);
}
