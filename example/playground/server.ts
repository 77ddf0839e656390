import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import { CorsAudit } from '../../src/index.js';
import { chatConnections } from '../app.gateway.js';
import { AppModule } from '../app.module.js';
import { DecisionLog, markHandlerRan } from './decisions.js';
import { guestbookFramePage, playgroundPage, webSocketFramePage } from './page.js';

export interface RunningPlayground {
  apiUrl: string;
  playgroundUrl: string;
  /** The global policy's origins: the playground's own, then those of `CORS_ORIGINS` (else the app's front ends). */
  origins: string[];
  close(): Promise<void>;
}

export interface PlaygroundOptions {
  /**
   * What the API's logger prints; by default Nest's usual lines (module init, route mapping), warnings and errors.
   * The `Cors` decisions are recorded for the page whatever the levels.
   */
  logLevels?: LogLevel[];
}

/**
 * Starts the example API and, on a second port (so on another origin), the playground page with the API's
 * decisions. Port 0 picks free ports.
 */
export async function startPlayground(
  apiPort: number,
  playgroundPort: number,
  options: PlaygroundOptions = {},
): Promise<RunningPlayground> {
  const decisions = new DecisionLog(options.logLevels);
  let apiUrl = '';
  let audit = '';
  const pageServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://playground');
    if (url.pathname === '/audit') {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(audit);
      return;
    }
    if (url.pathname === '/websockets') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ connections: chatConnections, refusals: decisions.handshakes }));
      return;
    }
    if (url.pathname === '/decisions') {
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({
          lastId: decisions.lastId,
          decisions: decisions.since(Number(url.searchParams.get('since') ?? 0)),
        }),
      );
      return;
    }
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    // The page that opens the chat WebSocket from another origin: the playground loads it under 127.0.0.1 in a frame.
    if (url.pathname === '/websocket-frame') return void res.end(webSocketFramePage(apiUrl));
    // The page that reads or signs the guestbook from another origin, likewise.
    if (url.pathname === '/guestbook-frame') return void res.end(guestbookFramePage(apiUrl));
    res.end(playgroundPage(apiUrl));
  });
  await new Promise<void>((resolve) => pageServer.listen(playgroundPort, resolve));
  const playgroundUrl = `http://localhost:${(pageServer.address() as AddressInfo).port}`;

  // The playground's own origin is allowed by the global policy, with those of CORS_ORIGINS, so that the app's own
  // front end can be tried out from the page whatever CORS_ORIGINS says.
  const app = await NestFactory.create(AppModule.register({ alsoAllow: [playgroundUrl] }), {
    logger: decisions.logger,
  });
  app.useGlobalInterceptors(decisions.handlerRuns);
  // The chat gateway (app.gateway.ts) on the app's own server, where nestjs-cors decides its handshakes.
  app.useWebSocketAdapter(new WsAdapter(app));
  // A path no controller serves: its policy is the `paths` entry of app.module.ts.
  app.use('/health', (req: IncomingMessage, res: ServerResponse) => {
    markHandlerRan(req);
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ status: 'ok' }));
  });
  await app.init();
  // Once initialised, the server's listener is nestjs-cors's front door: the recorder goes ahead of it.
  decisions.attach(app.getHttpServer());
  await app.listen(apiPort);
  const corsAudit = app.get(CorsAudit);
  decisions.useAudit(corsAudit);
  audit = corsAudit.table();
  apiUrl = `http://localhost:${(app.getHttpServer().address() as AddressInfo).port}`;
  return {
    apiUrl,
    playgroundUrl,
    // As the audit reports the global policy: its entry for the paths no route serves.
    origins: corsAudit.routes().find((route) => route.handler === '(no route)')!.origin,
    close: async () => {
      await app.close();
      await new Promise((resolve) => pageServer.close(resolve));
    },
  };
}

/** What `npm start` prints: where things are, and curl lines for an accepted and a rejected preflight. */
export function banner({ apiUrl, playgroundUrl, origins }: RunningPlayground): string {
  return `
nestjs-cors example API on ${apiUrl}
CORS playground on      ${playgroundUrl}   (open it in a browser)
Global policy origins:  ${origins.join(', ')}

An accepted preflight (204 with Access-Control-Allow-* headers), from the playground's origin:
  curl -i -X OPTIONS ${apiUrl}/users -H 'Origin: ${playgroundUrl}' -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: authorization'

A rejected preflight (403 "CORS preflight rejected: origin not allowed"):
  curl -i -X OPTIONS ${apiUrl}/users -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST'

A cross-site form post refused before the handler (403, CSRF protection):
  curl -i -X POST ${apiUrl}/users -H 'Origin: https://evil.example' -d 'a=1'

A cross-site WebSocket handshake to the chat gateway refused before it sees it (403, CSWSH protection):
  curl -i ${apiUrl}/chat -H 'Origin: https://evil.example' -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='
`;
}
