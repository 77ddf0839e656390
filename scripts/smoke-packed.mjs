// Installs nestjs-cors the ways a user can from source, starting from a clean clone of HEAD (so nothing gitignored,
// such as a dist/ left over from an earlier build, can leak in), and makes one accepted and one rejected preflight
// against each install:
//  - `npm ci --ignore-scripts` then `npm pack` in the clone (so the pack itself has to build dist/), the tarball
//    installed into a scratch ESM app on NestJS 12 and a scratch CommonJS app on NestJS 11;
//  - `npm install git+file://<clone>#<commit>` (npm prepares a git dependency: installs its devDependencies and runs
//    `prepare`) into a scratch app on NestJS 12, loaded both with import and with require.
// Only committed changes are tested: commit first.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const run = (cwd, command, args) => execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
const npmQuiet = ['--no-audit', '--no-fund', '--loglevel=error'];

const repo = run(dirname(fileURLToPath(import.meta.url)), 'git', ['rev-parse', '--show-toplevel']).trim();
const commit = run(repo, 'git', ['rev-parse', 'HEAD']).trim();
if (run(repo, 'git', ['status', '--porcelain', '--untracked-files=no']).trim() !== '') {
  console.log(`note: testing the committed HEAD ${commit.slice(0, 12)}; uncommitted changes are not in it`);
}

const root = mkdtempSync(join(tmpdir(), 'nestjs-cors-smoke-'));
try {
  const clone = join(root, 'clone');
  run(root, 'git', ['clone', '--quiet', '--no-checkout', repo, clone]);
  run(clone, 'git', ['checkout', '--quiet', '--detach', commit]);
  run(clone, 'npm', ['ci', '--ignore-scripts', ...npmQuiet]);
  const [packed] = JSON.parse(run(clone, 'npm', ['pack', '--json', '--loglevel=error', '--pack-destination', root]));
  const tarball = join(root, packed.filename);
  const files = new Set(packed.files.map((file) => file.path));
  const expected = ['dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json'];
  const missing = expected.filter((file) => !files.has(file));
  if (missing.length > 0) {
    throw new Error(`npm pack in a clean clone packed no ${missing.join(', ')} (packed: ${[...files].join(', ')}): does prepare build dist/?`);
  }
  console.log(`npm pack in a clean clone: ${packed.filename}, ${files.size} files`);

  // The app in plain JavaScript: decorators applied as functions, so it runs without a build step.
  const app = (load) => `${load}
class ItemsController { list() { return []; } }
Get()(ItemsController.prototype, 'list', Object.getOwnPropertyDescriptor(ItemsController.prototype, 'list'));
Controller('items')(ItemsController);
class AppModule {}
Module({ imports: [CorsModule.forRoot({ origin: ['https://app.example.com'], methods: ['GET', 'POST'] })], controllers: [ItemsController] })(AppModule);
async function main() {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = 'http://127.0.0.1:' + app.getHttpServer().address().port + '/items';
  const preflight = (origin) => fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
  const accepted = await preflight('https://app.example.com');
  const rejected = await preflight('https://evil.example');
  await app.close();
  if (accepted.status !== 204 || accepted.headers.get('access-control-allow-origin') !== 'https://app.example.com' || rejected.status !== 403) {
    throw new Error('unexpected answers: ' + accepted.status + ' ' + rejected.status);
  }
  console.log('accepted preflight 204, rejected preflight 403');
}
main().catch((error) => { console.error(error); process.exit(1); });
`;
  const esm = {
    file: 'app.mjs',
    load: `import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CorsModule } from 'nestjs-cors';`,
  };
  const cjs = {
    file: 'app.cjs',
    load: `require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { CorsModule } = require('nestjs-cors');`,
  };
  const scratch = [
    { name: 'tarball-esm-nest12', type: 'module', nest: '^12', from: tarball, apps: [esm] },
    { name: 'tarball-cjs-nest11', type: 'commonjs', nest: '^11', from: tarball, apps: [cjs] },
    { name: 'git-nest12', type: 'module', nest: '^12', from: `git+file://${clone}#${commit}`, apps: [esm, cjs] },
  ];
  for (const { name, type, nest, from, apps } of scratch) {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type }));
    const nestPackages = ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express'].map((p) => `${p}@${nest}`);
    run(dir, 'npm', ['install', ...npmQuiet, from, ...nestPackages, 'reflect-metadata', 'rxjs']);
    for (const { file, load } of apps) {
      writeFileSync(join(dir, file), app(load));
      process.stdout.write(`${name} ${file}: ${run(dir, 'node', [file])}`);
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
