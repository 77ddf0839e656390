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

type CorsResponse = ServerResponse & {
  [HEAD]?: CorsHead;
  [WRITE_HEAD]?: ServerResponse['writeHead'];
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
    target[WRITE_HEAD] = target.writeHead;
    target.writeHead = writeHeadWithCors;
  }
  target[HEAD] = head;
}

/** The head `writeOnHead` put on the response, if any. */
export function headOf(response: ServerResponse): CorsHead | undefined {
  return (response as CorsResponse)[HEAD];
}

function writeHeadWithCors(this: CorsResponse, ...args: unknown[]): ServerResponse {
  const { vary, headers } = this[HEAD] as CorsHead;
  // Fastify hands its headers to `writeHead` as an object (lower-case names); Node then gives them precedence over
  // `setHeader`. Adding ours to that object, not with `setHeader`, also keeps Node's faster path for it.
  const last = args[args.length - 1];
  const fields = typeof last === 'object' && last !== null && !Array.isArray(last) ? (last as Record<string, unknown>) : undefined;
  for (const [name, value] of headers) {
    if (this.hasHeader(name)) continue;
    if (fields === undefined) this.setHeader(name, value);
    else fields[name.toLowerCase()] ??= value;
  }
  if (vary !== undefined) {
    const key = fields !== undefined && 'Vary' in fields ? 'Vary' : 'vary';
    const existing = fields?.[key] ?? this.getHeader('vary');
    const merged = existing === undefined ? vary.value : mergeVary(existing, vary.tokens);
    if (merged !== undefined) {
      if (fields === undefined) this.setHeader('Vary', merged);
      else fields[key] = merged;
    }
  }
  return (this[WRITE_HEAD] as ServerResponse['writeHead']).apply(this, args as never);
}
