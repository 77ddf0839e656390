import { ForbiddenException, Inject, Injectable, Logger, type LoggerService, type LogLevel } from '@nestjs/common';
import { CORS_LOGGER_CONTEXT } from './cors.constants.js';
import { CORS_MODULE_OPTIONS, CORS_OPTIONS } from './cors.module-definition.js';
import type { CorsModuleOptions, CorsRejection } from './cors-options.interface.js';
import type { PreflightRejection } from './policy/cors-policy.js';

/** How each outcome reads, in a log line and in the body of the answer. */
const MESSAGES: Record<CorsRejection['outcome'], string> = {
  rejected: 'CORS preflight rejected',
  refused: 'CORS request rejected',
  reported: 'CORS request would be rejected (reportOnly)',
  withheld: 'CORS headers withheld',
};

/**
 * Everything about a rejection in one place: the words a rejected preflight or a refused request is answered with,
 * the log line (at `warn` for a report-only one, which is what the team is watching for; else at `debug`), and the
 * app's `onRejection` hook.
 */
@Injectable()
export class CorsRejections {
  private readonly logger = new Logger(CORS_LOGGER_CONTEXT);
  private onRejection: CorsModuleOptions['onRejection'];
  /** The hook of a test that replaced `CORS_OPTIONS`: it stays whatever the app is configured with. */
  private readonly replacedHook: CorsModuleOptions['onRejection'];

  /** A test that replaces `CORS_OPTIONS` without an `onRejection` keeps the app's (see `CORS_OPTIONS`). */
  constructor(
    @Inject(CORS_OPTIONS) options: CorsModuleOptions | undefined,
    @Inject(CORS_MODULE_OPTIONS) configured: CorsModuleOptions | undefined,
  ) {
    this.replacedHook = options === configured ? undefined : options?.onRejection;
    this.onRejection = this.replacedHook ?? configured?.onRejection;
  }

  /** The hook of a new configuration (`reconfigure()`), where it has one; else the one in place stays. */
  reconfigure(onRejection: CorsModuleOptions['onRejection']): void {
    if (onRejection !== undefined) this.onRejection = this.replacedHook ?? onRejection;
  }

  /** The body of a rejected preflight's 403: the reason, never the policy. */
  preflightAnswer(reason: PreflightRejection): string {
    return `${MESSAGES.rejected}: ${reason}`;
  }

  /** The body of a refused upgrade's 403, written on its socket: no exception filter answers an upgrade. */
  upgradeAnswer(reason: PreflightRejection): string {
    return `${MESSAGES.refused}: ${reason}`;
  }

  /** The exception a refused actual request is answered with, by the app's exception filters. */
  refusal(reason: PreflightRejection): ForbiddenException {
    return new ForbiddenException(`${MESSAGES.refused}: ${reason}`);
  }

  /** Logs `rejection` and hands it to `onRejection` once the response is on its way; it never affects the response. */
  report(rejection: CorsRejection): void {
    const level = rejection.outcome === 'reported' ? 'warn' : 'debug';
    if (this.prints(level)) {
      const where = `${JSON.stringify(rejection.origin)} ${rejection.method} ${rejection.path}${rejection.handler ? `, ${rejection.handler}` : ''}`;
      this.logger[level](`${MESSAGES[rejection.outcome]}: ${rejection.reason} (${where})`);
    }
    const hook = this.onRejection;
    if (hook === undefined) return;
    const fail = (error: unknown) =>
      this.logger.error(
        'onRejection failed; the response was not affected',
        error instanceof Error ? error.stack : String(error),
      );
    setImmediate(() => {
      try {
        Promise.resolve(hook(rejection)).catch(fail);
      } catch (error) {
        fail(error);
      }
    });
  }

  /**
   * Whether the app's logger prints `Cors` lines at `level`: hostile traffic is all rejections, so no line is built
   * that no logger prints. Asked of the logger itself (`logger: false` leaves none; a `ConsoleLogger` knows its
   * levels; any other logger is assumed to print), as `Logger.isLevelEnabled` says "no" on NestJS 11 for a custom
   * logger given no levels.
   */
  private prints(level: LogLevel): boolean {
    const logger = this.logger.localInstance as
      (LoggerService & { isLevelEnabled?(level: LogLevel): boolean }) | undefined;
    return logger !== undefined && (logger.isLevelEnabled?.(level) ?? true);
  }
}
