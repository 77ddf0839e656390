// Installs nestjs-cors the ways a user can from source, starting from a clean clone of HEAD (so nothing gitignored,
// such as a dist/ left over from an earlier build, can leak in), and makes one accepted and one rejected preflight
// against each install:
//  - `npm ci --ignore-scripts` then `npm pack` in the clone (so the pack itself has to build dist/), the tarball
//    installed into a scratch ESM app on NestJS 12 and a scratch CommonJS app on NestJS 11. The tarball's package.json
//    must be the clone's without `scripts` and `devDependencies` (scripts/pack-manifest.mjs), the clone must be left
//    as it was, also by a pack interrupted with Ctrl-C, and installing the tarball must not make npm warn about its
//    install scripts (npm 11: "not yet covered by allowScripts");
//  - `npm install git+file://<clone>#<commit>` (npm prepares a git dependency: installs its devDependencies and runs
//    `prepare`) into a scratch app on NestJS 12, loaded both with import and with require.
// Only committed changes are tested: commit first.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const run = (cwd, command, args) =>
  execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
const npmQuiet = ['--no-audit', '--no-fund', '--loglevel=error'];
/** Runs npm and returns what it printed on stderr (its warnings); throws, printing them, if npm fails. */
const npmWarnings = (cwd, args) => {
  const { status, stderr } = spawnSync('npm', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (status !== 0) {
    process.stderr.write(stderr);
    throw new Error(`npm ${args.join(' ')} failed in ${cwd} (exit ${status})`);
  }
  return stderr;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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
  const expected = [
    'dist/esm/index.js',
    'dist/esm/index.d.ts',
    'dist/cjs/index.js',
    'dist/cjs/index.d.ts',
    'dist/cjs/package.json',
  ];
  const missing = expected.filter((file) => !files.has(file));
  if (missing.length > 0) {
    throw new Error(
      `npm pack in a clean clone packed no ${missing.join(', ')} (packed: ${[...files].join(', ')}): does prepare build dist/?`,
    );
  }
  console.log(`npm pack in a clean clone: ${packed.filename}, ${files.size} files`);

  // The clone's package.json, less what is for working on nestjs-cors: nothing for npm to run at install.
  const committed = JSON.parse(run(clone, 'git', ['show', 'HEAD:package.json']));
  const inTarball = JSON.parse(run(root, 'tar', ['-xzOf', tarball, 'package/package.json']));
  const leftIn = ['scripts', 'devDependencies'].filter((key) => key in inTarball);
  if (leftIn.length > 0) {
    throw new Error(`the packed package.json still has ${leftIn.join(' and ')}: ${JSON.stringify(inTarball.scripts)}`);
  }
  const { scripts, devDependencies: _devDependencies, ...rest } = committed;
  if (!isDeepStrictEqual(inTarball, rest)) {
    throw new Error(
      `the packed package.json differs from the committed one in more than scripts and devDependencies:\n${JSON.stringify(inTarball, null, 2)}`,
    );
  }
  const unclean = () => run(clone, 'git', ['status', '--porcelain', '--ignored=no']).trim();
  if (unclean() !== '') throw new Error(`npm pack left the clone changed:\n${unclean()}`);
  console.log(
    `the packed package.json has no scripts (the clone's: ${Object.keys(scripts).join(', ')}) and no devDependencies; the clone is unchanged`,
  );

  // Ctrl-C while package.json is stripped (scripts/pack-manifest.mjs holds the pack there): no postpack runs, and the
  // watcher that the pack started puts package.json back.
  const hold = join(root, 'pack-held');
  const interrupted = spawn('npm', ['pack', '--loglevel=error', '--pack-destination', join(root, 'interrupted')], {
    cwd: clone,
    detached: true, // a process group of its own, as a shell gives a command, for the Ctrl-C below
    stdio: 'ignore',
    env: { ...process.env, NESTJS_CORS_PACK_HOLD: hold },
  });
  const exited = new Promise((resolve) => interrupted.on('exit', (code, signal) => resolve(signal ?? code)));
  for (let waited = 0; !existsSync(hold); waited += 50) {
    if (waited > 120_000)
      throw new Error('the interrupted pack never reached the point where package.json is stripped');
    await sleep(50);
  }
  if ('scripts' in JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8'))) {
    throw new Error('the interrupted pack was held before package.json was stripped: the test tests nothing');
  }
  process.kill(-interrupted.pid, 'SIGINT');
  const how = await exited;
  for (let waited = 0; unclean() !== ''; waited += 100) {
    if (waited > 10_000)
      throw new Error(`a pack interrupted with Ctrl-C (npm ended with ${how}) left the clone changed:\n${unclean()}`);
    await sleep(100);
  }
  console.log(`a pack interrupted with Ctrl-C (npm ended with ${how}) left the clone unchanged`);

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
  // The same module for the CLI (`npx nestjs-cors audit`), which loads it and boots it itself.
  const cliModule = (load, exported) => `${load}
class ItemsController { list() { return []; } }
Get()(ItemsController.prototype, 'list', Object.getOwnPropertyDescriptor(ItemsController.prototype, 'list'));
Controller('items')(ItemsController);
${exported}class AppModule {}
Module({ imports: [CorsModule.forRoot({ origin: ['https://app.example.com'] })], controllers: [ItemsController] })(AppModule);
`;
  esm.cliModule = { file: 'app.module.mjs', text: cliModule(esm.load, 'export ') };
  cjs.cliModule = { file: 'app.module.cjs', text: `${cliModule(cjs.load, '')}exports.AppModule = AppModule;\n` };
  const scratch = [
    { name: 'tarball-esm-nest12', type: 'module', nest: '^12', from: tarball, apps: [esm], cli: esm.cliModule },
    { name: 'tarball-cjs-nest11', type: 'commonjs', nest: '^11', from: tarball, apps: [cjs], cli: cjs.cliModule },
    { name: 'git-nest12', type: 'module', nest: '^12', from: `git+file://${clone}#${commit}`, apps: [esm, cjs] },
  ];
  for (const { name, type, nest, from, apps, cli } of scratch) {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type }));
    const nestPackages = ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express'].map((p) => `${p}@${nest}`);
    const warnings = npmWarnings(dir, [
      'install',
      '--no-audit',
      '--no-fund',
      '--loglevel=warn',
      from,
      ...nestPackages,
      'reflect-metadata',
      'rxjs',
    ]);
    // npm 11 lists the packages whose install scripts it did not run or runs unapproved: never this one from a tarball.
    // (A git dependency is built by its prepare script: that one is expected to be listed.)
    const unapproved = warnings.split('\n').filter((line) => /install-scripts/.test(line) && /nestjs-cors@/.test(line));
    if (from === tarball && unapproved.length > 0) {
      throw new Error(`installing the tarball made npm warn about its install scripts:\n${unapproved.join('\n')}`);
    }
    console.log(
      `${name}: npm ${unapproved.length > 0 ? `lists the install scripts of ${unapproved.map((line) => line.replace(/^npm warn install-scripts\s*/, '')).join(', ')}` : 'names no install script of nestjs-cors'}`,
    );
    for (const { file, load } of apps) {
      writeFileSync(join(dir, file), app(load));
      process.stdout.write(`${name} ${file}: ${run(dir, 'node', [file])}`);
    }
    if (cli !== undefined) {
      writeFileSync(join(dir, cli.file), cli.text);
      for (const mode of ['--write', '--check']) {
        const args = ['--no-install', 'nestjs-cors', 'audit', '--module', `${cli.file}#AppModule`, mode, 'cors.jsonl'];
        // Nothing on stderr: a CommonJS app's audit is found without a failed lookup that Nest would log.
        const { status, stdout, stderr } = spawnSync('npx', args, { cwd: dir, encoding: 'utf8' });
        if (status !== 0 || stderr !== '')
          throw new Error(`npx nestjs-cors audit ${mode} (exit ${status}):\n${stderr}`);
        process.stdout.write(`${name} npx nestjs-cors audit ${mode}: ${stdout}`);
      }
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
