import { type AST, RegExpParser, visitRegExpAST } from '@eslint-community/regexpp';

/**
 * Every character a serialized origin can hold (see `SERIALIZED_ORIGIN`): a RegExp origin is only ever run on strings
 * of these, so its behaviour on them is its whole behaviour. Sets of them are bit masks.
 */
export const ORIGIN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789+-.:/[]';
export type CharSet = bigint;
export const charBit = (char: string): CharSet => 1n << BigInt(ORIGIN_ALPHABET.indexOf(char));

/** Counts of distinct routes only matter as one or several: kept at 2 at most, so they never grow. */
const MANY = 2;
type Routes = Map<number, number>;

/**
 * A RegExp as a position automaton (Glushkov) that keeps count of the distinct ways the backtracking engine can go
 * from one consumed character to the next. `(a*)*` has one position, but two ways from `a` back to `a` (the inner loop,
 * or the outer one): that count is what makes it exponential, and a plain position automaton would lose it.
 * Position 0 is the start; positions 1.. are the character atoms of the source.
 */
export interface RegExpNfa {
  /** What each position matches, over `ORIGIN_ALPHABET`; index 0 (the start) matches nothing. */
  charsets: CharSet[];
  /** Each position as written in the RegExp, for messages. */
  sources: string[];
  /** Position → next position → number of ways (1 or `MANY`). `follow[0]` are the first positions. */
  follow: Routes[];
  /** Positions after which the RegExp may end, with the number of ways. */
  last: Routes;
  /** Ways to match the empty string. */
  nullable: number;
}

/** Why a RegExp cannot be read as an automaton: the features origins never need and that would make the analysis unsound. */
export class UnsupportedRegExp extends Error {}

/** The longest RegExp analysed, in character positions: far beyond any origin RegExp, and a bound on startup work. */
const MAX_POSITIONS = 150;
/** Counts up to this are analysed as copies; larger ones as a loop without a bound. */
const SMALL_COUNT = 4;

interface Fragment {
  first: Routes;
  last: Routes;
  nullable: number;
}

/**
 * Reads an anchored RegExp (`^...$`, checked by the caller) as a `RegExpNfa`. Throws `UnsupportedRegExp` for
 * backreferences, lookarounds, `\b`, anchors inside, inline modifiers and classes of strings.
 */
export function regExpNfa(regexp: RegExp): RegExpNfa {
  const literal = new RegExpParser().parseLiteral(regexp.toString());
  refuseUnsupported(literal.pattern);
  const [body] = literal.pattern.alternatives;
  // Sets are evaluated by V8 itself, with the RegExp's own flags, so that `i`, `\w`, `\p{...}` and `v` mean exactly
  // what they mean when the RegExp runs.
  const setFlags = regexp.flags.replace(/[gymd]/g, '');
  const nfa: RegExpNfa = { charsets: [0n], sources: ['^'], follow: [new Map()], last: new Map(), nullable: 0 };

  const position = (node: AST.Node): Fragment => {
    if (nfa.charsets.length > MAX_POSITIONS) {
      throw new UnsupportedRegExp(
        `is longer than ${MAX_POSITIONS} characters of pattern: split it into several RegExps, or use pattern strings`,
      );
    }
    const test = new RegExp(`^(?:${node.raw})$`, setFlags);
    let set = 0n;
    for (const char of ORIGIN_ALPHABET) if (test.test(char)) set |= charBit(char);
    const index = nfa.charsets.push(set) - 1;
    nfa.sources.push(node.raw);
    nfa.follow.push(new Map());
    return { first: new Map([[index, 1]]), last: new Map([[index, 1]]), nullable: 0 };
  };
  const link = (from: Routes, to: Routes) => {
    for (const [p, ways] of from) for (const [q, more] of to) add(nfa.follow[p], q, ways * more);
  };

  const concat = (before: Fragment, after: Fragment): Fragment => {
    link(before.last, after.first);
    return {
      first: sum(before.first, scale(after.first, before.nullable)),
      last: sum(after.last, scale(before.last, after.nullable)),
      nullable: cap(before.nullable * after.nullable),
    };
  };
  const sequence = (elements: readonly AST.Element[]): Fragment =>
    elements.reduce<Fragment>((fragment, element) => concat(fragment, build(element)), {
      first: new Map(),
      last: new Map(),
      nullable: 1,
    });
  const choice = (alternatives: readonly AST.Alternative[]): Fragment =>
    alternatives
      .map((alternative) => sequence(alternative.elements))
      .reduce((a, b) => ({
        first: sum(a.first, b.first),
        last: sum(a.last, b.last),
        nullable: cap(a.nullable + b.nullable),
      }));

  /**
   * `{n,m}` counts iterations, so each of its runs is one run of the same loop without a bound: analysing `x{1,63}` as
   * `x+` can only add runs, never hide one. An iteration that matched nothing ends the loop (V8's empty check), so a
   * route never goes round a loop twice without consuming.
   */
  const quantified = (node: AST.Quantifier): Fragment => {
    if (node.max === 0) return { first: new Map(), last: new Map(), nullable: 1 };
    if (node.max <= SMALL_COUNT && node.max > 1) return counted(node);
    const body = build(node.element);
    if (node.max === 1) return node.min === 0 ? { ...body, nullable: cap(1 + body.nullable) } : body;
    link(body.last, body.first);
    return {
      first: body.first,
      // After a consuming iteration, one more that matches nothing may end the loop.
      last: scale(body.last, 1 + body.nullable),
      nullable: node.min === 0 ? cap(1 + body.nullable) : body.nullable,
    };
  };

  /**
   * A small count (`.{2}`, `\d{1,3}`) as copies, so that the origins shown in messages are ones the RegExp really
   * accepts: `x{1,3}` is `x(?:x(?:x)?)?`, whose runs are again exactly V8's, one per number of iterations.
   */
  const counted = (node: AST.Quantifier): Fragment => {
    const optional = (count: number): Fragment => {
      if (count === 0) return { first: new Map(), last: new Map(), nullable: 1 };
      const inner = concat(build(node.element), optional(count - 1));
      return { ...inner, nullable: cap(1 + inner.nullable) };
    };
    let fragment = optional(node.max - node.min);
    for (let i = 0; i < node.min; i++) fragment = concat(build(node.element), fragment);
    return fragment;
  };

  const build = (node: AST.Element): Fragment => {
    switch (node.type) {
      case 'Character':
      case 'CharacterSet':
      case 'CharacterClass':
      case 'ExpressionCharacterClass':
        return position(node);
      case 'Group':
      case 'CapturingGroup':
        return choice(node.alternatives);
      case 'Quantifier':
        return quantified(node);
      default:
        // Refused by `refuseUnsupported` before.
        throw new UnsupportedRegExp(`has ${node.raw}, which is not supported`);
    }
  };

  const whole = sequence(body.elements.slice(1, -1));
  nfa.follow[0] = whole.first;
  nfa.last = whole.last;
  nfa.nullable = whole.nullable;
  return nfa;
}

function refuseUnsupported(pattern: AST.Pattern): void {
  const body = pattern.alternatives[0].elements;
  const refuse = (node: AST.Node, what: string) => {
    throw new UnsupportedRegExp(
      `has ${what} (${node.raw}), which origin RegExps do not support: write the origins out without it`,
    );
  };
  visitRegExpAST(pattern, {
    onBackreferenceEnter: (node) => refuse(node, 'a backreference'),
    onAssertionEnter: (node) => {
      if (node.kind === 'lookahead' || node.kind === 'lookbehind') refuse(node, 'a lookaround');
      else if (node.kind === 'word') refuse(node, 'a word boundary');
      else if (node !== body[0] && node !== body[body.length - 1]) refuse(node, 'an anchor inside');
    },
    onModifiersEnter: (node) => refuse(node.parent, 'inline modifiers'),
    onClassStringDisjunctionEnter: (node) => refuse(node, 'a class of strings'),
    onCharacterSetEnter: (node) => {
      if (node.kind === 'property' && node.strings) refuse(node, 'a property of strings');
    },
  });
}

function add(routes: Routes, position: number, ways: number): void {
  routes.set(position, cap((routes.get(position) ?? 0) + ways));
}

function cap(ways: number): number {
  return Math.min(ways, MANY);
}

function sum(a: Routes, b: Routes): Routes {
  const result = new Map(a);
  for (const [position, ways] of b) add(result, position, ways);
  return result;
}

function scale(routes: Routes, factor: number): Routes {
  const result: Routes = new Map();
  if (factor > 0) for (const [position, ways] of routes) add(result, position, ways * factor);
  return result;
}
