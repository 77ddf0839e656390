import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { type AdapterName, ALLOWED_ORIGIN, lastRoute, type Shape, type Variant } from './app.js';
import { BenchServer, type ServerConfig } from './bench-server.js';
import { PLACEMENT, pinLoadGenerator } from './cpu-pinning.js';
import type { FrontDoorScenario } from './front-door-cost.js';
import { soak } from './soak.js';

/**
 * `npm run bench`: the same Nest app without CORS, with app.enableCors() (cors / @fastify/cors) and with nestjs-cors,
 * each in a child process, measured in one run by autocannon from this process, side by side: round by round in turn,
 * so that the machine's drift during the run weighs on each alike. CPU per request is the server's own CPU time
 * (process.cpuUsage) over the requests it answered; every figure is the median of ROUNDS rounds, every ratio the
 * median of the rounds' ratios.
 * `npm run bench -- --soak` runs the soak test instead (soak.ts). For a quicker look while developing,
 * BENCH_ONLY=express or BENCH_ONLY=fastify measures one adapter, and BENCH_SCALE=10,1000 sets the scale series' sizes.
 */
const ROUND_SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
/** As many connections as a busy API keeps open from its gateways and clients. */
const CONNECTIONS = 32;
const ADAPTERS = (['express', 'fastify'] as const).filter(
  (adapter) => !process.env.BENCH_ONLY || process.env.BENCH_ONLY === adapter,
);
const VARIANTS: Variant[] = ['none', 'enableCors', 'nestjs-cors'];
const MAIN_ROUTES = 200;
const SCALE_ROUTES = (process.env.BENCH_SCALE ?? '10,1000,10000').split(',').map(Number);
const SCALE_VARIANTS = ['none', 'nestjs-cors'] as const;
const SHAPES: Shape[] = ['literal', 'param-first'];
/** Issue #10's targets: nestjs-cors ÷ no CORS for an allowed GET, and how much what it adds may grow with the app. */
const GET_LIMIT: Record<AdapterName, number> = { express: 1.05, fastify: 1.12 };
const SCALE_LIMIT = 1.1;

if (ADAPTERS.length === 0) throw new Error(`BENCH_ONLY=${process.env.BENCH_ONLY}: expected express or fastify`);

interface Scenario {
  name: string;
  method: 'GET' | 'OPTIONS';
  path: (route: string) => string;
  headers: Record<string, string>;
}

const SCENARIOS: Scenario[] = [
  { name: 'allowed actual GET', method: 'GET', path: (route) => `${route}/42`, headers: { origin: ALLOWED_ORIGIN } },
  {
    name: 'accepted preflight',
    method: 'OPTIONS',
    path: (route) => `${route}/42`,
    headers: {
      origin: ALLOWED_ORIGIN,
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type, authorization',
    },
  },
  {
    name: 'disallowed-origin GET',
    method: 'GET',
    path: (route) => `${route}/42`,
    headers: { origin: 'https://evil.example' },
  },
  {
    name: 'rejected preflight',
    method: 'OPTIONS',
    path: (route) => `${route}/42`,
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'PUT' },
  },
  { name: '404', method: 'GET', path: () => '/no/such/route', headers: { origin: ALLOWED_ORIGIN } },
];
const SCALE_SCENARIOS = SCENARIOS.slice(0, 2);

interface Measurement {
  reqPerSec: number;
  cpuMicrosPerReq: number;
  /** CPU µs/request of each round, for ratios taken round by round. */
  rounds: number[];
  /** The same in user space only: the kernel's part (loopback TCP, waking the client) is the noisiest. */
  userRounds: number[];
  /** Status and whether ACAO was sent, from one probe: shows the variants answer alike. */
  answer: string;
}

function target(server: BenchServer, scenario: Scenario) {
  const { routes, shape } = server.config;
  return {
    url: server.url + scenario.path(lastRoute(routes, shape)),
    method: scenario.method,
    headers: scenario.headers,
  };
}

/**
 * Measures `scenario` on servers that differ in one respect (the variant), round by round in turn (A B C, B C A, C A B …),
 * so that a machine growing slower or faster during the run weighs on every variant alike.
 */
async function measureSideBySide(servers: BenchServer[], scenario: Scenario): Promise<Measurement[]> {
  const answers: string[] = [];
  for (const server of servers) {
    const probe = await fetch(target(server, scenario).url, { method: scenario.method, headers: scenario.headers });
    answers.push(`${probe.status}${probe.headers.has('access-control-allow-origin') ? ' +ACAO' : ''}`);
    await autocannon({ ...target(server, scenario), connections: CONNECTIONS, duration: 1 }); // warm-up
  }
  const rounds = servers.map(
    () => [] as Array<{ reqPerSec: number; cpuMicrosPerReq: number; userMicrosPerReq: number }>,
  );
  for (let round = 0; round < ROUNDS; round++) {
    // Each round begins with another variant (A B C, B C A, C A B …): none is always measured first or last.
    for (let turn = 0; turn < servers.length; turn++) {
      const i = (round + turn) % servers.length;
      const server = servers[i];
      const run = () => autocannon({ ...target(server, scenario), connections: CONNECTIONS, duration: ROUND_SECONDS });
      const [result, { cpuMicros, userMicros }] = await server.cpuDuring(run);
      rounds[i].push({
        reqPerSec: result.requests.total / ROUND_SECONDS,
        cpuMicrosPerReq: cpuMicros / result.requests.total,
        userMicrosPerReq: userMicros / result.requests.total,
      });
    }
  }
  return rounds.map((measured, i) => ({
    reqPerSec: median(measured.map((r) => r.reqPerSec)),
    cpuMicrosPerReq: median(measured.map((r) => r.cpuMicrosPerReq)),
    rounds: measured.map((r) => r.cpuMicrosPerReq),
    userRounds: measured.map((r) => r.userMicrosPerReq),
    answer: answers[i],
  }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** `a ÷ b` of CPU per request: the median of the ratios of rounds measured side by side. */
function cpuRatio(a: Measurement, b: Measurement): number {
  return median(a.rounds.map((cpu, round) => cpu / b.rounds[round]));
}

/** The same of user-space CPU only. */
function userCpuRatio(a: Measurement, b: Measurement): number {
  return median(a.userRounds.map((cpu, round) => cpu / b.userRounds[round]));
}

/** `a − b` of CPU µs per request: the median of the differences of rounds measured side by side. */
function cpuAdded(a: Measurement, b: Measurement): number {
  return median(a.rounds.map((cpu, round) => cpu - b.rounds[round]));
}

type Results = Map<string, Measurement>;
const key = ({ adapter, variant, routes, shape }: ServerConfig, scenario: string) =>
  [adapter, variant, routes, shape, scenario].join('|');

async function measureAll(): Promise<Results> {
  /** Apps alike but for their variant, measured side by side. */
  type Group = { configs: ServerConfig[]; scenarios: Scenario[] };
  const groups = ADAPTERS.flatMap((adapter): Group[] => [
    {
      configs: VARIANTS.map((variant) => ({ adapter, variant, routes: MAIN_ROUTES, shape: 'literal' })),
      scenarios: SCENARIOS,
    },
    ...SHAPES.flatMap((shape) =>
      SCALE_ROUTES.map((routes) => ({
        configs: SCALE_VARIANTS.map((variant) => ({ adapter, variant, routes, shape })),
        scenarios: SCALE_SCENARIOS,
      })),
    ),
  ]);
  const results: Results = new Map();
  for (const { configs, scenarios } of groups) {
    const servers: BenchServer[] = [];
    try {
      for (const config of configs) servers.push(await BenchServer.start(config));
      for (const scenario of scenarios) {
        const measurements = await measureSideBySide(servers, scenario);
        for (const [i, { config }] of servers.entries()) {
          const measurement = measurements[i];
          results.set(key(config, scenario.name), measurement);
          process.stderr.write(
            `  ${config.adapter} ${config.variant} ${config.routes} ${config.shape} routes, ${scenario.name}: ` +
              `${measurement.reqPerSec.toFixed(0)} req/s, ${measurement.cpuMicrosPerReq.toFixed(1)} µs CPU/req\n`,
          );
        }
      }
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  }
  return results;
}

/** How many processes measure each front-door cost; the figure is their median, as one process can run slow throughout. */
const COST_PROCESSES = 3;

/** Nanoseconds nestjs-cors's front door adds per request, measured in a child process of its own (front-door-cost.ts). */
function frontDoorCost(
  adapter: AdapterName,
  routes: number,
  shape: Shape,
  scenario: FrontDoorScenario,
): Promise<number> {
  const child = fork(new URL('./front-door-cost.js', import.meta.url), {
    env: { ...process.env, FRONT_DOOR_COST: JSON.stringify({ adapter, routes, shape, scenario }) },
    execArgv: [...process.execArgv, '--expose-gc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve((message as { nanos: number }).nanos));
    child.once('exit', (code) => reject(new Error(`front-door-cost exited with ${code} before measuring`)));
  });
}

type Costs = Map<string, number>;

async function measureFrontDoorCosts(): Promise<Costs> {
  const costs: Costs = new Map();
  for (const adapter of ADAPTERS) {
    for (const shape of SHAPES) {
      for (const { name } of SCALE_SCENARIOS) {
        for (const routes of SCALE_ROUTES) {
          const measured: number[] = [];
          for (let i = 0; i < COST_PROCESSES; i++)
            measured.push(await frontDoorCost(adapter, routes, shape, name as FrontDoorScenario));
          const nanos = median(measured);
          costs.set([adapter, shape, name, routes].join('|'), nanos);
          process.stderr.write(
            `  ${adapter} ${routes} ${shape} routes, ${name}: the front door adds ${nanos.toFixed(0)} ns\n`,
          );
        }
      }
    }
  }
  return costs;
}

function report(results: Results, costs: Costs): string {
  const get = (
    adapter: AdapterName,
    variant: Variant,
    scenario: string,
    routes = MAIN_ROUTES,
    shape: Shape = 'literal',
  ) => results.get(key({ adapter, variant, routes, shape }, scenario))!;
  /** CPU µs/req without CORS and with nestjs-cors at each SCALE_ROUTES, and the difference: what nestjs-cors adds. */
  const scale = (adapter: AdapterName, shape: Shape, scenario: string) => {
    const [none, ours] = SCALE_VARIANTS.map((variant) =>
      SCALE_ROUTES.map((routes) => get(adapter, variant, scenario, routes, shape)),
    );
    const cpu = (measurements: Measurement[]) => measurements.map((m) => m.cpuMicrosPerReq);
    return { none: cpu(none), ours: cpu(ours), added: ours.map((m, i) => cpuAdded(m, none[i])) };
  };
  const times = (ratio: number) => `${ratio.toFixed(2)}×`;
  const lines: string[] = [
    '# nestjs-cors benchmark',
    '',
    `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}; ` +
      `autocannon, ${CONNECTIONS} connections, median of ${ROUNDS} rounds of ${ROUND_SECONDS} s, same machine, servers in child processes; ${PLACEMENT}.`,
    `The app: ${MAIN_ROUTES / 4} controllers × 4 routes; requests go to the last controller registered. CPU = the server's own CPU time per request.`,
    '',
  ];
  for (const adapter of ADAPTERS) {
    lines.push(
      `## ${adapter}`,
      '',
      '| scenario | answer (none / enableCors / nestjs-cors) | req/s none | req/s enableCors | req/s nestjs-cors | CPU µs/req none | CPU µs/req enableCors | CPU µs/req nestjs-cors | nestjs-cors ÷ none | nestjs-cors ÷ enableCors | user CPU: ÷ none / ÷ enableCors |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const { name } of SCENARIOS) {
      const [none, enable, ours] = VARIANTS.map((variant) => get(adapter, variant, name));
      lines.push(
        `| ${name} | ${none.answer} / ${enable.answer} / ${ours.answer} | ${none.reqPerSec.toFixed(0)} | ${enable.reqPerSec.toFixed(0)} | ${ours.reqPerSec.toFixed(0)} | ` +
          `${none.cpuMicrosPerReq.toFixed(1)} | ${enable.cpuMicrosPerReq.toFixed(1)} | ${ours.cpuMicrosPerReq.toFixed(1)} | ` +
          `${times(cpuRatio(ours, none))} | ${times(cpuRatio(ours, enable))} | ` +
          `${times(userCpuRatio(ours, none))} / ${times(userCpuRatio(ours, enable))} |`,
      );
    }
    lines.push('');
  }
  const [fewest, most] = [SCALE_ROUTES[0], SCALE_ROUTES.at(-1)!];
  const cost = (adapter: AdapterName, shape: Shape, scenario: string) =>
    SCALE_ROUTES.map((routes) => costs.get([adapter, shape, scenario, routes].join('|'))!);
  const sizes = `${SCALE_ROUTES.map((r) => `${r} routes`).join(' | ')} | ${most} ÷ ${fewest} |`;
  const columns = `${SCALE_ROUTES.map(() => '---:|').join('')}---:|`;
  lines.push(
    '## Scale: what nestjs-cors adds as the app grows',
    '',
    'Nanoseconds the front door adds per request (its decision and the headers it writes), measured inside one process ' +
      '(`bench/front-door-cost.ts`: the same request with and without it, round by round, median of the differences; ' +
      `the median of ${COST_PROCESSES} processes). ` +
      'Route shapes: literal, `/cN` and `/cN/:id`; param-first, `/:tenant/cN` and `/:tenant/cN/:id`.',
    '',
    `| adapter | shape | scenario | ${sizes}`,
    `|---|---|---|${columns}`,
  );
  for (const adapter of ADAPTERS) {
    for (const shape of SHAPES) {
      for (const { name } of SCALE_SCENARIOS) {
        const nanos = cost(adapter, shape, name);
        lines.push(
          `| ${adapter} | ${shape} | ${name} | ${nanos.map((n) => n.toFixed(0)).join(' | ')} | ${times(nanos.at(-1)! / nanos[0])} |`,
        );
      }
    }
  }
  lines.push(
    '',
    'The whole server, CPU µs/req, nestjs-cors next to the same app without CORS, side by side; the difference is the ' +
      "median of the rounds' differences, and is within the noise of the whole (a preflight is a 404 without CORS).",
    '',
    `| adapter | shape | scenario | variant | ${sizes}`,
    `|---|---|---|---|${columns}`,
  );
  for (const adapter of ADAPTERS) {
    for (const shape of SHAPES) {
      for (const { name } of SCALE_SCENARIOS) {
        const { none, ours, added } = scale(adapter, shape, name);
        for (const [variant, cpu] of [
          ['no CORS', none],
          ['nestjs-cors', ours],
          ['difference', added],
        ] as const) {
          lines.push(
            `| ${adapter} | ${shape} | ${name} | ${variant} | ${cpu.map((c) => c.toFixed(1)).join(' | ')} | ${times(cpu.at(-1)! / cpu[0])} |`,
          );
        }
      }
    }
  }
  lines.push(
    '',
    '## Targets',
    '',
    'All from this run; ratios of server CPU are medians of the ratios of rounds measured side by side.',
    '',
  );
  const target = (label: string, value: number, op: '≤' | '<', limit: number, detail = '') => {
    const met = op === '<' ? value < limit : value <= limit;
    lines.push(
      `- ${met ? 'met' : '**missed**'}: ${label}: ${value.toFixed(2)}× (target ${op} ${limit.toFixed(2)}×)${detail}`,
    );
  };
  for (const adapter of ADAPTERS) {
    const versus = (scenario: string, base: Variant) =>
      cpuRatio(get(adapter, 'nestjs-cors', scenario), get(adapter, base, scenario));
    target(`${adapter}, allowed actual GET vs no CORS`, versus('allowed actual GET', 'none'), '≤', GET_LIMIT[adapter]);
    for (const scenario of ['accepted preflight', 'rejected preflight', 'disallowed-origin GET']) {
      target(`${adapter}, ${scenario} vs enableCors`, versus(scenario, 'enableCors'), '<', 1);
    }
    for (const shape of SHAPES) {
      for (const { name } of SCALE_SCENARIOS) {
        const nanos = cost(adapter, shape, name);
        const detail = `; ${nanos[0].toFixed(0)} ns at ${fewest} routes, ${nanos.at(-1)!.toFixed(0)} ns at ${most}`;
        target(
          `${adapter}, ${shape}, ${name}: what the front door adds at ${most} routes vs ${fewest}`,
          nanos.at(-1)! / nanos[0],
          '≤',
          SCALE_LIMIT,
          detail,
        );
      }
    }
  }
  return lines.join('\n') + '\n';
}

if (process.argv.includes('--soak')) {
  const { markdown, failed } = await soak(ADAPTERS, MAIN_ROUTES);
  process.stdout.write(`\n${markdown}`);
  writeFileSync(new URL('../../bench/soak.md', import.meta.url), markdown);
  if (failed) {
    process.stderr.write('\nFAIL: the soak got 5xx answers (see Targets above)\n');
    process.exitCode = 1;
  }
} else {
  pinLoadGenerator();
  const table = report(await measureAll(), await measureFrontDoorCosts());
  process.stdout.write(`\n${table}`);
  writeFileSync(new URL('../../bench/results.md', import.meta.url), table);
}
