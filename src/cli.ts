#!/usr/bin/env node
// `npx nestjs-cors audit ...`: see USAGE, and the README's "A policy baseline in CI".
import 'reflect-metadata';
import { runAudit } from './cli/audit-command.js';

const code = await runAudit(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
});
// Whatever the app left open (a database pool its module opened) must not keep a CI job waiting.
process.exit(code);
