import { RegExpParser } from '@eslint-community/regexpp';
import { grammarPart, isHostEnd, isHostStart } from './origin-grammar.js';
import { type CredentialRisk, isLoopbackHost, isRegistrableUnder, type OriginFindings } from './origin-safety.js';
import { backtracking } from './regexp-backtracking.js';
import { type CharSet, charBit, regExpNfa, UnsupportedRegExp } from './regexp-nfa.js';
import { charsOf, type Edge, RegExpProduct } from './regexp-product.js';

/** The characters that separate the parts of a host: a label from a label, an IPv6 group from a group, the brackets. */
const SEPARATORS = charBit('.') | charBit(':') | charBit('[') | charBit(']');
const DIGITS = [...'0123456789'].reduce((set, char) => set | charBit(char), 0n);
/** Enough to walk the labels of any sane RegExp; past it the RegExp is refused rather than half-checked. */
const MAX_WALK_STEPS = 20_000;

const PREFER_IN_WITNESS = '-xabcdefghijklmnopqrstuvwyz0123456789';

/** What a RegExp is, whatever the policy: its problems, and the risks it brings once credentials are on. */
interface RegExpAnalysis {
  problems: string[];
  risks: Array<{ risk: CredentialRisk; what: string; fix: string }>;
}

/** By source and flags: every policy that inherits an app's RegExp (each route of it) checks it once. */
const analyses = new Map<string, RegExpAnalysis>();

/**
 * Checks an origin RegExp for everything that can be checked before it runs: flags and anchors, backtracking that grows
 * faster than the origin, look-alike gaps, and, with credentials, origins it would allow that are insecure or under a
 * public suffix. Every finding goes to `findings`; the RegExp is never run on a request.
 */
export function checkRegExpOrigin(regexp: RegExp, findings: OriginFindings): void {
  const key = regexp.toString();
  let analysis = analyses.get(key);
  if (analysis === undefined) analyses.set(key, (analysis = analyse(regexp)));
  findings.problems.push(...analysis.problems);
  for (const { risk, what, fix } of analysis.risks) findings.withCredentials(risk, what, fix);
}

function analyse(regexp: RegExp): RegExpAnalysis {
  const analysis: RegExpAnalysis = { problems: [], risks: [] };
  const problem = (why: string) => void analysis.problems.push(`origin RegExp ${regexp} ${why}`);
  if (regexp.global || regexp.sticky) {
    problem('has the g or y flag: lastIndex makes test() answer differently on each call');
    return analysis;
  }
  if (regexp.multiline || !isAnchored(regexp)) {
    problem('is not anchored: write it as /^...$/ (without the m flag) so a prefix or suffix cannot slip through');
    return analysis;
  }
  let product: RegExpProduct;
  try {
    product = new RegExpProduct(regExpNfa(regexp));
  } catch (error) {
    if (!(error instanceof UnsupportedRegExp)) throw error;
    problem(error.message);
    return analysis;
  }
  if (!product.useful[0]) {
    problem(
      'matches no serialized origin (scheme://host[:port], lower case, no path or trailing slash): it would never match',
    );
    return analysis;
  }
  const blowUp = backtracking(product);
  if (blowUp !== undefined) {
    problem(
      blowUp === 'exponential'
        ? `can backtrack exponentially: a loop can match the same characters in two ways (as in (a+)+ or (a|a)*), so one hostile Origin could stall the server. Give each loop one way to match, or use a pattern string`
        : `can backtrack polynomially: two loops can match the same characters one after the other (as in [a-z]+[a-z]*), so one hostile Origin could stall the server. Merge them into one, or use a pattern string`,
    );
  }
  const edges = product.usefulEdges();
  const hostSets = hostCharSets(product, edges);
  const gaps = new Set<number>();
  for (const [position, set] of hostSets) {
    if ((set & SEPARATORS) === 0n || charsOf(set).length === 1) continue;
    gaps.add(position);
    const separator = charsOf(set & SEPARATORS)[0];
    const through = pickEdge(edges, (edge) => product.position[edge.to] === position && edge.char !== separator);
    problem(
      `has a look-alike gap: ${product.nfa.sources[position]} matches a '${separator}' of the host and other characters too${allows(regexp, product.witnessThrough(through))}. Write \\. for a dot and [a-z0-9-] for the characters of a label, or use a pattern string such as 'https://*.example.com'`,
    );
  }
  walkHostLabels(regexp, product, hostSets, gaps, analysis);
  const insecure = insecureWitness(product);
  if (insecure !== undefined) {
    analysis.risks.push({
      risk: 'insecure',
      what: `origin RegExp ${regexp} allows ${insecure}, which is plain http`,
      fix: `Write https: (not https? or http:)`,
    });
  }
  return analysis;
}

/** `^...$` with no alternation outside a group: `^a|b$` would match anything ending in `b`. */
function isAnchored(regexp: RegExp): boolean {
  let pattern;
  try {
    pattern = new RegExpParser().parseLiteral(regexp.toString()).pattern;
  } catch {
    return false;
  }
  const elements = pattern.alternatives.length === 1 ? pattern.alternatives[0].elements : [];
  const [first, last] = [elements[0], elements[elements.length - 1]];
  return (
    elements.length >= 2 &&
    first.type === 'Assertion' &&
    first.kind === 'start' &&
    last.type === 'Assertion' &&
    last.kind === 'end'
  );
}

/** What each position matches where it stands in the host of an accepted origin. */
function hostCharSets(product: RegExpProduct, edges: readonly Edge[]): Map<number, CharSet> {
  const sets = new Map<number, CharSet>();
  for (const edge of edges) {
    if (grammarPart(product.grammar[edge.from], edge.char) !== 'host') continue;
    const position = product.position[edge.to];
    sets.set(position, (sets.get(position) ?? 0n) | charBit(edge.char));
  }
  return sets;
}

/**
 * Reads the hosts the RegExp accepts from their end, label by label, as far as they are written out, to find its first
 * open label (one a class or a loop lets vary): open in the last label, the host goes on past what is written
 * (`\.com.*`, `\.com[a-z]*`); open right under a single label, it spans a top-level domain (`[a-z]+\.com`); open right
 * under a public suffix, anyone can register a host it allows (`[a-z0-9-]+\.github\.io`, with credentials). The walk
 * stops at a label under a registrable domain, or where the whole host is written out. Look-alike `gaps` are already
 * reported.
 */
/**
 * `, so it allows <origin>`, for a message; nothing where the origin, found on the automaton, which over-approximates
 * long counts (`{1,63}`), is not one the RegExp accepts.
 */
function allows(regexp: RegExp, origin: string, words = ', so it allows'): string {
  return regexp.test(origin) ? `${words} ${origin}` : '';
}

function walkHostLabels(
  regexp: RegExp,
  product: RegExpProduct,
  hostSets: Map<number, CharSet>,
  gaps: ReadonlySet<number>,
  analysis: RegExpAnalysis,
): void {
  const subject = `origin RegExp ${regexp}`;
  const problem = (why: string) => void analysis.problems.push(`${subject} ${why}`);
  const incoming = product.incoming().map((edges) => edges.filter((edge) => product.useful[edge.to]));
  const reported = new Set<string>();
  const open = (edge: Edge, parent: string, set: CharSet) => {
    // A look-alike gap is reported as such; an IPv4 address whose last number varies has no domain to take over.
    if (gaps.has(product.position[edge.to]) || (parent === '' && (set & ~DIGITS) === 0n)) return;
    if (reported.has(parent)) return;
    reported.add(parent);
    const example = allows(regexp, product.witnessThrough(edge), ', such as');
    if (parent === '') {
      problem(
        `lets the host go on past what is written (anything after the host${example}). End the RegExp with the host's last label written out, then (?::[0-9]+)? at most`,
      );
    } else if (!parent.includes('.') && parent !== 'localhost') {
      problem(`allows every domain under the top-level domain .${parent}${example}. Write the domain out`);
    } else if (isRegistrableUnder(parent)) {
      analysis.risks.push({
        risk: 'public suffix',
        what: `${subject} allows any name under the public suffix ${parent}${example}`,
        fix: `Write the names out`,
      });
    }
  };
  const stack: Array<{ state: number; label: string; parent: string; seen: ReadonlySet<number> }> = [];
  product.position.forEach((_, state) => {
    if (!product.useful[state] || !isHostEnd(product.grammar[state])) return;
    const endsHere =
      product.accepting[state] ||
      product.edges[state].some(
        (edge) => product.useful[edge.to] && grammarPart(product.grammar[state], edge.char) === 'port',
      );
    if (endsHere) stack.push({ state, label: '', parent: '', seen: new Set() });
  });
  for (let steps = 0; stack.length > 0; steps++) {
    if (steps > MAX_WALK_STEPS)
      return void problem('has too many hosts to check: split it into several RegExps, or use pattern strings');
    const { state, label, parent, seen } = stack.pop() as (typeof stack)[number];
    for (const edge of incoming[state]) {
      const set = hostSets.get(product.position[state]) ?? 0n;
      if (charsOf(set).length > 1 || seen.has(state)) {
        open(edge, parent, set);
      } else if (edge.char === '.') {
        const written = parent === '' ? label : `${label}.${parent}`;
        if (isRegistrableUnder(written)) stack.push({ state: edge.from, label: '', parent: written, seen: new Set() });
      } else if (!isHostStart(product.grammar[edge.from])) {
        stack.push({ state: edge.from, label: edge.char + label, parent, seen: new Set([...seen, state]) });
      }
    }
  }
}

/**
 * An `http:` origin the RegExp allows whose host is not loopback, or `undefined`: the RegExp is run on `http://`, then
 * its hosts are searched breadth first, keeping apart only hosts that can still end differently (`loopbackProgress`).
 */
function insecureWitness(product: RegExpProduct): string | undefined {
  let states = [0];
  for (const char of 'http://')
    states = [...new Set(states.flatMap((state) => product.edgesOn(state, char).map((edge) => edge.to)))];
  const queue = states.filter((state) => product.useful[state]).map((state) => ({ state, host: '', text: 'http://' }));
  const seen = new Set<string>();
  for (let i = 0; i < queue.length; i++) {
    const { state, host, text } = queue[i];
    if (product.accepting[state] && !isLoopbackHost(host)) return text;
    for (const edge of product.edges[state]) {
      if (!product.useful[edge.to]) continue;
      const next = grammarPart(product.grammar[state], edge.char) === 'host' ? host + edge.char : host;
      const key = `${edge.to}|${loopbackProgress(next)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      queue.push({ state: edge.to, host: next, text: text + edge.char });
    }
  }
  return undefined;
}

/**
 * What of a host prefix decides whether the whole host is loopback (`isLoopbackHost`): whether it is still the start of
 * `localhost`, `[::1]` or `127.`, or within `127.0.0.0/8`, and how much of `.localhost` it ends with. Hosts with the
 * same answer end up the same kind of host whatever follows, so the search keeps one of them.
 */
function loopbackProgress(host: string): string {
  const start = ['localhost', '[::1]', '127'].some((name) => name.startsWith(host))
    ? host
    : /^127\.[0-9.]*$/.test(host)
      ? '127.'
      : '';
  const underLocalhost = '.localhost';
  let suffix = Math.min(host.length, underLocalhost.length);
  while (suffix > 0 && !host.endsWith(underLocalhost.slice(0, suffix))) suffix--;
  return `${start}|${suffix}`;
}

/** The edge the message shows, preferring one through a character that makes the look-alike plain (`-`, `x`). */
function pickEdge(edges: readonly Edge[], wanted: (edge: Edge) => boolean): Edge {
  const candidates = edges.filter(wanted);
  return candidates.sort((a, b) => rank(a.char) - rank(b.char))[0];
}

function rank(char: string): number {
  const index = PREFER_IN_WITNESS.indexOf(char);
  return index === -1 ? PREFER_IN_WITNESS.length : index;
}
