import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXIT, loadAdapter, runAudit, USAGE, UsageError } from '../../src/cli/audit-command.js';

const ROOT = resolve('.');
/** Inside the project, so that the build finds @nestjs/* in its node_modules as an app's build finds them in its own. */
const CACHE = join(ROOT, 'node_modules', '.cache');
let dir: string;
let cli: string;
let fixture: string;

/** src/ and the fixture app compiled as a user's build is: plain ES modules the CLI loads with import(). */
beforeAll(() => {
  mkdirSync(CACHE, { recursive: true });
  dir = mkdtempSync(join(CACHE, 'nestjs-cors-cli-'));
  const out = join(dir, 'build');
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.build.json'),
      compilerOptions: { rootDir: ROOT, outDir: out, declaration: false },
      include: [join(ROOT, 'src'), join(ROOT, 'test/cli/fixture.module.ts')],
    }),
  );
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], {
    encoding: 'utf8',
  });
  if (tsc.status !== 0) throw new Error(`tsc failed: ${tsc.stdout}${tsc.stderr}`);
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
  cli = join(out, 'src/cli.js');
  fixture = join(out, 'test/cli/fixture.module.js');
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `nestjs-cors audit ...` as a child process, with the fixture's `configure` (the global prefix `api`). */
function audit(...args: string[]) {
  const { status, stdout, stderr } = spawnSync(
    process.execPath,
    [cli, 'audit', '--configure', `${fixture}#configure`, ...args],
    { encoding: 'utf8' },
  );
  return { status, stdout, stderr };
}

describe('nestjs-cors audit', () => {
  it('writes a baseline, then checks the same app against it (exit 0), on Express and on Fastify', () => {
    const file = join(dir, 'cors-baseline.jsonl');
    const written = audit('--module', fixture, '--write', file);
    expect(written).toMatchObject({ status: 0, stdout: `Wrote the CORS policy of 4 entries to ${file}\n` });
    expect(readFileSync(file, 'utf8')).toMatch(
      /^\{"method":"ALL","path":"\*",.*\n\{"method":"GET","path":"\/api\/orders"/,
    );
    for (const adapter of ['express', 'fastify']) {
      expect(audit('--module', `${fixture}#AppModule`, '--adapter', adapter, '--check', file)).toEqual({
        status: 0,
        stdout: `The CORS policy is the one of ${file}\n`,
        stderr: '',
      });
    }
  });

  it('fails a widened app with exit 1 and the difference, and passes a narrowed one with the list', () => {
    const file = join(dir, 'widened.jsonl');
    audit('--module', fixture, '--write', file);
    const widened = audit('--module', `${fixture}#WidenedModule`, '--check', file);
    expect(widened.status).toBe(1);
    expect(widened.stderr).toBe(
      [
        `The CORS policy is wider than its baseline ${file} (1):`,
        '  GET /api/partner/orders (PartnerOrdersController.list)  credentials: - false + true',
        `If this is intended, have it reviewed, then update the baseline: nestjs-cors audit ... --write ${file}`,
        '',
      ].join('\n'),
    );
    const narrowed = audit('--module', `${fixture}#NarrowedModule`, '--check', file);
    expect(narrowed).toMatchObject({ status: 0, stderr: '' });
    expect(narrowed.stdout).toContain(
      '  GET /api/partner/orders (PartnerOrdersController.list)  origin: - https://partner.example.net\n',
    );
  });

  it('exits 2 with the usage on a command it cannot run', () => {
    const { status, stdout, stderr } = spawnSync(process.execPath, [cli, 'audit', '--write', 'b.jsonl'], {
      encoding: 'utf8',
    });
    expect({ status, stdout }).toEqual({ status: 2, stdout: '' });
    expect(stderr).toBe(`--module is required\n${USAGE}\n`);
  });

  it.each([
    ['no command', ['--module', 'x.js', '--write', 'b.jsonl'], 'The one command is audit'],
    [
      'both --check and --write',
      ['audit', '--module', 'x.js', '--check', 'a', '--write', 'b'],
      'Give one of --check and --write',
    ],
    [
      'an unknown adapter',
      ['audit', '--module', 'x.js', '--adapter', 'koa', '--write', 'b'],
      '--adapter is express or fastify, not koa',
    ],
    ['an unknown option', ['audit', '--module', 'x.js', '--chek', 'b'], "Unknown option '--chek'"],
  ])('gives exit code 2 and the usage for %s', async (_case, args, message) => {
    const printed: string[] = [];
    const output = { out: (text: string) => printed.push(text), err: (text: string) => printed.push(text) };
    expect(await runAudit(args, output)).toBe(EXIT.error);
    expect(printed).toEqual([expect.stringContaining(message)]);
    expect(printed[0]).toMatch(new RegExp(`\\n${USAGE.replace(/[[\]().|*+?]/g, '\\$&')}$`));
  });

  it('exits 2 when the module, its export or the baseline is missing, or the app does not start', () => {
    const missingExport = audit('--module', `${fixture}#OrdersModule`, '--write', join(dir, 'x.jsonl'));
    expect(missingExport.status).toBe(2);
    expect(missingExport.stderr).toContain(
      'exports no function OrdersModule (it exports AppModule, BrokenModule, NarrowedModule, WidenedModule, WithoutCorsModule, configure): name one after #',
    );
    const missingFile = audit('--module', fixture, '--check', join(dir, 'none.jsonl'));
    expect(missingFile).toMatchObject({ status: 2 });
    expect(missingFile.stderr).toContain(`No CORS baseline at ${join(dir, 'none.jsonl')}: write one with --write`);
    const missingModule = audit('--module', join(dir, 'none.js'), '--write', join(dir, 'x.jsonl'));
    expect(missingModule.status).toBe(2);
    expect(missingModule.stderr).toContain(
      `No file ${join(dir, 'none.js')}: name the compiled module, such as dist/app.module.js\n${USAGE}`,
    );
    const withoutCors = audit('--module', `${fixture}#WithoutCorsModule`, '--write', join(dir, 'x.jsonl'));
    expect(withoutCors).toMatchObject({ status: 2, stdout: '' });
    expect(withoutCors.stderr).toBe(
      `${fixture}#WithoutCorsModule does not import CorsModule (nestjs-cors): there is no CORS policy to audit\n${USAGE}\n`,
    );
    const broken = audit('--module', `${fixture}#BrokenModule`, '--write', join(dir, 'x.jsonl'));
    expect(broken.status).toBe(2);
    expect(broken.stderr).toContain(
      "nestjs-cors audit: CorsConfigError: Invalid CORS configuration in forRoot: credentials cannot be used with origin '*'",
    );
  });
});

describe('loadAdapter', () => {
  it('names the package to install when the adapter is not there', async () => {
    const notInstalled = Object.assign(new Error("Cannot find package '@nestjs/platform-fastify'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    await expect(loadAdapter('fastify', () => Promise.reject(notInstalled))).rejects.toThrow(
      new UsageError(
        '--adapter fastify needs @nestjs/platform-fastify, which is not installed: npm install @nestjs/platform-fastify',
      ),
    );
  });
});
