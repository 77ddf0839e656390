import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Next } from './adapter-binding.js';

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Puts `first` ahead of every `request` listener `server` has (the adapter's app or router, engine.io's listener, …),
 * the way engine.io puts itself ahead: they run when `first` passes the request on, and nothing of the app, of an
 * instance handed to the adapter or of its plugins sees a request before it. `failed` answers a request `first`
 * passed on with an error: it never reaches the app.
 */
export function putFirst(
  server: Server,
  first: (request: IncomingMessage, response: ServerResponse, next: Next) => void,
  failed: (response: ServerResponse, error: unknown) => void,
): void {
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    first(request, response, (error) => {
      if (error !== undefined) return failed(response, error);
      for (const listener of listeners) listener.call(server, request, response);
    });
  });
}

/**
 * What decides an upgrade: `true` to hand it to the server's `upgrade` listeners, `false` where it answered the
 * upgrade itself; a promise of either where the decision takes time.
 */
export type UpgradeGate = (request: IncomingMessage, socket: Duplex) => boolean | Promise<boolean>;

/**
 * Puts `gate` ahead of every `upgrade` listener of `server`, those it has and those added later, however added: ws's
 * and engine.io's are added when the gateways initialise, before `putFirst` runs, but others come later (a GraphQL
 * subscription server at `onModuleInit`, `main.ts` after `init()`), and `prependListener` would put one ahead of any
 * listener of ours. So the gate sits where the server emits the event, on this server only: a listener hears of an
 * upgrade once `gate` passes it on. No listener is added, so a server that has none keeps Node's own handling (it
 * then emits `request` for an upgrade, which the front door decides as a request). `failed` answers an upgrade whose
 * decision threw; a listener's own error is the app's, as it is without the gate.
 */
export function gateUpgrades(
  server: Server,
  gate: UpgradeGate,
  failed: (socket: Duplex, error: unknown) => void,
): void {
  const emit = server.emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
  // Every event of the server goes through here: the others are passed on as they came, without copying arguments.
  server.emit = function (this: Server, event: string | symbol, request?: unknown, socket?: unknown, head?: unknown) {
    // eslint-disable-next-line prefer-rest-params -- every event of the server: passed on without building an array
    if (event !== 'upgrade') return Reflect.apply(emit, this, arguments);
    const client = socket as Duplex;
    const passOn = () => emit.call(this, 'upgrade', request, client, head);
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = gate(request as IncomingMessage, client);
    } catch (error) {
      failed(client, error);
      return true;
    }
    if (verdict === true) passOn();
    else if (verdict !== false) {
      const quiet = keepErrorsQuiet(client);
      verdict.then(
        (pass) => {
          quiet();
          if (pass && !client.destroyed) passOn();
        },
        (error: unknown) => failed(client, error),
      );
    }
    return true;
  } as Server['emit'];
}

/**
 * Answers an upgrade on its socket, as nothing but the raw socket exists yet for it, and closes the connection: the
 * head and a `text/plain` body, then the socket destroyed once they are flushed.
 */
export function answerUpgrade(socket: Duplex, status: number, body: string): void {
  keepErrorsQuiet(socket);
  if (!socket.writable) return void socket.destroy();
  const head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  socket.end(head + body, () => socket.destroy());
}

/**
 * Node takes its own `error` listener off an upgrade's socket before it emits the event, so an error (the client
 * resetting the connection) while the socket waits for a decision, or for a refusal to flush, would be thrown.
 */
function keepErrorsQuiet(socket: Duplex): () => void {
  socket.on('error', ignore);
  return () => socket.off('error', ignore);
}

function ignore(): void {}
