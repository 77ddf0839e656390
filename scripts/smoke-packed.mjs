// Installs the packed tarball into two scratch NestJS apps, one ESM on NestJS 12 and one CommonJS on NestJS 11,
// and makes one accepted and one rejected preflight against each. Run after `npm run build`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = (cwd, command, args) => execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
const root = mkdtempSync(join(tmpdir(), 'nestjs-cors-smoke-'));
try {
  const tarball = join(root, JSON.parse(run(process.cwd(), 'npm', ['pack', '--json', '--pack-destination', root]))[0].filename);

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
  const scratch = [
    {
      name: 'esm-nest12',
      type: 'module',
      nest: '^12',
      file: 'app.mjs',
      load: `import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CorsModule } from 'nestjs-cors';`,
    },
    {
      name: 'cjs-nest11',
      type: 'commonjs',
      nest: '^11',
      file: 'app.cjs',
      load: `require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { CorsModule } = require('nestjs-cors');`,
    },
  ];
  for (const { name, type, nest, file, load } of scratch) {
    const dir = join(root, name);
    run(root, 'mkdir', [dir]);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type }));
    run(dir, 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, `@nestjs/common@${nest}`, `@nestjs/core@${nest}`, `@nestjs/platform-express@${nest}`, 'reflect-metadata', 'rxjs']);
    writeFileSync(join(dir, file), app(load));
    process.stdout.write(`${name}: ${run(dir, 'node', [file])}`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
