import type { INestApplication } from '@nestjs/common';
import { readBaseline, writeBaseline } from './baseline/baseline-on-disk.js';
import { checkBaseline } from './baseline/compare-baseline.js';
import { CorsAudit } from './cors-audit.service.js';

/** The environment variable that makes `expectCorsBaseline()` write the file instead of checking it. */
export const UPDATE_CORS_BASELINE = 'UPDATE_CORS_BASELINE';

export interface CorsBaselineOptions {
  /** Write the file from the app instead of checking it. Default: `UPDATE_CORS_BASELINE=1` in the environment. */
  update?: boolean;
  /**
   * Fail where the file does not exist instead of writing it, as Jest's `--ci` does for snapshots: a baseline that a
   * CI run writes itself checks nothing. Default: the `CI` environment variable is set (and not `false`).
   */
  ci?: boolean;
}

/**
 * Fails with the printed difference when the app's CORS policy is wider than the committed baseline `file` (an origin,
 * a method or a header more, credentials on, enforcement loosened, a new route wider than the global policy). What
 * narrows the policy passes, and is printed as a warning so that the file gets updated. Call it after `app.init()`.
 */
export function expectCorsBaseline(
  app: Pick<INestApplication, 'get'>,
  file: string,
  {
    update = process.env[UPDATE_CORS_BASELINE] === '1',
    ci = process.env.CI !== undefined && process.env.CI !== 'false',
  }: CorsBaselineOptions = {},
): void {
  const audit = app.get(CorsAudit);
  const text = readBaseline(file);
  if (update || (text === undefined && !ci)) return writeBaseline(file, audit.baseline());
  if (text === undefined) {
    throw new Error(`No CORS baseline at ${file}: write it with ${UPDATE_CORS_BASELINE}=1 outside CI and commit it`);
  }
  const { widened, report } = checkBaseline(text, file, audit.routes(), `${UPDATE_CORS_BASELINE}=1`);
  if (widened) throw new Error(report);
  if (report !== '') console.warn(report);
}
