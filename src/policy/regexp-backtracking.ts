import type { Edge, RegExpProduct } from './regexp-product.js';

/**
 * How a backtracking engine (V8's) can blow up on a RegExp, or `undefined` where it stays linear in the origin's length.
 *
 * A backtracking engine tries every run of the automaton on every prefix of its input until one is accepted, so its
 * work is the number of runs on prefixes; that number grows linearly exactly when the automaton with every state
 * accepting is finitely ambiguous (Weber and Seidl). It is not when some state has two distinct runs back to itself on
 * the same word (exponential degree of ambiguity: `(a+)+`, `(a|a)*`), or when two distinct states `p` and `q` each
 * loop on a word `w` that also leads from `p` to `q` (polynomial: `[a-z]+[a-z]*`, `\d+\d+`). Both are read off the
 * product of the automaton with itself. The second test asks for some word from `p` to `q`, not necessarily `w`: it can
 * refuse a RegExp that is in fact linear, never let through one that is not.
 */
export function backtracking(product: RegExpProduct): 'exponential' | 'polynomial' | undefined {
  const pairs = new PairGraph(product);
  const component = pairs.components();
  const diagonal = (id: number) => pairs.left[id] === pairs.right[id];
  const size = new Map<number, number>();
  const mixed = new Set<number>();
  const hasDiagonal = new Set<number>();
  component.forEach((c, id) => {
    size.set(c, (size.get(c) ?? 0) + 1);
    if (diagonal(id)) hasDiagonal.add(c);
    else mixed.add(c);
  });
  for (const c of mixed) if (hasDiagonal.has(c)) return 'exponential';
  for (const [from, to] of pairs.parallel) if (component[from] === component[to]) return 'exponential';

  const onCycle = (id: number) => (size.get(component[id]) ?? 0) > 1 || pairs.next[id].includes(id);
  for (let id = 0; id < pairs.left.length; id++) {
    if (diagonal(id) || !onCycle(id)) continue;
    const p = pairs.id(pairs.left[id], pairs.left[id]);
    if (p !== undefined && onCycle(p) && pairs.reaches(p, id)) return 'polynomial';
  }
  return undefined;
}

/** Pairs of states that two runs on the same word reach together, from the start. */
class PairGraph {
  readonly left: number[] = [];
  readonly right: number[] = [];
  readonly next: number[][] = [];
  /** Pair edges taken by two distinct but parallel edges of one state (two routes from one position to another). */
  readonly parallel: Array<[number, number]> = [];
  private readonly ids = new Map<number, number>();

  constructor(private readonly product: RegExpProduct) {
    const byChar = product.edges.map((edges) => groupByChar(edges));
    this.add(0, 0);
    for (let id = 0; id < this.left.length; id++) {
      const a = this.left[id];
      const b = this.right[id];
      for (const first of product.edges[a]) {
        for (const second of byChar[b].get(first.char) ?? []) {
          const to = this.add(first.to, second.to);
          this.next[id].push(to);
          if (first === second && first.ways > 1) this.parallel.push([id, to]);
        }
      }
    }
  }

  id(a: number, b: number): number | undefined {
    return this.ids.get(a * this.product.position.length + b);
  }

  reaches(from: number, target: number): boolean {
    const seen = new Set([from]);
    const queue = [from];
    for (let i = 0; i < queue.length; i++) {
      for (const to of this.next[queue[i]]) {
        if (to === target) return true;
        if (!seen.has(to)) {
          seen.add(to);
          queue.push(to);
        }
      }
    }
    return false;
  }

  /** The strongly connected component of each pair (Tarjan's algorithm, without recursion: a RegExp can be long). */
  components(): number[] {
    const count = this.left.length;
    const index = new Array<number>(count).fill(-1);
    const low = new Array<number>(count).fill(0);
    const component = new Array<number>(count).fill(-1);
    const stack: number[] = [];
    const onStack = new Array<boolean>(count).fill(false);
    let counter = 0;
    for (let root = 0; root < count; root++) {
      if (index[root] !== -1) continue;
      const work: Array<[node: number, child: number]> = [[root, 0]];
      while (work.length > 0) {
        const frame = work[work.length - 1];
        const [node, child] = frame;
        if (child === 0 && index[node] === -1) {
          index[node] = low[node] = counter++;
          stack.push(node);
          onStack[node] = true;
        }
        if (child < this.next[node].length) {
          frame[1]++;
          const to = this.next[node][child];
          if (index[to] === -1) work.push([to, 0]);
          else if (onStack[to]) low[node] = Math.min(low[node], index[to]);
          continue;
        }
        work.pop();
        if (work.length > 0) {
          const parent = work[work.length - 1][0];
          low[parent] = Math.min(low[parent], low[node]);
        }
        if (low[node] === index[node]) {
          let member: number;
          do {
            member = stack.pop() as number;
            onStack[member] = false;
            component[member] = node;
          } while (member !== node);
        }
      }
    }
    return component;
  }

  private add(a: number, b: number): number {
    const key = a * this.product.position.length + b;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.left.push(a) - 1;
      this.right.push(b);
      this.next.push([]);
      this.ids.set(key, id);
    }
    return id;
  }
}

function groupByChar(edges: readonly Edge[]): Map<string, Edge[]> {
  const byChar = new Map<string, Edge[]>();
  for (const edge of edges) byChar.set(edge.char, [...(byChar.get(edge.char) ?? []), edge]);
  return byChar;
}
