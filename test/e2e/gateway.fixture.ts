import type { INestApplication } from '@nestjs/common';
import { MessageBody, type OnGatewayConnection, SubscribeMessage } from '@nestjs/websockets';
import { WsAdapter } from '@nestjs/platform-ws';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { handled, recordHandled } from './app.fixture.js';

/** The two gateway adapters of Nest: `ws` (`@nestjs/platform-ws`) and socket.io (`@nestjs/platform-socket.io`, the default). */
export const TRANSPORTS = [
  { transport: 'ws' as const, configure: (app: INestApplication) => app.useWebSocketAdapter(new WsAdapter(app)) },
  { transport: 'socket.io' as const, configure: (_app: INestApplication) => undefined },
];
export type TransportCase = (typeof TRANSPORTS)[number];

/**
 * A gateway that records its connections and answers `echo` with the message it got. Subclasses add
 * `@WebSocketGateway()` (and `@Cors()`); what they record is named after the subclass.
 */
export class EchoGateway implements OnGatewayConnection {
  handleConnection(): void {
    handled.push(`${this.constructor.name}.connection`);
  }
  @SubscribeMessage('echo') echo(@MessageBody() data: unknown) {
    return recordHandled(`${this.constructor.name}.echo`, { event: 'echo', data });
  }
}

/** Where the app listens, as a client addresses it: `127.0.0.1:<port>`. */
export async function listening(app: INestApplication): Promise<string> {
  const server = app.getHttpServer();
  if (!server.listening) await app.listen(0, '127.0.0.1');
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** How a WebSocket handshake ended: open (and the socket, to talk on), or refused with the server's answer. */
export type Handshake = { open: WebSocket } | { status: number; body: string } | { error: string };

/** Opens a WebSocket (the `ws` client) to `url`, sending `headers` (an `Origin`, or none). */
export function openWebSocket(url: string, headers: Record<string, string> = {}): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => resolve({ open: socket }));
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    socket.once('error', (error) => resolve({ error: error.message }));
  });
}

/** Sends `echo` on an open `ws` socket and waits for the gateway's answer. */
export function wsEcho(socket: WebSocket, data: string): Promise<unknown> {
  return new Promise((resolve) => {
    socket.once('message', (message) => resolve(JSON.parse(String(message))));
    socket.send(JSON.stringify({ event: 'echo', data }));
  });
}

/** Connects a socket.io client over the `websocket` transport only; resolves with the socket, or the connect error. */
export function connectSocketIo(
  host: string,
  path: string | undefined,
  headers: Record<string, string> = {},
): Promise<Socket | Error> {
  return new Promise((resolve) => {
    const socket = io(`http://${host}`, {
      path,
      transports: ['websocket'],
      extraHeaders: headers,
      reconnection: false,
      forceNew: true,
      timeout: 5_000,
    });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      resolve(error);
    });
  });
}

/** Emits `echo` on a connected socket.io client and waits for the gateway's answer. */
export function socketIoEcho(socket: Socket, data: string): Promise<unknown> {
  return new Promise((resolve) => {
    socket.once('echo', (answer: unknown) => resolve({ event: 'echo', data: answer }));
    socket.emit('echo', data);
  });
}

/** The URL of socket.io's `websocket` transport under `path` (engine.io protocol 4), as its client opens it. */
export function socketIoWebSocketUrl(host: string, path = '/socket.io'): string {
  return `ws://${host}${path}/?EIO=4&transport=websocket`;
}
