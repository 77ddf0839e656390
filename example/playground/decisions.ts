import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  type CallHandler,
  ConsoleLogger,
  type ExecutionContext,
  type LogLevel,
  type NestInterceptor,
} from '@nestjs/common';
import type { CorsAudit, CorsRouteAudit } from '../../src/index.js';

/** What the API decided for one request, as the playground shows it. */
export interface Decision {
  id: number;
  method: string;
  path: string;
  origin?: string;
  /** A preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`. */
  preflight: boolean;
  /** For a preflight: the method and headers it announced. */
  requestMethod?: string;
  requestHeaders?: string;
  status?: number;
  /** The Access-Control-* and Vary headers of the answer. */
  headers: Record<string, string>;
  /**
   * The one refusal nestjs-cors logged for this request (context `Cors`), without its `(origin method path, handler)`
   * tail: `CORS preflight rejected: origin not allowed`. None where it allowed the request, or had nothing to decide.
   */
  reason?: string;
  /** The request's other `Cors` log lines (an origin function that timed out, ...), whole. */
  notes: string[];
  /** The route whose policy decided, from `CorsAudit.routeFor` (so found as nestjs-cors's front door finds it). */
  route?: CorsRouteAudit;
  /** The policy the deciding field came from: `named policy 'partner'`, `the global policy (forRootAsync)`, ... */
  policy?: string;
  /** The field of that policy that decided: `origin`, `writeOrigin`, `methods` or `allowedHeaders`. */
  field?: DecidingField;
  /** Whether the route's handler ran: a controller method, or the `app.use()` handler of a `paths` entry. */
  handlerRan: boolean;
}

type DecidingField = 'origin' | 'writeOrigin' | 'methods' | 'allowedHeaders';
const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

/** A refusal as `CorsRejections.report` logs it: `<outcome>: <reason> (<origin> <method> <path>[, <handler>])`. */
const REFUSAL =
  /^(CORS preflight rejected|CORS request rejected|CORS headers withheld|CORS request would be rejected \(reportOnly\)): (origin|method|header) not allowed \(/;
const FIELD_OF: Record<string, DecidingField> = { origin: 'origin', method: 'methods', header: 'allowedHeaders' };

/** The decision of the request being handled: the logger reads it, for the `Cors` lines of each request. */
const current = new AsyncLocalStorage<Decision>();
/** The decision of each request, for what runs where the async context may be another one (after body parsing). */
const byRequest = new WeakMap<IncomingMessage, Decision>();

/** Records that the handler of `request` ran (for a handler that is not a controller method, e.g. one added with `app.use()`). */
export function markHandlerRan(request: IncomingMessage): void {
  const decision = byRequest.get(request);
  if (decision !== undefined) decision.handlerRan = true;
}

/**
 * Records every request the API answers with the reasons nestjs-cors logged for it. The log lines are tied to their
 * request through AsyncLocalStorage, so the playground shows the module's real decisions, not a re-computation; the
 * route and its policy come from `CorsAudit.routeFor`, the same route table nestjs-cors decides with.
 */
export class DecisionLog {
  private readonly decisions: Decision[] = [];
  private nextId = 1;
  private audit: CorsAudit | undefined;
  /**
   * The `Cors` lines logged outside any request: refused WebSocket handshakes, which the server's `upgrade` event
   * carries, not its `request` event. Numbered, newest last.
   */
  readonly handshakes: Array<{ id: number; line: string }> = [];

  /**
   * @param logLevels what the app's logger prints (Nest's module and route mapping lines are `log`); the `Cors`
   *   lines are recorded whatever the levels
   */
  constructor(logLevels: LogLevel[] = ['log', 'warn', 'error', 'fatal']) {
    let nextHandshake = 1;
    this.logger = new DecisionLogger(logLevels, (line) => {
      this.handshakes.push({ id: nextHandshake++, line });
      if (this.handshakes.length > 50) this.handshakes.shift();
    });
  }

  /** Prints as Nest does and keeps each `Cors` debug line with its request. */
  readonly logger: ConsoleLogger;

  /**
   * Wraps the API server's request listener once the app is initialised, so every request is recorded before
   * nestjs-cors's front door, which is then that listener, sees it: it answers preflights before the app runs.
   */
  attach(server: Server): void {
    const listeners = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) =>
      this.record(req, res, () => listeners.forEach((listener) => listener(req, res))),
    );
  }

  /** Where the route of each request comes from, once the app is initialised. */
  useAudit(audit: CorsAudit): void {
    this.audit = audit;
  }

  /** A global interceptor that records that the controller method ran: the example has no pipes, so it runs next. */
  readonly handlerRuns: NestInterceptor = {
    intercept(context: ExecutionContext, next: CallHandler) {
      const request = context.switchToHttp().getRequest<IncomingMessage & { raw?: IncomingMessage }>();
      markHandlerRan(request.raw ?? request);
      return next.handle();
    },
  };

  private record(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const header = (name: string) => req.headers[name] as string | undefined;
    // As it arrived: a router the app mounts with app.use() rewrites req.url while it handles the request.
    const target = req.url ?? '/';
    const decision: Decision = {
      id: this.nextId++,
      method: req.method ?? '',
      path: target.split('?')[0],
      origin: header('origin'),
      preflight:
        req.method === 'OPTIONS' &&
        header('origin') !== undefined &&
        header('access-control-request-method') !== undefined,
      requestMethod: header('access-control-request-method'),
      requestHeaders: header('access-control-request-headers'),
      headers: {},
      notes: [],
      handlerRan: false,
    };
    this.decisions.push(decision);
    if (this.decisions.length > 200) this.decisions.shift();
    byRequest.set(req, decision);
    // Headers given to writeHead as an object (how nestjs-cors answers a preflight) are written without being set on
    // the response, so getHeaders() does not show them: they are read on their way out.
    let given: Record<string, unknown> = {};
    const writeHead = res.writeHead;
    res.writeHead = function writeHeadSeen(this: ServerResponse, ...args: unknown[]) {
      const fields = args.find((arg, i) => i > 0 && typeof arg === 'object' && arg !== null && !Array.isArray(arg));
      if (fields !== undefined) given = fields as Record<string, unknown>;
      return (writeHead as (...args: unknown[]) => ServerResponse).apply(this, args);
    } as ServerResponse['writeHead'];
    res.on('finish', () => {
      const written = {
        ...res.getHeaders(),
        ...Object.fromEntries(Object.entries(given).map(([name, value]) => [name.toLowerCase(), value])),
      };
      for (const [name, value] of Object.entries(written)) {
        if (name.startsWith('access-control-') || name === 'vary') decision.headers[name] = String(value);
      }
      this.settle(decision, target, header('host'));
      decision.status = res.statusCode;
    });
    current.run(decision, next);
  }

  /** The route and the policy that decided, from the audit, and the refusal among the request's `Cors` lines. */
  private settle(decision: Decision, target: string, host: string | undefined): void {
    // The last refusal is the decision (there is one); anything else logged for the request is a note.
    let refusal = decision.notes.length - 1;
    while (refusal >= 0 && !REFUSAL.test(decision.notes[refusal])) refusal--;
    if (refusal >= 0) {
      const [, outcome, subject] = REFUSAL.exec(decision.notes[refusal]) as RegExpExecArray;
      decision.reason = `${outcome}: ${subject} not allowed`;
      decision.field = FIELD_OF[subject];
      decision.notes.splice(refusal, 1);
    } else if (decision.origin !== undefined) {
      decision.field = 'origin';
    }
    if (this.audit === undefined) return;
    const method = decision.preflight ? (decision.requestMethod as string) : decision.method;
    decision.route = this.audit.routeFor(method, target, host);
    // A write is decided by writeOrigin; named as such where it is not simply origin's list.
    const { origin, writeOrigin } = decision.route;
    if (decision.field === 'origin' && !SAFE_METHODS.includes(method) && writeOrigin.join() !== origin.join())
      decision.field = 'writeOrigin';
    if (decision.field !== undefined)
      decision.policy = policyLevel(decision.route.from[decision.field], decision.route);
  }

  since(id: number): Decision[] {
    return this.decisions.filter((decision) => decision.id > id && decision.status !== undefined);
  }

  get lastId(): number {
    return this.nextId - 1;
  }
}

/** The level a field came from (an audit's `from`), in the words of the docs. */
export function policyLevel(source: string, route: CorsRouteAudit): string {
  if (source === 'default') return 'the defaults (no policy sets it)';
  if (source === route.handler) return `route-level @Cors on ${source}`;
  if (route.handler.startsWith(`${source}.`)) return `controller-level @Cors on ${source}`;
  if (source.startsWith('policy ')) return `named ${source}`;
  if (/ paths\[\d+\]/.test(source)) return `paths entry ${source}`;
  return `the global policy (${source})`;
}

/**
 * Nest's console logger at the given levels; the `Cors` debug lines, and its warnings (report-only refusals), are
 * kept with their request (the warnings are printed too, where the levels print warnings).
 */
class DecisionLogger extends ConsoleLogger {
  constructor(
    logLevels: LogLevel[],
    private readonly outsideRequests: (line: string) => void,
  ) {
    super('', { logLevels });
  }

  /**
   * nestjs-cors builds a rejection's line only where the logger takes it (`Logger.isLevelEnabled`), so debug and warn
   * are on whatever the levels: debug lines are kept, never printed, and warnings printed only at the given levels.
   */
  override isLevelEnabled(level: LogLevel): boolean {
    return level === 'debug' || level === 'warn' || super.isLevelEnabled(level);
  }

  // Nest's Logger passes the context last, after any other parameters.
  override debug(message: unknown, ...rest: unknown[]): void {
    if (rest.at(-1) === 'Cors') this.keep(String(message));
  }

  override warn(message: unknown, ...rest: unknown[]): void {
    if (rest.at(-1) === 'Cors') this.keep(String(message));
    if (super.isLevelEnabled('warn')) super.warn(message, ...rest);
  }

  private keep(line: string): void {
    const decision = current.getStore();
    if (decision !== undefined) decision.notes.push(line);
    else if (REFUSAL.test(line)) this.outsideRequests(line);
  }
}
