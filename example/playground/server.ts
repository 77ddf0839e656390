import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { CorsAudit } from '../../src/index.js';
import { AppModule } from '../app.module.js';
import { DecisionLog } from './decisions.js';
import { playgroundPage } from './page.js';

export interface RunningPlayground {
  apiUrl: string;
  playgroundUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the example API and, on a second port (so on another origin), the playground page with the API's
 * decisions. Port 0 picks free ports.
 */
export async function startPlayground(apiPort: number, playgroundPort: number): Promise<RunningPlayground> {
  const decisions = new DecisionLog();
  let apiUrl = '';
  let audit = '';
  const pageServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://playground');
    if (url.pathname === '/audit') {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(audit);
      return;
    }
    if (url.pathname === '/decisions') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ lastId: decisions.lastId, decisions: decisions.since(Number(url.searchParams.get('since') ?? 0)) }));
      return;
    }
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(playgroundPage(apiUrl));
  });
  await new Promise<void>((resolve) => pageServer.listen(playgroundPort, resolve));
  const playgroundUrl = `http://localhost:${(pageServer.address() as AddressInfo).port}`;

  // The playground's own origin is allowed by the global policy, so the app's own front end can be tried out.
  process.env.CORS_ORIGINS ??= `${playgroundUrl},https://app.example.com`;
  const app = await NestFactory.create(AppModule, { logger: decisions.logger });
  decisions.attach(app.getHttpServer());
  await app.listen(apiPort);
  audit = app.get(CorsAudit).table();
  apiUrl = `http://localhost:${(app.getHttpServer().address() as AddressInfo).port}`;
  return {
    apiUrl,
    playgroundUrl,
    close: async () => {
      await app.close();
      await new Promise((resolve) => pageServer.close(resolve));
    },
  };
}
