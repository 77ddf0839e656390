import { validateHeaderValue } from 'node:http';
import { cpus } from 'node:os';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { type AdapterName, ALLOWED_ORIGIN, controllerCount } from './app.js';
import { BenchServer } from './bench-server.js';

/**
 * `npm run bench -- --soak`: per adapter, one nestjs-cors server (the bench app) under random requests, many of them
 * hostile or odd, for BENCH_SOAK_SECONDS (default 60). It must never answer 5xx, and its resident memory after a full
 * GC should grow by at most RSS_GROWTH_LIMIT_MB from the end of a warm-up (the first tenth) to the end. Requests go to
 * 127.0.0.1 only, and every header value is one Node's HTTP client would send too: no CR, LF or other ASCII control
 * character.
 */
const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 60);
const WARM_UP_SECONDS = SECONDS / 10;
const CONNECTIONS = 10;
const RSS_GROWTH_LIMIT_MB = 10;
const FAILURE_EXAMPLES = 5;

const randomInt = (n: number) => Math.floor(Math.random() * n);
const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)];
const chance = (probability: number) => Math.random() < probability;
const clip = (text: string) => (text.length > 80 ? `${text.slice(0, 80)}… (${text.length} characters)` : text);

/** What random text is made of: printable ASCII, tab and non-ASCII characters, never an ASCII control character. */
const TEXT = [
  ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)),
  '\t',
  'é',
  'ÿ',
  '\u0085',
  '\u00a0',
  '\u200b',
  '€',
  'а',
  '🦄',
  '\ufeff',
];
const randomText = () => Array.from({ length: 1 + randomInt(64) }, () => pick(TEXT)).join('');
/** One of `values`, or now and then random text. */
const anyOf = (values: readonly string[]) => (chance(0.1) ? randomText() : pick(values));

const ORIGINS = [
  ALLOWED_ORIGIN,
  'https://evil.example',
  'null',
  '',
  '*',
  'http://app.example.com',
  'https://APP.EXAMPLE.COM',
  'https://app.example.com:443',
  'https://app.example.com/',
  'https://app.example.com.',
  ' https://app.example.com',
  'https://app.example.com.evil.example',
  'https://evilapp.example.com',
  'https://app.example.co',
  'https://user@app.example.com',
  'https://app.example.com%2F@evil.example',
  'https://xn--pp-6kc.example.com', // the next one, as a browser sends it
  'https://аpp.example.com', // a Cyrillic а
  'https://app.example.com\u200b',
  'https://ａｐｐ.example.com',
  `${ALLOWED_ORIGIN}, https://evil.example`,
  `https://evil.example ${ALLOWED_ORIGIN}`,
  `https://${'a'.repeat(6_000)}.example.com`,
  ALLOWED_ORIGIN.repeat(250),
];

const REQUEST_METHODS = ['PUT', 'GET', 'POST', 'DELETE', 'PATCH', 'put', '', 'PUT, GET', ' PUT', 'X'.repeat(4_000)];

const REQUEST_HEADERS = [
  'content-type',
  'Content-Type, Authorization',
  'content-type,authorization',
  'authorization, x-evil',
  '',
  ' , ,content-type,,',
  'content type',
  '"content-type"',
  'content-type;q=1',
  'content-type\tauthorization',
  '(),/:;<=>?@[\\]{}',
  'x-ünïcode',
  Array.from({ length: 500 }, (_, i) => `x-header-${i}`).join(', '),
  'content-type, '.repeat(500),
  'a'.repeat(6_000),
];

/** `{c}` stands for a random controller's number. */
const PATHS = [
  '/c{c}',
  '/c{c}/42',
  '/c{c}/42?origin=https://evil.example',
  '/C{c}',
  '/c{c}00',
  '/c{c}/1/2',
  '/',
  '/no/such/route',
  '/acme/c{c}',
  '/%63{c}',
  '/c{c}/%E2%82%AC',
  '/c{c}/%zz',
  '/c{c}/%',
  '/c{c}/%00',
  '/c{c}/..%2F..%2Fetc',
  '/%2e%2e/c{c}',
  `/c{c}/${'a'.repeat(6_000)}`,
  `/${'x/'.repeat(3_000)}`,
];

const BODIES = ['', '{"name":"x"}', '{not json'];

type Sent = Pick<autocannon.Request, 'method' | 'path' | 'headers' | 'body'>;
interface Context {
  sent?: Sent;
  sentAt?: number;
}

function randomRequest(controllers: number): Sent {
  const method = pick(['GET', 'POST', 'PUT', 'OPTIONS'] as const);
  const headers: Record<string, string> = {};
  if (chance(0.9)) headers.origin = anyOf(ORIGINS);
  if (chance(0.05)) headers.Origin = anyOf(ORIGINS); // a second Origin line: autocannon writes each key as given
  if (method === 'OPTIONS' && chance(0.8)) headers['access-control-request-method'] = anyOf(REQUEST_METHODS);
  if (method === 'OPTIONS' && chance(0.5)) headers['access-control-request-headers'] = anyOf(REQUEST_HEADERS);
  const body = method === 'POST' || method === 'PUT' ? pick(BODIES) : '';
  if (body) headers['content-type'] = 'application/json';
  // autocannon writes header values as UTF-8: those bytes must be ones Node's HTTP client would also write
  for (const [name, value] of Object.entries(headers)) validateHeaderValue(name, Buffer.from(value).toString('latin1'));
  return { method, path: pick(PATHS).replace('{c}', String(randomInt(controllers))), headers, body };
}

interface SoakResult {
  adapter: AdapterName;
  statuses: Map<number, number>;
  answered: number;
  serverErrors: number;
  /** A few of the requests answered with 5xx, to reproduce them. */
  failures: string[];
  connectionErrors: number;
  afterWarmUp: NodeJS.MemoryUsage;
  atEnd: NodeJS.MemoryUsage;
  /** In µs, after the warm-up. */
  latency: RecordableHistogram;
}

async function soakOne(adapter: AdapterName, routes: number): Promise<SoakResult> {
  const server = await BenchServer.start({ adapter, variant: 'nestjs-cors', routes, shape: 'literal' });
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  const latency = createHistogram();
  const controllers = controllerCount(routes);
  // autocannon hands both callbacks the connection's context, and a connection has one request in flight, so the
  // request built last is the one answered. Latency is timed here too: autocannon's own goes wrong once the server
  // closes a connection, as Fastify does after a body it cannot parse.
  const request = {
    setupRequest: (defaults: autocannon.Request, context: Context) => {
      context.sent = { ...defaults, ...randomRequest(controllers) };
      context.sentAt = performance.now();
      return context.sent;
    },
    onResponse: (status: number, body: string, context: Context) => {
      latency.record(Math.max(1, Math.round((performance.now() - context.sentAt!) * 1000)));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500 && failures.length < FAILURE_EXAMPLES) {
        const { method, path, headers } = context.sent!;
        const sentHeaders = Object.entries(headers!).map(([name, value]) => `${name}: ${clip(String(value))}`);
        failures.push(`${method} ${clip(path!)} ${JSON.stringify(sentHeaders)} → ${status} ${clip(body)}`);
      }
    },
  };
  const drive = (seconds: number) =>
    autocannon({ url: server.url, connections: CONNECTIONS, duration: seconds, requests: [request] });
  try {
    process.stderr.write(`  ${adapter}: soaking for ${SECONDS} s\n`);
    const warmUp = await drive(WARM_UP_SECONDS);
    const afterWarmUp = await server.memory();
    latency.reset();
    const result = await drive(SECONDS - WARM_UP_SECONDS);
    const atEnd = await server.memory();
    const counts = [...statuses];
    return {
      adapter,
      statuses,
      answered: counts.reduce((sum, [, count]) => sum + count, 0),
      serverErrors: counts.reduce((sum, [status, count]) => sum + (status >= 500 ? count : 0), 0),
      failures,
      connectionErrors: warmUp.errors + result.errors,
      afterWarmUp,
      atEnd,
      latency,
    };
  } finally {
    await server.stop();
  }
}

/** Soaks each adapter in turn; `failed` when any answered 5xx. */
export async function soak(
  adapters: readonly AdapterName[],
  routes: number,
): Promise<{ markdown: string; failed: boolean }> {
  const results: SoakResult[] = [];
  for (const adapter of adapters) results.push(await soakOne(adapter, routes));
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  const ms = (micros: number) => `${(micros / 1000).toFixed(1)} ms`;
  const growth = (r: SoakResult, measure: 'rss' | 'heapUsed') => r.atEnd[measure] - r.afterWarmUp[measure];
  const lines = [
    '# nestjs-cors soak',
    '',
    `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}; ` +
      `per adapter, one nestjs-cors server (the bench app, ${routes} routes) for ${SECONDS} s, autocannon with ${CONNECTIONS} connections. ` +
      'Every request is random: allowed, look-alike, `null`, overlong, non-ASCII, garbage and multiple origins; valid, huge and malformed ' +
      'preflight request headers and methods; GET, POST, PUT and preflights; existing, unknown, %-encoded and very long paths. ' +
      `Memory after a full GC, at the end of a ${WARM_UP_SECONDS} s warm-up and at the end: RSS includes what V8 and malloc keep ` +
      'for reuse, which comes and goes, while heap used counts only what JavaScript still holds. Latency, from sending a ' +
      'request to the end of its answer, after the warm-up; requests and statuses throughout.',
    '',
    '| adapter | requests answered | statuses | 5xx | connection errors | RSS after warm-up | RSS at end | RSS growth | heap used growth | p50 latency | p99 latency |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.adapter} | ${r.answered} | ${[...r.statuses]
          .sort(([a], [b]) => a - b)
          .map(([status, count]) => `${status}: ${count}`)
          .join(', ')} | ` +
        `${r.serverErrors} | ${r.connectionErrors} | ${mb(r.afterWarmUp.rss)} | ${mb(r.atEnd.rss)} | ${mb(growth(r, 'rss'))} | ${mb(growth(r, 'heapUsed'))} | ` +
        `${ms(r.latency.percentile(50))} | ${ms(r.latency.percentile(99))} |`,
    ),
    '',
    '## Targets',
    '',
  ];
  for (const r of results) {
    if (r.serverErrors === 0) lines.push(`- met: ${r.adapter}, no 5xx in ${r.answered} answers`);
    else
      lines.push(
        `- **FAIL**: ${r.adapter}, ${r.serverErrors} requests answered with 5xx, among them:`,
        ...r.failures.map((failure) => `  - \`${failure}\``),
      );
    const met = growth(r, 'rss') <= RSS_GROWTH_LIMIT_MB * 1e6;
    lines.push(
      `- ${met ? 'met' : '**missed**'}: ${r.adapter}, RSS growth ${mb(growth(r, 'rss'))} (target ≤ ${RSS_GROWTH_LIMIT_MB} MB; heap used: ${mb(growth(r, 'heapUsed'))})`,
    );
  }
  return { markdown: lines.join('\n') + '\n', failed: results.some((r) => r.serverErrors > 0) };
}
