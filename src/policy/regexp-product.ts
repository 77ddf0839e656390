import { GRAMMAR_START, grammarAccepts, grammarStep } from './origin-grammar.js';
import { ORIGIN_ALPHABET, type RegExpNfa } from './regexp-nfa.js';

/** One step of a RegExp run on a serialized origin: from a state, on a character, to a state, in `ways` distinct ways. */
export interface Edge {
  from: number;
  char: string;
  to: number;
  ways: number;
}

/**
 * A RegExp's position automaton run in step with the origin grammar: a state is a position of the RegExp and a state of
 * the grammar, so the product has exactly the runs the RegExp can make on real origins. State 0 is the start.
 */
export class RegExpProduct {
  /** The RegExp position and grammar state of each state. */
  readonly position: number[] = [];
  readonly grammar: number[] = [];
  readonly edges: Edge[][] = [];
  readonly accepting: boolean[] = [];
  /** States from which some origin is accepted: only their edges matter for what the RegExp allows. */
  readonly useful: boolean[];
  private readonly ids = new Map<string, number>();

  constructor(readonly nfa: RegExpNfa) {
    this.state(0, GRAMMAR_START);
    for (let id = 0; id < this.position.length; id++) {
      for (const [next, ways] of nfa.follow[this.position[id]]) {
        for (const char of charsOf(nfa.charsets[next])) {
          const grammar = grammarStep(this.grammar[id], char);
          if (grammar !== undefined) this.edges[id].push({ from: id, char, to: this.state(next, grammar), ways });
        }
      }
    }
    this.useful = this.position.map((_, id) => this.distance[id] !== Infinity);
  }

  /** The edges of a run that can still end in an accepted origin. */
  usefulEdges(): Edge[] {
    return this.edges.flat().filter((edge) => this.useful[edge.to]);
  }

  /** The edges from `id` on `char`. */
  edgesOn(id: number, char: string): Edge[] {
    return this.edges[id].filter((edge) => edge.char === char);
  }

  /** The shortest origin the RegExp accepts whose run takes `edge`, to show in a message. */
  witnessThrough(edge: Edge): string {
    return `${this.shortestPrefix(edge.from)}${edge.char}${this.shortestSuffix(edge.to)}`;
  }

  /** The characters of the shortest run from the start to `target`. */
  shortestPrefix(target: number): string {
    const parent = new Map<number, Edge | undefined>([[0, undefined]]);
    const queue = [0];
    for (let i = 0; i < queue.length && !parent.has(target); i++) {
      for (const edge of this.edges[queue[i]]) {
        if (!parent.has(edge.to)) {
          parent.set(edge.to, edge);
          queue.push(edge.to);
        }
      }
    }
    let text = '';
    for (let edge = parent.get(target); edge !== undefined; edge = parent.get(edge.from)) text = edge.char + text;
    return text;
  }

  /** The characters of the shortest run from `source` to acceptance (`source` must be useful). */
  shortestSuffix(source: number): string {
    let text = '';
    for (let id = source; !this.accepting[id];) {
      const next = this.edges[id].find((edge) => this.distance[edge.to] === this.distance[id] - 1) as Edge;
      text += next.char;
      id = next.to;
    }
    return text;
  }

  /** Steps from each state to acceptance, by a breadth-first search backwards from the accepting states. */
  private get distance(): number[] {
    if (this.distances !== undefined) return this.distances;
    const distance = this.accepting.map((accepting) => (accepting ? 0 : Infinity));
    const incoming = this.incoming();
    const queue = distance.flatMap((d, id) => (d === 0 ? [id] : []));
    for (let i = 0; i < queue.length; i++) {
      for (const edge of incoming[queue[i]]) {
        if (distance[edge.from] === Infinity) {
          distance[edge.from] = distance[queue[i]] + 1;
          queue.push(edge.from);
        }
      }
    }
    return (this.distances = distance);
  }
  private distances: number[] | undefined;

  incoming(): Edge[][] {
    const incoming: Edge[][] = this.position.map(() => []);
    for (const edge of this.edges.flat()) incoming[edge.to].push(edge);
    return incoming;
  }

  private state(position: number, grammar: number): number {
    const key = `${position}:${grammar}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.position.push(position) - 1;
      this.ids.set(key, id);
      this.grammar.push(grammar);
      this.edges.push([]);
      const ends = position === 0 ? this.nfa.nullable > 0 : this.nfa.last.has(position);
      this.accepting.push(ends && grammarAccepts(grammar));
    }
    return id;
  }
}

export function charsOf(set: bigint): string[] {
  return [...ORIGIN_ALPHABET].filter((_, i) => (set >> BigInt(i)) & 1n);
}
