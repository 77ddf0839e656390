import type { ServerResponse } from 'node:http';
import type { VaryHeader } from './policy/candidate-policies.js';
import type { CorsHeaders } from './policy/cors-policy.js';
import { mergeVary } from './policy/http-tokens.js';

/** What the front door decided a response's head carries. */
export interface CorsHead {
  /** Tokens the answer varies on, merged into whatever `Vary` the app sets. */
  vary: VaryHeader | undefined;
  /** The CORS headers of an allowed request; a header the app set itself is left as the app set it. */
  headers: CorsHeaders;
}

const HEAD = Symbol('nestjs-cors:head');
const WRITE_HEAD = Symbol('nestjs-cors:writeHead');
/** Set on a response prototype whose `writeHead` `writeHeadsWithCors` wrapped (Express's). */
const HEADS_ASIDE = Symbol('nestjs-cors:headsAside');

type CorsResponse = ServerResponse & {
  [HEAD]?: CorsHead;
  [WRITE_HEAD]?: ServerResponse['writeHead'];
  [HEADS_ASIDE]?: true;
};

/** The heads of responses under a prototype that `writeHeadsWithCors` prepared. */
const heads = new WeakMap<ServerResponse, CorsHead>();

/**
 * Puts `head` on the response when its head is written rather than when the request arrives, so that a `Vary` the
 * app sets in between (`res.setHeader`, `reply.header`, `@Header`) is merged with instead of replacing ours, and
 * every response, whoever writes it (a body parser's 400, a rate limiter's 429, a filter's 500), carries the headers.
 * Node, Express and Fastify all write a head through `writeHead` (`res.end()` calls it too). Called again, it replaces
 * the head: the guard does so where it knows the handler's own policy.
 */
export function writeOnHead(response: ServerResponse, head: CorsHead): void {
  const target = response as CorsResponse;
  if (target[HEADS_ASIDE]) {
    heads.set(target, head);
    return;
  }
  if (target[HEAD] === undefined) {
    target[WRITE_HEAD] = target.writeHead;
    target.writeHead = writeHeadWithCors;
  }
  target[HEAD] = head;
}

/**
 * Makes every response that inherits from `prototype` write the head `writeOnHead` gives it, kept in a WeakMap rather
 * than on the response. For Express, which gives each response its app's prototype (`Object.setPrototypeOf`): V8 then
 * adds a property to the response a thousand times slower than to a plain Node response, where `writeOnHead` puts the
 * head and a `writeHead` of its own (a WeakMap costs a plain response more, in garbage collection).
 */
export function writeHeadsWithCors(prototype: ServerResponse): void {
  const target = prototype as CorsResponse;
  if (Object.prototype.hasOwnProperty.call(target, HEADS_ASIDE)) return;
  const writeHead = target.writeHead;
  target.writeHead = function writeHeadAside(this: ServerResponse) {
    const head = heads.get(this);
    if (head !== undefined) addHead(this, head, arguments);
    return writeHead.apply(this, arguments as never);
  } as ServerResponse['writeHead'];
  target[HEADS_ASIDE] = true;
}

/**
 * Answers the request with `status`, `head` and a plain-text `body`, all in one `writeHead`: a preflight's answer or
 * a refusal, written before anything else in the app has run, so Node can take its fast path for a head nothing has
 * touched. As with `writeOnHead`, a header already set is left as it is and `Vary` is merged.
 */
export function writeAnswer(response: ServerResponse, status: number, head: CorsHead, body = ''): void {
  const fields: Record<string, string | number> = {};
  for (const [name, value] of head.headers) if (!response.hasHeader(name)) fields[name] = value;
  if (head.vary !== undefined) {
    const existing = response.getHeader('vary');
    fields.vary = existing === undefined ? head.vary.value : (mergeVary(existing, head.vary.tokens) ?? String(existing));
  }
  if (body !== '') fields['content-type'] = 'text/plain; charset=utf-8';
  if (status !== 204) fields['content-length'] = Buffer.byteLength(body);
  response.writeHead(status, fields).end(body);
}

/** The head `writeOnHead` put on the response, if any. */
export function headOf(response: ServerResponse): CorsHead | undefined {
  return (response as CorsResponse)[HEAD] ?? heads.get(response);
}

function writeHeadWithCors(this: CorsResponse): ServerResponse {
  addHead(this, this[HEAD] as CorsHead, arguments);
  // `arguments`, not parameters: Node counts them (`writeHead(status, undefined)` is not `writeHead(status)`).
  return (this[WRITE_HEAD] as ServerResponse['writeHead']).apply(this, arguments as never);
}

/** Adds `head` to the head `writeHead(status, [reason], [fields])` is about to write. */
function addHead(response: ServerResponse, { vary, headers }: CorsHead, args: IArguments): void {
  // Fastify hands its headers to `writeHead` as an object (lower-case names); Node then gives them precedence over
  // `setHeader`. Adding ours to that object, not with `setHeader`, also keeps Node's faster path for it.
  const last: unknown = args[args.length - 1];
  const object = typeof last === 'object' && last !== null && !Array.isArray(last) ? (last as Record<string, unknown>) : undefined;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i];
    if (response.hasHeader(name)) continue;
    if (object === undefined) response.setHeader(name, value);
    else object[name] ??= value;
  }
  if (vary !== undefined) {
    const key = object !== undefined && 'Vary' in object ? 'Vary' : 'vary';
    const existing = object?.[key] ?? response.getHeader('vary');
    const merged = existing === undefined ? vary.value : mergeVary(existing, vary.tokens);
    if (merged !== undefined) {
      if (object === undefined) response.setHeader('Vary', merged);
      else object[key] = merged;
    }
  }
}
