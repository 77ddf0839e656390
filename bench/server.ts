import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { type AdapterName, createBenchApp, type Shape, type Variant } from './app.js';

/**
 * A benchmark server in its own process: it listens, says on which port, reports its own CPU time between `start`
 * and `stop` messages, so only the server's work is counted, and its memory use on `memory`.
 */
const app = await createBenchApp(
  process.env.ADAPTER as AdapterName,
  process.env.VARIANT as Variant,
  Number(process.env.ROUTES),
  process.env.SHAPE as Shape,
);
await app.listen(0, '127.0.0.1');
let started = process.cpuUsage();
process.on('message', (message: string) => {
  if (message === 'start') started = process.cpuUsage();
  if (message === 'stop') {
    const { user, system } = process.cpuUsage(started);
    process.send?.({ cpuMicros: user + system, userMicros: user });
  }
  if (message === 'memory') {
    globalThis.gc?.();
    process.send?.(process.memoryUsage());
  }
  if (message === 'exit') void app.close().then(() => process.exit(0));
});
process.send?.({ port: (app.getHttpServer().address() as AddressInfo).port });
