import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

/**
 * Keeps the load generator and the servers off each other's cores: autocannon (this process) on the first, the
 * servers on the others, so neither preempts the other in the middle of a request and a server's CPU time is its own
 * work. Linux with `taskset` and two cores or more only; elsewhere, or with BENCH_PIN=0, nothing is pinned.
 */
const CORES = cpus().length;
const pinning = process.platform === 'linux' && CORES >= 2 && process.env.BENCH_PIN !== '0' && hasTaskset();

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function pin(pid: number, cores: string): void {
  // -a: every thread of the process (V8's compiler and GC threads too).
  if (pinning) execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' });
}

/** Where the benchmark runs, for the report. */
export const PLACEMENT = pinning
  ? `autocannon pinned to core 0, servers to ${CORES === 2 ? 'core 1' : `cores 1–${CORES - 1}`}`
  : 'processes not pinned to cores';

export const pinLoadGenerator = (): void => pin(process.pid, '0');

export const pinServer = (pid: number): void => pin(pid, CORES === 2 ? '1' : `1-${CORES - 1}`);
