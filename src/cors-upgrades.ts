import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import { answerUpgrade, gateUpgrades } from './adapters/node-server.js';
import { CORS_LOGGER_CONTEXT } from './cors.constants.js';
import { CorsRejections } from './cors-rejections.service.js';
import { CorsRoutes } from './cors-routes.service.js';
import type { CorsSnapshot } from './cors-snapshot.js';
import { pathOf } from './node-request.js';
import { OriginChecks } from './origin-checks.service.js';
import type { CorsPolicy } from './policy/cors-policy.js';
import { isCrossOrigin, requestOrigin } from './policy/request-facts.js';
import { UPGRADE } from './routing/route-index.js';
import type { RouteTarget } from './routing/route-index.interface.js';

/** One cross-origin upgrade being decided. */
interface Handshake {
  request: IncomingMessage;
  socket: Duplex;
  snapshot: CorsSnapshot;
  target: RouteTarget;
  policy: CorsPolicy;
  origin: string;
}

/**
 * Decides every upgrade of the app's HTTP server (WebSocket handshakes, to a gateway or anything else listening)
 * before any `upgrade` listener sees it. Browsers apply no CORS to WebSockets: any page can open one to the server
 * with the user's cookies, and its `Origin` is the only defence against cross-site WebSocket hijacking. So a
 * cross-origin `Origin` that the policy of the upgrade's path does not allow gets 403 on the socket, which is then
 * closed; same-origin and `Origin`-less upgrades pass. Only the origin is checked, against `origin` (a handshake is a
 * GET, which no page can read): whatever `enforce` says, and whatever the methods. `reportOnly` lets a disallowed one through,
 * reported, as it does requests.
 */
@Injectable()
export class CorsUpgrades {
  private readonly logger = new Logger(CORS_LOGGER_CONTEXT);

  constructor(
    private readonly routes: CorsRoutes,
    private readonly origins: OriginChecks,
    private readonly rejections: CorsRejections,
  ) {}

  /** Puts the decision ahead of every `upgrade` listener `server` has or will have. */
  bindServer(server: Server): void {
    gateUpgrades(server, this.decide, this.failed);
  }

  /** Whether the upgrade goes on to the server's `upgrade` listeners; where it does not, it was answered. */
  private readonly decide = (request: IncomingMessage, socket: Duplex): boolean | Promise<boolean> => {
    const { headers } = request;
    const origin = requestOrigin(headers);
    if (origin === undefined || !isCrossOrigin(origin, request, this.routes.hostOf)) return true;
    const snapshot = this.routes.current;
    const target = snapshot.forUpgrade(request);
    const [policy] = target.candidates.policies;
    const allowed = this.origins.isAllowed(policy.origins, origin, request);
    const handshake: Handshake = { request, socket, snapshot, target, policy, origin };
    return typeof allowed === 'boolean'
      ? this.settle(handshake, allowed)
      : allowed.then((answer) => this.settle(handshake, answer));
  };

  /** Only a failure of the decision itself gets here, before any listener has the upgrade: it is not let in. */
  private readonly failed = (socket: Duplex, error: unknown): void => {
    this.logger.error(
      'CORS decision of an upgrade failed; answered 500',
      error instanceof Error ? error.stack : String(error),
    );
    answerUpgrade(socket, 500, 'Internal Server Error');
  };

  private settle({ request, socket, snapshot, target, policy, origin }: Handshake, allowed: boolean): boolean {
    if (allowed) return true;
    const reason = 'origin not allowed';
    const outcome = policy.reportOnly ? 'reported' : 'refused';
    const handler = snapshot.handlerOf(target, UPGRADE, request);
    this.rejections.report({
      kind: 'upgrade',
      reason,
      outcome,
      origin,
      method: request.method ?? 'GET',
      path: pathOf(request.url),
      handler,
    });
    if (outcome === 'reported') return true;
    answerUpgrade(socket, 403, this.rejections.upgradeAnswer(reason));
    return false;
  }
}
