import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AdapterName, Shape, Variant } from './app.js';
import { pinServer } from './cpu-pinning.js';

export interface ServerConfig {
  adapter: AdapterName;
  variant: Variant;
  routes: number;
  shape: Shape;
}

/** A server's CPU time in µs: in all, and the part spent in user space (JavaScript, V8, Node), not in the kernel. */
export interface ServerCpu {
  cpuMicros: number;
  userMicros: number;
}

/** A bench app (server.ts) in a child process, so the server's CPU time and memory are its own. */
export class BenchServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly config: ServerConfig,
    readonly url: string,
  ) {}

  static async start(config: ServerConfig): Promise<BenchServer> {
    const child = fork(fileURLToPath(new URL('./server.js', import.meta.url)), {
      env: {
        ...process.env,
        ADAPTER: config.adapter,
        VARIANT: config.variant,
        ROUTES: String(config.routes),
        SHAPE: config.shape,
      },
      // for the soak's memory samples: garbage awaiting collection is not growth
      execArgv: [...process.execArgv, '--expose-gc'],
    });
    const { port } = await BenchServer.reply<{ port: number }>(child);
    if (child.pid !== undefined) pinServer(child.pid);
    return new BenchServer(child, config, `http://127.0.0.1:${port}`);
  }

  /** The child's next message; fails if the child exits first. */
  private static reply<T>(child: ChildProcess): Promise<T> {
    return new Promise((resolve, reject) => {
      const exited = (code: number | null, signal: string | null) =>
        reject(new Error(`bench server exited with ${code ?? signal}`));
      child.once('exit', exited);
      child.once('message', (message) => {
        child.off('exit', exited);
        resolve(message as T);
      });
    });
  }

  /** Sends `message` and waits for the child's answer. */
  private ask<T>(message: string): Promise<T> {
    if (!this.child.connected)
      return Promise.reject(new Error(`bench server exited with ${this.child.exitCode ?? this.child.signalCode}`));
    const reply = BenchServer.reply<T>(this.child);
    this.child.send(message);
    return reply;
  }

  /** What `work` returns, and the CPU time in µs the server spent meanwhile: in all, and in user space. */
  async cpuDuring<T>(work: () => Promise<T>): Promise<[T, ServerCpu]> {
    this.child.send('start');
    const result = await work();
    return [result, await this.ask<ServerCpu>('stop')];
  }

  /** The server's memory use, after a full garbage collection. */
  memory(): Promise<NodeJS.MemoryUsage> {
    return this.ask('memory');
  }

  async stop(): Promise<void> {
    if (!this.child.connected) return; // it crashed: the caller is already failing with why
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send('exit');
    await exited;
  }
}
