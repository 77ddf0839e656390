import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ConsoleLogger } from '@nestjs/common';

/** What the API decided for one request, as the playground shows it. */
export interface Decision {
  id: number;
  method: string;
  path: string;
  origin?: string;
  /** For a preflight: the method and headers it announced. */
  requestMethod?: string;
  requestHeaders?: string;
  status?: number;
  /** The Access-Control-* and Vary headers of the answer. */
  headers: Record<string, string>;
  /** The module's own debug lines for this request (context `Cors`): why it was refused or left without headers. */
  reasons: string[];
}

/**
 * Records every request the API answers with the reasons nestjs-cors logged for it. The log lines are tied to their
 * request through AsyncLocalStorage, so the playground shows the module's real decisions, not a re-computation.
 */
export class DecisionLog {
  private readonly decisions: Decision[] = [];
  private readonly current = new AsyncLocalStorage<Decision>();
  private nextId = 1;

  /**
   * Wraps the API server's request listener, so every request is recorded before the app, and nestjs-cors first in
   * it, sees it: nestjs-cors answers preflights before any app middleware runs.
   */
  attach(server: Server): void {
    const listeners = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) =>
      this.record(req, res, () => listeners.forEach((listener) => listener(req, res))),
    );
  }

  private record(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const header = (name: string) => req.headers[name] as string | undefined;
    const decision: Decision = {
      id: this.nextId++,
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0],
      origin: header('origin'),
      requestMethod: header('access-control-request-method'),
      requestHeaders: header('access-control-request-headers'),
      headers: {},
      reasons: [],
    };
    this.decisions.push(decision);
    if (this.decisions.length > 200) this.decisions.shift();
    res.on('finish', () => {
      decision.status = res.statusCode;
      for (const [name, value] of Object.entries(res.getHeaders())) {
        if (name.startsWith('access-control-') || name === 'vary') decision.headers[name] = String(value);
      }
    });
    this.current.run(decision, next);
  }

  /** Prints as Nest does and keeps each `Cors` debug line with its request. */
  readonly logger = new DecisionLogger((message) => this.current.getStore()?.reasons.push(message));

  since(id: number): Decision[] {
    return this.decisions.filter((decision) => decision.id > id && decision.status !== undefined);
  }

  get lastId(): number {
    return this.nextId - 1;
  }
}

/** Nest's console logger without its debug output; the `Cors` debug lines go to `onCorsDebug` instead. */
class DecisionLogger extends ConsoleLogger {
  constructor(private readonly onCorsDebug: (message: string) => void) {
    super('', { logLevels: ['log', 'warn', 'error', 'fatal'] });
  }

  override debug(message: unknown, context?: string): void {
    if (context === 'Cors') this.onCorsDebug(String(message));
  }
}
