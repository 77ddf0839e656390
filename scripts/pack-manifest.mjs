// The package.json that `npm pack` and `npm publish` put in the tarball: this one without `scripts` and
// `devDependencies`, which are for working on nestjs-cors, not for using it (with `prepare` in it, npm 11 warns whoever
// installs the tarball that `prepare` is "not yet covered by allowScripts"). A git install and `npm install` in a clone
// still read the package.json of the working tree, `prepare` included, and build dist/.
//
// npm packs package.json as it is on disk, so for the time of a pack it has to be the stripped one:
//   prepack:  node scripts/pack-manifest.mjs strip     keeps the original in node_modules/.cache/nestjs-cors-pack/ and
//                                                     writes the stripped one (after the build);
//   postpack: node scripts/pack-manifest.mjs restore   puts the original back.
// A pack that is interrupted (Ctrl-C, a killed or failing npm) runs no postpack. So `strip` also starts a watcher, in a
// session of its own so that a Ctrl-C of the pack does not reach it, which waits for the process running the pack (npm)
// to end and then puts the original back if postpack did not. Only a package.json that is still exactly the stripped
// one is ever overwritten, and the next pack first restores what a pack whose watcher died too left behind.
//   node scripts/pack-manifest.mjs restore   by hand, puts back what such a pack left.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const root = dirname(dirname(self));
const manifest = join(root, 'package.json');
const cache = join(root, 'node_modules', '.cache', 'nestjs-cors-pack');
/** `{ pid, original }`: the process running the pack, and package.json as it was before. */
const backup = join(cache, 'backup.json');
const DEVELOPMENT_ONLY = ['scripts', 'devDependencies'];
const SHELLS = new Set([
  'sh',
  'bash',
  'dash',
  'zsh',
  'ksh',
  'ash',
  'busybox',
  'cmd.exe',
  'powershell.exe',
  'pwsh',
  'pwsh.exe',
]);
/** A pack of this package takes seconds; a watcher whose pack seems to run longer than this restores anyway. */
const WATCH_AT_MOST_MS = 10 * 60_000;

/** The package.json of the tarball. */
function packedManifest(text) {
  const pkg = JSON.parse(text);
  for (const key of DEVELOPMENT_ONLY) delete pkg[key];
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

function readBackup() {
  try {
    return JSON.parse(readFileSync(backup, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Writes a whole file or nothing: a reader never sees half a package.json. */
function writeWhole(file, text) {
  const temporary = join(cache, `${basename(file)}.${process.pid}.tmp`);
  writeFileSync(temporary, text);
  try {
    renameSync(temporary, file);
  } catch {
    // node_modules on another file system (a link): then an ordinary write.
    rmSync(temporary, { force: true });
    writeFileSync(file, text);
  }
}

/** Puts the original package.json back if the working tree still has the stripped one; true when nothing is left to do. */
function restore() {
  const saved = readBackup();
  if (saved === undefined) return true;
  const current = readFileSync(manifest, 'utf8');
  if (current !== saved.original) {
    if (current !== packedManifest(saved.original)) {
      console.error(`pack-manifest: package.json changed during the pack; left as it is. The original is in ${backup}`);
      return false;
    }
    writeWhole(manifest, saved.original);
  }
  rmSync(backup, { force: true });
  return true;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** Name and parent of a process: from /proc on Linux, else from ps; undefined where neither answers (Windows). */
function processInfo(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return { name: stat.slice(stat.indexOf('(') + 1, close), ppid: Number(stat.slice(close + 2).split(' ')[1]) };
  } catch {
    // not Linux
  }
  try {
    const [ppid, ...command] = execFileSync('ps', ['-o', 'ppid=,comm=', '-p', String(pid)], { encoding: 'utf8' })
      .trim()
      .split(/\s+/);
    return { name: basename(command.join(' ')), ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** The process running the pack: npm runs a script as `sh -c '<script>'`, and the shell runs this file or execs it. */
function packingProcess() {
  let pid = process.ppid;
  for (let depth = 0; depth < 4; depth++) {
    const info = processInfo(pid);
    if (info === undefined) return undefined;
    if (!SHELLS.has(info.name)) return pid;
    pid = info.ppid;
  }
  return undefined;
}

function strip() {
  const stale = readBackup();
  if (stale !== undefined) {
    if (alive(stale.pid)) throw new Error(`pack-manifest: another pack (process ${stale.pid}) is under way in ${root}`);
    if (!restore()) process.exit(1);
  }
  const original = readFileSync(manifest, 'utf8');
  const pid = packingProcess();
  mkdirSync(cache, { recursive: true });
  writeWhole(backup, JSON.stringify({ pid: pid ?? 0, original }));
  if (pid !== undefined) {
    spawn(process.execPath, [self, 'watch', String(pid)], { detached: true, stdio: 'ignore' }).unref();
  } else {
    console.error(
      'pack-manifest: cannot tell which process runs the pack; if it is interrupted, run node scripts/pack-manifest.mjs restore',
    );
  }
  writeWhole(manifest, packedManifest(original));
  // For scripts/smoke-packed.mjs: stay here, with package.json stripped, until the test interrupts the pack.
  const hold = process.env.NESTJS_CORS_PACK_HOLD;
  if (hold) {
    writeFileSync(hold, String(process.pid));
    setTimeout(() => process.exit(1), 60_000);
  }
}

function watch(pid) {
  const started = Date.now();
  const timer = setInterval(() => {
    const saved = readBackup();
    // Restored by postpack (or by a later pack, which has a watcher of its own).
    if (saved === undefined || saved.pid !== pid) return clearInterval(timer);
    if (alive(pid) && Date.now() - started < WATCH_AT_MOST_MS) return;
    clearInterval(timer);
    restore();
  }, 100);
}

const [command, argument] = process.argv.slice(2);
if (command === 'strip') strip();
else if (command === 'restore') process.exitCode = restore() ? 0 : 1;
else if (command === 'watch') watch(Number(argument));
else if (command !== undefined) {
  console.error('usage: node scripts/pack-manifest.mjs strip | restore');
  process.exitCode = 2;
}
