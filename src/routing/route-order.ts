/**
 * Orders routes most specific first, as Fastify's router matches them and as Nest's `specificity` route resolution
 * strategy registers them on Express: segment by segment, a literal beats text mixed with a parameter, which beats a
 * parameter, which beats a wildcard. A path that ends where the other goes on comes after a literal segment and before
 * the other kinds (they may be optional), unless it ends in a wildcard, which may absorb what follows. Ties keep their
 * declaration order.
 */
export function mostSpecificFirst<T extends { path: string }>(routes: readonly T[]): T[] {
  const ranked = routes.map((route, order) => ({ route, order, ranks: segmentRanks(route.path) }));
  ranked.sort((a, b) => compareRanks(a.ranks, b.ranks) || a.order - b.order);
  return ranked.map(({ route }) => route);
}

const LITERAL = 0;
const END = 1;
const MIXED = 2;
const PARAM = 3;
const WILDCARD = 4;
const ABSORBED = 5;

interface Ranks {
  segments: number[];
  /** What this path counts as where the other one has more segments. */
  beyondEnd: number;
}

function segmentRanks(path: string): Ranks {
  const segments = path
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => {
      if (/^\{?\*/.test(segment)) return WILDCARD;
      if (/^\{?\/?:\w+\??\}?$/.test(segment)) return PARAM;
      return /[:*{]/.test(segment) ? MIXED : LITERAL;
    });
  return { segments, beyondEnd: segments.includes(WILDCARD) ? ABSORBED : END };
}

function compareRanks(a: Ranks, b: Ranks): number {
  for (let i = 0; i < Math.max(a.segments.length, b.segments.length); i++) {
    const difference = (a.segments[i] ?? a.beyondEnd) - (b.segments[i] ?? b.beyondEnd);
    if (difference !== 0) return difference;
  }
  return 0;
}
