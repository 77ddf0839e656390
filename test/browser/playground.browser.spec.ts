import 'reflect-metadata';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { LogLevel } from '@nestjs/common';
import type { Browser, Page } from 'playwright-core';
import { DecisionLog } from '../../example/playground/decisions.js';
import { banner, type RunningPlayground, startPlayground } from '../../example/playground/server.js';
import { launchBrowser } from '../../example/playground/chromium.js';

/** What a test run prints: warnings and errors, not Nest's module and route mapping lines. */
const QUIET: LogLevel[] = ['warn', 'error', 'fatal'];

/** What the server panel shows of one request. */
interface Step {
  text: string;
  policy?: string;
  route?: string;
  reasons: string[];
}

/** Sends the form as it stands, once the page says it is done: what each panel shows. */
async function send(page: Page) {
  const before = await page.evaluate(() => document.body.dataset.sent ?? '0');
  await page.click('#send');
  await page.waitForFunction((before) => (document.body.dataset.sent ?? '0') !== before, before);
  const text = async (selector: string) => (await page.textContent(selector)) ?? '';
  const steps = await page.$$eval('#server .step', (elements) =>
    elements.map((step) => ({
      text: step.textContent ?? '',
      policy: step.querySelector('.policy')?.textContent ?? undefined,
      route: step.querySelector('.route')?.textContent ?? undefined,
      reasons: Array.from(step.querySelectorAll('.reason'), (reason) => reason.textContent ?? ''),
    })),
  );
  const why = await page.$$eval('#browser .why', (elements) => elements.map((element) => element.textContent ?? ''));
  return { browser: await text('#browser'), server: await text('#server'), steps: steps as Step[], why };
}

/** Clicks one of the WebSocket buttons, once the page says it is done: what each side of the panel shows. */
async function openWebSocket(page: Page, button: '#ws-allowed' | '#ws-other') {
  const before = await page.evaluate(() => document.body.dataset.websockets ?? '0');
  await page.click(button);
  await page.waitForFunction((before) => (document.body.dataset.websockets ?? '0') !== before, before);
  return {
    browser: (await page.textContent('#ws-browser')) ?? '',
    server: (await page.textContent('#ws-server')) ?? '',
  };
}

/** Clicks one of the guestbook buttons, once the page says it is done: what each side of the panel shows. */
async function callGuestbook(page: Page, button: '#write-here' | '#read-other' | '#write-other') {
  const before = await page.evaluate(() => document.body.dataset.guestbook ?? '0');
  await page.click(button);
  await page.waitForFunction((before) => (document.body.dataset.guestbook ?? '0') !== before, before);
  const steps = await page.$$eval('#writes-server .step', (elements) =>
    elements.map((step) => ({
      text: step.textContent ?? '',
      policy: step.querySelector('.policy')?.textContent ?? undefined,
      route: step.querySelector('.route')?.textContent ?? undefined,
      reasons: Array.from(step.querySelectorAll('.reason'), (reason) => reason.textContent ?? ''),
    })),
  );
  return { browser: (await page.textContent('#writes-browser')) ?? '', steps: steps as Step[] };
}

async function sendPreset(page: Page, preset: string) {
  await page.selectOption('#preset', preset);
  return send(page);
}

/** The id of the last request the API recorded. */
async function lastDecision(playground: RunningPlayground): Promise<number> {
  return ((await (await fetch(`${playground.playgroundUrl}/decisions?since=-1`)).json()) as { lastId: number }).lastId;
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

describe('the CORS playground (npm start)', () => {
  let playground: RunningPlayground;
  let page: Page;

  beforeAll(async () => {
    playground = await startPlayground(0, 0, { logLevels: QUIET });
    page = await browser.newPage();
    await page.goto(playground.playgroundUrl);
  }, 60_000);
  afterAll(async () => {
    await page?.close();
    await playground?.close();
  });

  it("shows every route's policy, from the module's own audit", async () => {
    await page.waitForFunction(() => !document.getElementById('audit-table')!.textContent!.startsWith('loading'));
    const table = (await page.textContent('#audit-table')) ?? '';
    expect(table.split('\n')[0]).toMatch(/^method +path +handler +origin/);
    expect(table).toMatch(/PUT +\/partner\/orders\/:id +\w+Controller\.\w+/);
    // The global policy's fields name forRootAsync, where they came from.
    expect(table).toMatch(
      /GET +\/users +UsersController\.list +http:\/\/localhost:\d+, [^←]+ ← forRootAsync +http:\/\/localhost:\d+, [^←]+ ← forRootAsync +true ← forRootAsync/,
    );
    expect(table).toMatch(/ALL +\/health +forRootAsync paths\[0\] +\* ← forRootAsync paths\[0\] \(\/health\)/);
  });

  it('shows a request the policy allows as readable, the headers the server sent, its policy and that its handler ran', async () => {
    const { browser, server, steps } = await sendPreset(page, 'GET /users');
    expect(browser).toContain('Response readable');
    expect(browser).toContain('Status 200');
    expect(server).toContain('Allowed: CORS headers sent');
    expect(server).toContain(`access-control-allow-origin: ${playground.playgroundUrl}`);
    expect(steps).toEqual([
      expect.objectContaining({
        policy: 'Decided by the global policy (forRootAsync): its origin',
        route: 'Route: UsersController.list (GET /users) · handler ran',
        reasons: [],
      }),
    ]);
  });

  it('shows a refused preflight: blocked in the browser, the one reason the server gave, and the named policy that gave it', async () => {
    const { browser, server, steps } = await sendPreset(page, 'PUT /partner/orders/7');
    expect(browser).toContain('Blocked by the browser');
    expect(server).toContain('Preflight: OPTIONS /partner/orders/7 for PUT');
    expect(steps).toEqual([
      expect.objectContaining({
        policy: "Decided by named policy 'partner': its origin",
        route: 'Route: PartnerController.update (PUT /partner/orders/:id) · handler did not run',
        reasons: ['CORS preflight rejected: origin not allowed'],
      }),
    ]);
  });

  it('names a method and a header the policy does not allow, and the field of the policy that refused it', async () => {
    const method = await sendPreset(page, 'DELETE /users/7');
    expect(method.steps).toEqual([
      expect.objectContaining({
        policy: 'Decided by the global policy (forRootAsync): its methods',
        route: 'Route: none matches (the global policy applies) · handler did not run',
        reasons: ['CORS preflight rejected: method not allowed'],
      }),
    ]);
    const header = await sendPreset(page, 'GET /users custom');
    expect(header.steps).toEqual([
      expect.objectContaining({
        policy: 'Decided by the global policy (forRootAsync): its allowedHeaders',
        route: 'Route: UsersController.list (GET /users) · handler did not run',
        reasons: ['CORS preflight rejected: header not allowed'],
      }),
    ]);
  });

  it('shows a preflighted JSON POST: the preflight, then the request, whose handler ran', async () => {
    const { browser, server, steps } = await sendPreset(page, 'POST /users json');
    expect(browser).toContain('Status 201');
    expect(server).toContain('Preflight accepted');
    expect(server).toContain('POST /users → 201');
    expect(steps.map((step) => step.route)).toEqual([
      'Route: UsersController.create (POST /users) · handler did not run',
      'Route: UsersController.create (POST /users) · handler ran',
    ]);
  });

  it('shows a route-level @Cors(false) refusing a cross-origin POST before its handler runs', async () => {
    const { browser, server, steps } = await sendPreset(page, 'POST /public/admin');
    expect(browser).toContain('Blocked by the browser');
    expect(server).toContain('POST /public/admin → 403');
    expect(steps).toEqual([
      expect.objectContaining({
        policy: 'Decided by route-level @Cors on PublicController.admin: its origin',
        route: 'Route: PublicController.admin (POST /public/admin) · handler did not run',
        reasons: ['CORS request rejected: origin not allowed'],
      }),
    ]);
  });

  it('names a controller-level @Cors, and a paths entry for a path no controller serves', async () => {
    const open = await sendPreset(page, 'GET /public');
    expect(open.browser).toContain('Response readable');
    expect(open.why).toEqual([]);
    expect(open.steps).toEqual([
      expect.objectContaining({
        policy: 'Decided by controller-level @Cors on PublicController: its origin',
        route: 'Route: PublicController.list (GET /public) · handler ran',
        reasons: [],
      }),
    ]);
    const health = await sendPreset(page, 'GET /health');
    expect(health.browser).toContain('{"status":"ok"}');
    expect(health.steps).toEqual([
      expect.objectContaining({
        policy: 'Decided by paths entry forRootAsync paths[0] (/health): its origin',
        route: 'Route: forRootAsync paths[0] (ALL /health) · handler ran',
        reasons: [],
      }),
    ]);
  });

  it("explains why the browser blocks a request with credentials that the server allowed with origin '*'", async () => {
    const { browser, server, why } = await sendPreset(page, 'GET /public credentials');
    expect(browser).toContain('Blocked by the browser');
    expect(server).toContain('Allowed: CORS headers sent');
    expect(server).toContain('access-control-allow-origin: *');
    expect(why).toEqual([
      'Why: the server allowed it, but answered Access-Control-Allow-Origin: *, which is never valid for a request with ' +
        'credentials, so the browser refuses to let the page read the response. To allow it, list the origins ' +
        `(origin: ['${playground.playgroundUrl}']) and set credentials: true on that policy (controller-level @Cors on PublicController).`,
    ]);
  });

  it('shows a WebSocket opened from the allowed page, and one from another origin refused at its handshake', async () => {
    const allowed = await openWebSocket(page, '#ws-allowed');
    expect(allowed.browser).toContain('Opened');
    expect(allowed.browser).toContain('The gateway echoed hi.');
    expect(allowed.server).toBe(
      `What the server decidedThe gateway saw a connection from ${playground.playgroundUrl}.`,
    );
    const other = await openWebSocket(page, '#ws-other');
    const otherOrigin = playground.playgroundUrl.replace('localhost', '127.0.0.1');
    expect(other.browser).toContain(`What the page saw (${otherOrigin})Not opened`);
    expect(other.browser).toContain('Closed with code 1006');
    expect(other.server).toContain('CORS request rejected: origin not allowed');
    expect(other.server).toContain(`("${otherOrigin}" GET /chat, ChatGateway)`);
    expect(other.server).toContain('The gateway saw no connection.');
  });

  it("shows writes trusted apart from reads: the guestbook is read from any origin, and signed only from the page's own", async () => {
    const otherOrigin = playground.playgroundUrl.replace('localhost', '127.0.0.1');
    const here = await callGuestbook(page, '#write-here');
    expect(here.browser).toContain(`What the page saw (${playground.playgroundUrl})Response readable`);
    expect(here.steps).toEqual([
      expect.objectContaining({
        text: expect.stringContaining(`access-control-allow-origin: ${playground.playgroundUrl}`),
        policy: "Decided by named policy 'guestbook': its writeOrigin",
        route: 'Route: GuestbookController.sign (POST /guestbook) · handler ran',
        reasons: [],
      }),
    ]);
    const read = await callGuestbook(page, '#read-other');
    expect(read.browser).toContain(`What the page saw (${otherOrigin})Response readable`);
    expect(read.steps).toEqual([
      expect.objectContaining({
        text: expect.stringContaining('access-control-allow-origin: *'),
        policy: "Decided by named policy 'guestbook': its origin",
        route: 'Route: GuestbookController.read (GET /guestbook) · handler ran',
      }),
    ]);
    const other = await callGuestbook(page, '#write-other');
    expect(other.browser).toContain(`What the page saw (${otherOrigin})Blocked by the browser`);
    expect(other.steps).toEqual([
      expect.objectContaining({
        text: expect.stringContaining('POST /guestbook → 403'),
        policy: "Decided by named policy 'guestbook': its writeOrigin",
        route: 'Route: GuestbookController.sign (POST /guestbook) · handler did not run',
        reasons: ['CORS request rejected: origin not allowed'],
      }),
    ]);
  });

  it('says a request with a malformed header name was never sent, rather than blocked by CORS', async () => {
    await page.selectOption('#preset', 'GET /users');
    await page.fill('#header', 'X Bad: 1');
    const before = await lastDecision(playground);
    const { browser, server, why } = await send(page);
    expect(browser).toContain('Not sent');
    expect(browser).not.toContain('Blocked by the browser');
    expect(why).toEqual([
      'The browser refused to send it: not a valid header name ("X Bad"). fetch() throws this TypeError before any ' +
        'request leaves the page: it is not a CORS block.',
    ]);
    expect(server).toContain('Nothing was sent: the server received no request.');
    expect(await lastDecision(playground)).toBe(before);
  });
});

describe('the CORS playground with CORS_ORIGINS set', () => {
  let playground: RunningPlayground;
  let page: Page;
  const configured = process.env.CORS_ORIGINS;

  beforeAll(async () => {
    process.env.CORS_ORIGINS = 'https://other.example';
    playground = await startPlayground(0, 0, { logLevels: QUIET });
    page = await browser.newPage();
    await page.goto(playground.playgroundUrl);
  }, 60_000);
  afterAll(async () => {
    if (configured === undefined) delete process.env.CORS_ORIGINS;
    else process.env.CORS_ORIGINS = configured;
    await page?.close();
    await playground?.close();
  });

  it("adds CORS_ORIGINS to the playground's own origin: the global-policy presets still work", async () => {
    expect(playground.origins).toEqual([playground.playgroundUrl, 'https://other.example']);
    const { browser, server } = await sendPreset(page, 'GET /users');
    expect(browser).toContain('Response readable');
    expect(server).toContain(`access-control-allow-origin: ${playground.playgroundUrl}`);
  });

  it("accepts the preflight of the banner's accepted curl line, and one from a CORS_ORIGINS origin", async () => {
    const curl = banner(playground)
      .split('\n')
      .find((line) => line.includes('curl') && line.includes('Access-Control-Request-Headers'))!;
    const [, method, url] = /-X (\w+) (\S+)/.exec(curl)!;
    const headers = Object.fromEntries(
      [...curl.matchAll(/-H '([^:]+): ([^']*)'/g)].map(([, name, value]) => [name, value]),
    );
    expect(headers.Origin).toBe(playground.playgroundUrl);
    expect(await statusOf(method, url, headers)).toBe(204);
    expect(await statusOf(method, url, { ...headers, Origin: 'https://other.example' })).toBe(204);
  });
});

describe("the playground's output", () => {
  it("prints Nest's startup lines for npm start, and nothing at the levels a test passes", async () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let loud: string;
    let quiet: string;
    try {
      await (await startPlayground(0, 0)).close();
      loud = write.mock.calls.map(([chunk]) => String(chunk)).join('');
      write.mockClear();
      await (await startPlayground(0, 0, { logLevels: QUIET })).close();
      quiet = write.mock.calls.map(([chunk]) => String(chunk)).join('');
    } finally {
      write.mockRestore();
    }
    expect(loud).toContain('Nest application successfully started');
    expect(loud).toContain('Mapped {/users, GET} route');
    expect(quiet).toBe('');
  });
});

describe('the decision log', () => {
  it('keeps one refusal as the reason and the other Cors lines of the request apart', async () => {
    const log = new DecisionLog([]);
    const server = createServer((_req, res) => {
      log.logger.debug('origin function lookup did not answer for "https://a.example" within 50 ms; denied', 'Cors');
      log.logger.debug(
        'CORS preflight rejected: origin not allowed ("https://a.example" PUT /x, XController.put)',
        'Cors',
      );
      res.statusCode = 403;
      res.end();
    });
    log.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
      await statusOf('OPTIONS', url, { Origin: 'https://a.example', 'Access-Control-Request-Method': 'PUT' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const [decision] = log.since(0);
    expect(decision).toMatchObject({
      preflight: true,
      status: 403,
      reason: 'CORS preflight rejected: origin not allowed',
      field: 'origin',
      notes: ['origin function lookup did not answer for "https://a.example" within 50 ms; denied'],
    });
  });
});

/** Sends a request from Node (which, unlike a page, may set `Origin`) and gives its status. */
function statusOf(method: string, url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}
