import { type ChildProcess, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { type AdapterName, ALLOWED_ORIGIN, lastRoute, type Variant } from './app.js';

/**
 * `npm run bench`: the same Nest app without CORS, with app.enableCors() (cors / @fastify/cors) and with nestjs-cors,
 * each in a child process, measured in one run by autocannon from this process. CPU per request is the server's
 * own CPU time (process.cpuUsage) over the requests it answered; every figure is the median of ROUNDS rounds.
 */
const ROUND_SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 10;
const ADAPTERS: AdapterName[] = ['express', 'fastify'];
const VARIANTS: Variant[] = ['none', 'enableCors', 'nestjs-cors'];
const MAIN_ROUTES = 200;
const SCALE_ROUTES = [10, 1_000, 10_000];

interface Scenario {
  name: string;
  method: 'GET' | 'OPTIONS';
  path: (routes: number) => string;
  headers: Record<string, string>;
}

const SCENARIOS: Scenario[] = [
  { name: 'allowed actual GET', method: 'GET', path: (r) => `${lastRoute(r)}/42`, headers: { origin: ALLOWED_ORIGIN } },
  {
    name: 'accepted preflight',
    method: 'OPTIONS',
    path: (r) => `${lastRoute(r)}/42`,
    headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type, authorization' },
  },
  { name: 'disallowed-origin GET', method: 'GET', path: (r) => `${lastRoute(r)}/42`, headers: { origin: 'https://evil.example' } },
  {
    name: 'rejected preflight',
    method: 'OPTIONS',
    path: (r) => `${lastRoute(r)}/42`,
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'PUT' },
  },
  { name: '404', method: 'GET', path: () => '/no/such/route', headers: { origin: ALLOWED_ORIGIN } },
];
const SCALE_SCENARIOS = SCENARIOS.slice(0, 2);

interface Measurement {
  reqPerSec: number;
  cpuMicrosPerReq: number;
  /** Status and whether ACAO was sent, from one probe: shows the variants answer alike. */
  answer: string;
}

class BenchServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(adapter: AdapterName, variant: Variant, routes: number): Promise<BenchServer> {
    const child = fork(fileURLToPath(new URL('./server.js', import.meta.url)), {
      env: { ...process.env, ADAPTER: adapter, VARIANT: variant, ROUTES: String(routes) },
    });
    const { port } = await BenchServer.next<{ port: number }>(child);
    return new BenchServer(child, `http://127.0.0.1:${port}`);
  }

  /** The child's next message; fails if the child exits first. */
  private static next<T>(child: ChildProcess): Promise<T> {
    return new Promise((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`bench server exited with ${code}`));
      child.once('exit', exited);
      child.once('message', (message) => {
        child.off('exit', exited);
        resolve(message as T);
      });
    });
  }

  async measure(scenario: Scenario, routes: number): Promise<Measurement> {
    const target = { url: this.url + scenario.path(routes), method: scenario.method, headers: scenario.headers };
    const probe = await fetch(target.url, { method: target.method, headers: target.headers });
    const answer = `${probe.status}${probe.headers.has('access-control-allow-origin') ? ' +ACAO' : ''}`;
    await autocannon({ ...target, connections: CONNECTIONS, duration: 1 }); // warm-up
    const rounds: Array<{ reqPerSec: number; cpuMicrosPerReq: number }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      this.child.send('start');
      const result = await autocannon({ ...target, connections: CONNECTIONS, duration: ROUND_SECONDS });
      this.child.send('stop');
      const { cpuMicros } = await BenchServer.next<{ cpuMicros: number }>(this.child);
      rounds.push({ reqPerSec: result.requests.total / ROUND_SECONDS, cpuMicrosPerReq: cpuMicros / result.requests.total });
    }
    return {
      reqPerSec: median(rounds.map((r) => r.reqPerSec)),
      cpuMicrosPerReq: median(rounds.map((r) => r.cpuMicrosPerReq)),
      answer,
    };
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send('exit');
    await exited;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

type Results = Map<string, Measurement>;
const key = (adapter: string, variant: string, routes: number, scenario: string) => `${adapter}|${variant}|${routes}|${scenario}`;

async function measureAll(): Promise<Results> {
  const results: Results = new Map();
  const runs: Array<[AdapterName, Variant, number, Scenario[]]> = [
    ...ADAPTERS.flatMap((adapter) => VARIANTS.map((variant) => [adapter, variant, MAIN_ROUTES, SCENARIOS] as [AdapterName, Variant, number, Scenario[]])),
    ...ADAPTERS.flatMap((adapter) =>
      SCALE_ROUTES.flatMap((routes) => (['none', 'nestjs-cors'] as const).map((variant) => [adapter, variant, routes, SCALE_SCENARIOS] as [AdapterName, Variant, number, Scenario[]])),
    ),
  ];
  for (const [adapter, variant, routes, scenarios] of runs) {
    const server = await BenchServer.start(adapter, variant, routes);
    try {
      for (const scenario of scenarios) {
        const measurement = await server.measure(scenario, routes);
        results.set(key(adapter, variant, routes, scenario.name), measurement);
        process.stderr.write(`  ${adapter} ${variant} ${routes} routes, ${scenario.name}: ${measurement.reqPerSec.toFixed(0)} req/s, ${measurement.cpuMicrosPerReq.toFixed(1)} µs CPU/req\n`);
      }
    } finally {
      await server.stop();
    }
  }
  return results;
}

function report(results: Results): string {
  const get = (adapter: string, variant: string, scenario: string, routes = MAIN_ROUTES) => results.get(key(adapter, variant, routes, scenario))!;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const lines: string[] = [
    '# nestjs-cors benchmark',
    '',
    `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}; ` +
      `autocannon, ${CONNECTIONS} connections, median of ${ROUNDS} rounds of ${ROUND_SECONDS} s, same machine, servers in child processes.`,
    `The app: ${MAIN_ROUTES / 4} controllers × 4 routes; requests go to the last controller registered. CPU = the server's own CPU time per request.`,
    '',
  ];
  for (const adapter of ADAPTERS) {
    lines.push(
      `## ${adapter}`,
      '',
      '| scenario | answer (none / enableCors / nestjs-cors) | req/s none | req/s enableCors | req/s nestjs-cors | CPU µs/req none | CPU µs/req enableCors | CPU µs/req nestjs-cors | nestjs-cors ÷ none | nestjs-cors ÷ enableCors |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const { name } of SCENARIOS) {
      const [none, enable, ours] = VARIANTS.map((variant) => get(adapter, variant, name));
      lines.push(
        `| ${name} | ${none.answer} / ${enable.answer} / ${ours.answer} | ${none.reqPerSec.toFixed(0)} | ${enable.reqPerSec.toFixed(0)} | ${ours.reqPerSec.toFixed(0)} | ` +
          `${none.cpuMicrosPerReq.toFixed(1)} | ${enable.cpuMicrosPerReq.toFixed(1)} | ${ours.cpuMicrosPerReq.toFixed(1)} | ` +
          `${ratio(ours.cpuMicrosPerReq, none.cpuMicrosPerReq)} | ${ratio(ours.cpuMicrosPerReq, enable.cpuMicrosPerReq)} |`,
      );
    }
    lines.push('');
  }
  const [fewest, most] = [SCALE_ROUTES[0], SCALE_ROUTES.at(-1)!];
  lines.push(
    '## Scale: CPU µs/req as the app grows',
    '',
    'nestjs-cors next to the same app without CORS, and the difference: what nestjs-cors itself adds per request.',
    '',
    `| adapter | scenario | variant | ${SCALE_ROUTES.map((r) => `${r} routes`).join(' | ')} | ${most} ÷ ${fewest} |`,
    `|---|---|---|${SCALE_ROUTES.map(() => '---:|').join('')}---:|`,
  );
  for (const adapter of ADAPTERS) {
    for (const { name } of SCALE_SCENARIOS) {
      const none = SCALE_ROUTES.map((routes) => get(adapter, 'none', name, routes).cpuMicrosPerReq);
      const ours = SCALE_ROUTES.map((routes) => get(adapter, 'nestjs-cors', name, routes).cpuMicrosPerReq);
      const added = ours.map((cpu, i) => cpu - none[i]);
      for (const [variant, cpu] of [['no CORS', none], ['nestjs-cors', ours], ['added by nestjs-cors', added]] as const) {
        lines.push(`| ${adapter} | ${name} | ${variant} | ${cpu.map((c) => c.toFixed(1)).join(' | ')} | ${ratio(cpu.at(-1)!, cpu[0])} |`);
      }
    }
  }
  lines.push('', '## Targets', '');
  const check = (label: string, value: number, limit: number) =>
    lines.push(`- ${value <= limit ? 'met' : '**missed**'}: ${label}: ${value.toFixed(2)}× (target ≤ ${limit.toFixed(2)}×)`);
  const cpuOf = (adapter: string, variant: string, scenario: string, routes = MAIN_ROUTES) => get(adapter, variant, scenario, routes).cpuMicrosPerReq;
  check('express, allowed actual GET vs no CORS', cpuOf('express', 'nestjs-cors', 'allowed actual GET') / cpuOf('express', 'none', 'allowed actual GET'), 1.05);
  check('fastify, allowed actual GET vs no CORS', cpuOf('fastify', 'nestjs-cors', 'allowed actual GET') / cpuOf('fastify', 'none', 'allowed actual GET'), 1.12);
  for (const adapter of ADAPTERS) {
    check(`${adapter}, accepted preflight vs enableCors`, cpuOf(adapter, 'nestjs-cors', 'accepted preflight') / cpuOf(adapter, 'enableCors', 'accepted preflight'), 1);
    for (const { name } of SCALE_SCENARIOS) {
      const [small, large] = [SCALE_ROUTES[0], SCALE_ROUTES.at(-1)!].map((routes) => cpuOf(adapter, 'nestjs-cors', name, routes));
      check(`${adapter}, ${name} at ${SCALE_ROUTES.at(-1)} routes vs ${SCALE_ROUTES[0]}`, large / small, 1.1);
    }
  }
  return lines.join('\n') + '\n';
}

const table = report(await measureAll());
process.stdout.write(`\n${table}`);
writeFileSync(new URL('../../bench/results.md', import.meta.url), table);
