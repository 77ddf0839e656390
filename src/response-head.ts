import type { ServerResponse } from 'node:http';
import type { VaryHeader } from './policy/candidate-policies.js';
import type { CorsHeaders } from './policy/cors-policy.js';
import { mergeVary } from './policy/http-tokens.js';

/** What the front door decided a response's head carries. */
export interface CorsHead {
  /** Tokens the answer varies on, merged into whatever `Vary` the app sets. */
  vary: VaryHeader | undefined;
  /** The CORS headers of an allowed request; where the head has no `owner`, one the app set is left as it set it. */
  headers: CorsHeaders;
  /**
   * Set for a request decided as cross-origin, whose CORS headers are then ours alone: any the app or a proxied
   * upstream set is replaced, or removed where `headers` has none, as an upstream's `*` next to our credentials, or
   * its origin for one we refuse, would contradict the decision. The owner hears of it.
   */
  owner?: HeaderOwner;
}

/** Hears which CORS headers (lower case) the app or an upstream set that a cross-origin response's head replaced. */
export interface HeaderOwner {
  overridden(response: ServerResponse, names: readonly string[]): void;
}

/** The response headers of the CORS protocol: those a head with an owner owns. */
const OWNED_NAMES = new Set([
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-expose-headers',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-max-age',
  'access-control-allow-private-network',
]);

const HEAD = Symbol('nestjs-cors:head');
const WRITE_HEAD = Symbol('nestjs-cors:writeHead');

/** `writeHead` as Node's is called: status, then a reason phrase or the headers, then the headers. */
type WriteHead = (this: ServerResponse, statusCode: number, reason?: unknown, fields?: unknown) => ServerResponse;

type CorsResponse = ServerResponse & {
  [HEAD]?: CorsHead;
  [WRITE_HEAD]?: WriteHead;
};

/**
 * Puts `head` on the response when its head is written rather than when the request arrives, so that a `Vary` the
 * app sets in between (`res.setHeader`, `reply.header`, `@Header`) is merged with instead of replacing ours, and
 * every response, whoever writes it (a body parser's 400, a rate limiter's 429, a filter's 500), carries the headers.
 * Node, Express and Fastify all write a head through `writeHead` (`res.end()` calls it too). Called again, it replaces
 * the head: the guard does so where it knows the handler's own policy.
 */
export function writeOnHead(response: ServerResponse, head: CorsHead): void {
  const target = response as CorsResponse;
  if (target[HEAD] === undefined) {
    target[WRITE_HEAD] = target.writeHead as WriteHead;
    target.writeHead = writeHeadWithCors as ServerResponse['writeHead'];
  }
  target[HEAD] = head;
}

/**
 * Answers the request with `status`, `head` and a plain-text `body`, all in one `writeHead`: a preflight's answer or
 * a refusal, written before anything else in the app has run, so Node can take its fast path for a head nothing has
 * touched. As with `writeOnHead`, a header already set is left as it is unless the head owns it, and `Vary` is merged.
 */
export function writeAnswer(response: ServerResponse, status: number, head: CorsHead, body = ''): void {
  if (head.owner !== undefined) {
    const overridden: string[] = [];
    removeTheirCorsHeaders(response, head.headers, overridden);
    report(head.owner, response, overridden);
  }
  const fields: Record<string, string | number> = {};
  for (const [name, value] of head.headers) if (!response.hasHeader(name)) fields[name] = value;
  if (head.vary !== undefined) {
    const existing = response.getHeader('vary');
    fields.vary = mergedVary(existing, head.vary) ?? String(existing);
  }
  if (body !== '') fields['content-type'] = 'text/plain; charset=utf-8';
  if (status !== 204) fields['content-length'] = Buffer.byteLength(body);
  response.writeHead(status, fields).end(body);
}

/** The head `writeOnHead` put on the response, if any. */
export function headOf(response: ServerResponse): CorsHead | undefined {
  return (response as CorsResponse)[HEAD];
}

function writeHeadWithCors(this: CorsResponse, statusCode: number, reason?: unknown, fields?: unknown): ServerResponse {
  // Node's `writeHead` and the wrappers an app adds (on-headers) count the arguments: as many are passed on.
  const count = arguments.length;
  return writeWithHead(this, this[HEAD] as CorsHead, this[WRITE_HEAD] as WriteHead, count, statusCode, reason, fields);
}

/**
 * Removes the CORS headers set on the response (`setHeader`), adding to `overridden` those whose value ours does not
 * repeat: ours are then the only ones.
 */
function removeTheirCorsHeaders(response: ServerResponse, ours: CorsHeaders, overridden: string[]): void {
  // The names Node keeps, lower case: half the cost of asking it for each owned name.
  for (const name of response.getHeaderNames()) {
    if (!OWNED_NAMES.has(name)) continue;
    noteOverride(overridden, name, response.getHeader(name), ours);
    response.removeHeader(name);
  }
}

/** Raw headers (names and values in turn) without the owned ones: the same list where it has none. */
function rawWithoutOwned(raw: unknown[], ours: CorsHeaders, overridden: string[]): unknown[] {
  const kept: unknown[] = [];
  for (let at = 0; at < raw.length; at += 2) {
    const name = String(raw[at]).toLowerCase();
    if (OWNED_NAMES.has(name)) noteOverride(overridden, name, raw[at + 1], ours);
    else kept.push(raw[at], raw[at + 1]);
  }
  return kept.length === raw.length ? raw : kept;
}

/** Tells the owner which CORS headers of theirs a response's head replaced, where any. */
function report(owner: HeaderOwner, response: ServerResponse, overridden: readonly string[]): void {
  if (overridden.length > 0) owner.overridden(response, overridden);
}

/** Adds `name` to `overridden` unless ours gives it the value `theirs` has. */
function noteOverride(overridden: string[], name: string, theirs: unknown, ours: CorsHeaders): void {
  if (!overridden.includes(name) && String(theirs) !== ours.find(([each]) => each === name)?.[1]) overridden.push(name);
}

/**
 * Calls `writeHead(status, [reason], [fields])`, with `count` arguments, with `head` added. Headers given as an object
 * (Fastify's way) take precedence over `setHeader` in Node, so ours go with theirs into a list that takes the object's
 * place (see `fieldsWithHead`). Otherwise they are set with `setHeader`. A header the app set either way is left as it
 * is, unless the head owns it.
 */
function writeWithHead(
  response: ServerResponse,
  head: CorsHead,
  writeHead: WriteHead,
  count: number,
  statusCode: number,
  reason: unknown,
  fields: unknown,
): ServerResponse {
  // Where Node finds the headers: after a reason phrase, else in the reason's place.
  const afterReason = typeof reason === 'string' || fields != null;
  let given = afterReason ? fields : reason;
  if (typeof given === 'object' && given !== null && !Array.isArray(given)) {
    const list = fieldsWithHead(response, given as Record<string, unknown>, head);
    return afterReason
      ? writeHead.call(response, statusCode, reason, list)
      : writeHead.call(response, statusCode, list);
  }
  const { vary, headers, owner } = head;
  if (owner !== undefined) {
    const overridden: string[] = [];
    removeTheirCorsHeaders(response, headers, overridden);
    if (Array.isArray(given)) given = rawWithoutOwned(given, headers, overridden);
    report(owner, response, overridden);
  }
  for (const [name, value] of headers) if (!response.hasHeader(name)) response.setHeader(name, value);
  const merged = vary === undefined ? undefined : mergedVary(response.getHeader('vary'), vary);
  if (merged !== undefined) response.setHeader('Vary', merged);
  if (Array.isArray(given) && vary !== undefined) given = withVaryInRawHeaders(given, vary) ?? given;
  if (afterReason) fields = given;
  else reason = given;
  if (count <= 1) return writeHead.call(response, statusCode);
  return count === 2
    ? writeHead.call(response, statusCode, reason)
    : writeHead.call(response, statusCode, reason, fields);
}

/**
 * Header fields given to `writeHead` as an object, with `head` added, as a raw list (`[name, value, …]`), which Node
 * takes in the object's place and reads alike: their object is left as it is (an app may pass the same one, even a
 * frozen one, to every response), and a list grows without the cost of a new object taking on each name. Their names
 * are compared case-insensitively (Fastify's are all lower case, so `toLowerCase` gives the same string back and
 * nothing is remembered). Where the head has an owner, their CORS headers, and any set with `setHeader`, are left out
 * and the owner hears of them.
 */
function fieldsWithHead(
  response: ServerResponse,
  fields: Record<string, unknown>,
  { vary, headers, owner }: CorsHead,
): unknown[] {
  const overridden: string[] = [];
  if (owner !== undefined) removeTheirCorsHeaders(response, headers, overridden);
  const list: unknown[] = [];
  /** Lower-case forms of their names that are not given lower case. */
  let folded: Set<string> | undefined;
  let varyMerged = false;
  for (const name of Object.keys(fields)) {
    const value = fields[name];
    const lowerCase = name.toLowerCase();
    if (lowerCase !== name) (folded ??= new Set()).add(lowerCase);
    if (owner !== undefined && OWNED_NAMES.has(lowerCase)) noteOverride(overridden, lowerCase, value, headers);
    else if (lowerCase === 'vary' && vary !== undefined) {
      list.push(name, mergedVary(value, vary) ?? value);
      varyMerged = true;
    } else list.push(name, value);
  }
  for (const [name, value] of headers) {
    // Where the head has an owner, every CORS header of theirs was left out: ours go on.
    if (owner !== undefined || (!response.hasHeader(name) && !Object.hasOwn(fields, name) && !folded?.has(name)))
      list.push(name, value);
  }
  if (vary !== undefined && !varyMerged) {
    const merged = mergedVary(response.getHeader('vary'), vary);
    if (merged !== undefined) list.push('vary', merged);
  }
  if (owner !== undefined) report(owner, response, overridden);
  return list;
}

/**
 * Raw headers (`writeHead(status, ['Vary', 'Accept-Encoding', …])`) replace every header of theirs set before, `Vary`
 * among them: ours is merged into theirs, in a copy of the list (an app may pass the same list to every response).
 * `undefined` where theirs has no `Vary` (ours, set before, stays) or already has our tokens.
 */
function withVaryInRawHeaders(raw: unknown[], vary: VaryHeader): unknown[] | undefined {
  const theirs: unknown[] = [];
  const others: unknown[] = [];
  for (let at = 0; at < raw.length; at += 2) {
    if (String(raw[at]).toLowerCase() === 'vary') theirs.push(raw[at + 1]);
    else others.push(raw[at], raw[at + 1]);
  }
  const merged = theirs.length === 0 ? undefined : mergeVary(theirs.flat(), vary.tokens);
  return merged === undefined ? undefined : [...others, 'Vary', merged];
}

/** `Vary` with our tokens merged in, or `undefined` where it already has them. */
function mergedVary(existing: unknown, vary: VaryHeader): string | undefined {
  return existing === undefined ? vary.value : mergeVary(existing, vary.tokens);
}
