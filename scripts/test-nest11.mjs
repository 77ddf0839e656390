// Runs the unit and e2e suites against NestJS 11 (CommonJS): a copy of the project in a temp dir, with the @nestjs
// packages at ^11 and without the browser and benchmark tools or the GraphQL servers (their @nestjs packages want ^12),
// installed from the registry.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NEST_11 = [
  ...['@nestjs/common', '@nestjs/core', '@nestjs/platform-express', '@nestjs/platform-fastify', '@nestjs/testing'],
  ...['@nestjs/websockets', '@nestjs/platform-ws', '@nestjs/platform-socket.io'],
];
const NOT_NEEDED = [
  ...[
    '@sparticuz/chromium',
    'playwright-core',
    'autocannon',
    '@types/autocannon',
    'publint',
    '@arethetypeswrong/cli',
    'puppeteer-core',
  ],
  // test/graphql only; @nestjs/graphql, @nestjs/apollo and @nestjs/mercurius 14 have peer dependencies on @nestjs/* ^12.
  ...[
    '@nestjs/graphql',
    '@nestjs/apollo',
    '@apollo/server',
    '@as-integrations/express5',
    '@nestjs/mercurius',
    'mercurius',
    'graphql',
  ],
];

const dir = mkdtempSync(join(tmpdir(), 'nestjs-cors-nest11-'));
try {
  for (const path of ['src', 'test', 'jest.config.js', 'tsconfig.json'])
    cpSync(path, join(dir, path), { recursive: true });
  for (const notRun of ['test/browser', 'test/firefox', 'test/graphql']) rmSync(join(dir, notRun), { recursive: true });
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  for (const name of NEST_11) pkg.devDependencies[name] = '^11';
  for (const name of NOT_NEEDED) delete pkg.devDependencies[name];
  delete pkg.scripts.prepare; // the build needs tsconfig.build*.json, which are not copied, and the suites test src/
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  const run = (command, args, env = {}) =>
    execFileSync(command, args, { cwd: dir, stdio: 'inherit', env: { ...process.env, ...env } });
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error']);
  execFileSync('npm', ['ls', '@nestjs/core'], { cwd: dir, stdio: 'inherit' });
  run('npx', ['jest', 'test/policy', 'test/routing', 'test/e2e'], { NODE_OPTIONS: '--experimental-vm-modules' });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
