import type { INestApplication, Type } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { ModulesContainer, NestFactory } from '@nestjs/core';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { readBaseline, writeBaseline } from '../baseline/baseline-on-disk.js';
import { checkBaseline } from '../baseline/compare-baseline.js';
import { CorsAudit } from '../cors-audit.service.js';

export const USAGE = `usage: nestjs-cors audit --module <compiled module.js>[#ExportName] [--configure <file.js>[#exportName]]
                         [--adapter express|fastify] (--check <baseline.jsonl> | --write <baseline.jsonl>)`;

/** Exit codes: the policy is within the baseline (or was written), it is wider, or the command could not tell. */
export const EXIT = { ok: 0, widened: 1, error: 2 } as const;

/** A mistake in the command line or in what it names: exit 2, with the usage. */
export class UsageError extends Error {}

const ADAPTERS: Record<string, { packageName: string; exportName: string }> = {
  express: { packageName: '@nestjs/platform-express', exportName: 'ExpressAdapter' },
  fastify: { packageName: '@nestjs/platform-fastify', exportName: 'FastifyAdapter' },
};

type Load = (specifier: string) => Promise<Record<string, unknown>>;
const importModule: Load = (specifier) => import(specifier);

/** What a run writes: the report goes to `out` when the check passes, to `err` when it fails. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** Runs `nestjs-cors audit ...` and gives its exit code. */
export async function runAudit(argv: string[], output: Output): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    output.err(`${(error as Error).message}\n${USAGE}`);
    return EXIT.error;
  }
  let app: INestApplication | undefined;
  try {
    const [module, configure, adapter] = await Promise.all([
      loadExport<Type>(command.module, ['default', 'AppModule']),
      command.configure === undefined
        ? undefined
        : loadExport<(app: INestApplication) => unknown>(command.configure, ['default', 'configure']),
      command.adapter === undefined ? undefined : loadAdapter(command.adapter),
    ]);
    const options = { logger: ['error', 'warn'] as ('error' | 'warn')[], abortOnError: false };
    app = adapter ? await NestFactory.create(module, adapter, options) : await NestFactory.create(module, options);
    await configure?.(app);
    await app.init();
    const audit = auditOf(app, command.module);
    const { mode, file } = command;
    if (mode === 'write') {
      writeBaseline(file, audit.baseline());
      output.out(`Wrote the CORS policy of ${audit.routes().length} entries to ${file}`);
      return EXIT.ok;
    }
    const text = readBaseline(file);
    if (text === undefined) throw new UsageError(`No CORS baseline at ${file}: write one with --write`);
    const { widened, report } = checkBaseline(text, file, audit.routes(), `nestjs-cors audit ... --write ${file}`);
    if (widened) {
      output.err(report);
      return EXIT.widened;
    }
    output.out(report || `The CORS policy is the one of ${file}`);
    return EXIT.ok;
  } catch (error) {
    output.err(error instanceof UsageError ? `${error.message}\n${USAGE}` : `nestjs-cors audit: ${String(error)}`);
    return EXIT.error;
  } finally {
    await app?.close();
  }
}

interface Command {
  module: string;
  configure?: string;
  adapter?: string;
  /** `--check <file>` or `--write <file>`. */
  mode: 'check' | 'write';
  file: string;
}

function parseCommand(argv: string[]): Command {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      module: { type: 'string' },
      configure: { type: 'string' },
      adapter: { type: 'string' },
      check: { type: 'string' },
      write: { type: 'string' },
    },
  });
  if (positionals.length !== 1 || positionals[0] !== 'audit') throw new UsageError('The one command is audit');
  if (values.module === undefined) throw new UsageError('--module is required');
  if (values.adapter !== undefined && !(values.adapter in ADAPTERS)) {
    throw new UsageError(`--adapter is express or fastify, not ${values.adapter}`);
  }
  const { module, configure, adapter, check, write } = values;
  if ((check === undefined) === (write === undefined)) throw new UsageError('Give one of --check and --write');
  return {
    module,
    configure,
    adapter,
    ...(check === undefined ? { mode: 'write', file: write! } : { mode: 'check', file: check }),
  };
}

/** `dist/app.module.js#AppModule`: the export named after `#`, else the first of `names` the file exports. */
async function loadExport<T>(spec: string, names: string[]): Promise<T> {
  const [file, name] = spec.split('#');
  if (!existsSync(file)) throw new UsageError(`No file ${file}: name the compiled module, such as dist/app.module.js`);
  const exports = await importModule(pathToFileURL(resolve(file)).href);
  const found = (name ? [name] : names).map((key) => exports[key]).find((value) => typeof value === 'function');
  if (found === undefined) {
    const wanted = name ?? names.join(' or ');
    throw new UsageError(
      `${file} exports no function ${wanted} (it exports ${Object.keys(exports).join(', ') || 'nothing'}): name one after #`,
    );
  }
  return found as T;
}

/** The adapter's package is the app's to install (`@nestjs/platform-fastify` is not a dependency of nestjs-cors). */
export async function loadAdapter(name: string, load: Load = importModule): Promise<AbstractHttpAdapter> {
  const { packageName, exportName } = ADAPTERS[name];
  let exports: Record<string, unknown>;
  try {
    exports = await load(packageName);
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new UsageError(`--adapter ${name} needs ${packageName}, which is not installed: npm install ${packageName}`);
  }
  const Adapter = exports[exportName] as new () => AbstractHttpAdapter;
  return new Adapter();
}

/**
 * The app's `CorsAudit`. A CommonJS app (NestJS 11) loads the CommonJS build of nestjs-cors, whose `CorsAudit` is
 * another class than this ES module's: then the one its module file resolves. Looked up among the providers first,
 * as a failed `app.get()` is logged as an error.
 */
function auditOf(app: INestApplication, moduleSpec: string): CorsAudit {
  const modules = [...app.get(ModulesContainer).values()];
  const provided = (token: Function) => modules.some((module) => module.providers.has(token));
  if (provided(CorsAudit)) return app.get(CorsAudit);
  const commonJs = requireFrom(moduleSpec.split('#')[0], 'nestjs-cors')?.CorsAudit;
  if (commonJs !== undefined && provided(commonJs)) return app.get(commonJs as typeof CorsAudit);
  throw new UsageError(`${moduleSpec} does not import CorsModule (nestjs-cors): there is no CORS policy to audit`);
}

/** `require(specifier)` as `file` would resolve it, or `undefined` where it cannot. */
function requireFrom(file: string, specifier: string): Record<string, Function> | undefined {
  try {
    return createRequire(resolve(file))(specifier) as Record<string, Function>;
  } catch {
    return undefined;
  }
}
